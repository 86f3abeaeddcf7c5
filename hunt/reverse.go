package hunt

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"strings"
	"time"

	"webshellbeat/module/accesslog"
	"webshellbeat/module/windows"
)

// Splunk lists search results newest first, and so do its exports, and so
// does PowerShell's Get-WinEvent (ConvertTo-Json -Compress, one object per
// line); hunt must see each file's events oldest first (the merge keeps each
// stream's order, and a child process before its parent has no ancestry).
// So an NDJSON file whose first event is newer than its last is read from
// its last line to its first.

// newestFirst reports whether the NDJSON file r holds events with the first
// one's time after the last one's: Splunk results by their _time, other
// lines by the @timestamp hunt maps them to. It rewinds r.
func newestFirst(r io.ReadSeeker) bool {
	defer r.Seek(0, io.SeekStart)
	var first, last string
	for _, line := range lines(r) {
		if strings.TrimSpace(line) != "" {
			first = line
			break
		}
	}
	for _, line := range linesReversed(r) {
		if strings.TrimSpace(line) != "" {
			last = line
			break
		}
	}
	t1, ok1 := splunkTime(first)
	t2, ok2 := splunkTime(last)
	if !ok1 || !ok2 {
		t1, ok1 = lineTime(first)
		t2, ok2 = lineTime(last)
	}
	return ok1 && ok2 && t1.After(t2)
}

// lineTime is the @timestamp of the first document one JSON line maps to,
// read alone.
func lineTime(line string) (time.Time, bool) {
	v, err := windows.DecodeJSON([]byte(line))
	if err != nil {
		return time.Time{}, false
	}
	for _, rec := range (&jsonReader{access: accesslog.WithServer("")}).records(v, "", line, nil) {
		if t := recordTime(rec); !t.IsZero() {
			return t, true
		}
	}
	return time.Time{}, false
}

func splunkTime(line string) (time.Time, bool) {
	var v any
	if json.Unmarshal([]byte(line), &v) != nil {
		return time.Time{}, false
	}
	res, ok := splunkResult(v)
	if !ok {
		return time.Time{}, false
	}
	t, err := splunkEventTime(res)
	return t, err == nil
}

// linesReversed yields the lines of r from the last to the first, each with
// its 1-based line number (r is read once forwards to count them).
func linesReversed(r io.ReadSeeker) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return
		}
		total := 0
		for range lines(r) {
			total++
		}
		end, err := r.Seek(0, io.SeekEnd)
		if err != nil {
			return
		}
		const chunk = 64 << 10
		var carry []byte // the start of a line whose end was read already
		n := total
		trailing := true // the file's last byte may end its last line
		for pos := end; pos > 0 || len(carry) > 0; {
			if pos == 0 {
				if !yield(n, strings.TrimRight(string(carry), "\r")) {
					return
				}
				return
			}
			size := int64(chunk)
			if pos < size {
				size = pos
			}
			pos -= size
			buf := make([]byte, size, size+int64(len(carry)))
			if _, err := r.Seek(pos, io.SeekStart); err != nil {
				return
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			buf = append(buf, carry...)
			if trailing && len(buf) > 0 && buf[len(buf)-1] == '\n' {
				buf = buf[:len(buf)-1]
			}
			trailing = false
			for {
				i := bytes.LastIndexByte(buf, '\n')
				if i < 0 {
					break
				}
				if !yield(n, strings.TrimRight(string(buf[i+1:]), "\r")) {
					return
				}
				n--
				buf = buf[:i]
			}
			carry = buf
		}
	}
}
