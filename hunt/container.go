package hunt

import (
	"fmt"
	"io"
	"iter"
	"maps"
	"strings"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/container"
	"webshellbeat/module/errorlog"
)

// readContainer reads a container runtime's log file (Docker's json-file,
// or CRI from containerd and CRI-O) of a web server container, or the
// output `docker logs -t` and `kubectl logs --timestamps` print: its access
// lines, error log lines and other output (module/container's Decoder).
// The server is told by the container's name (Kubernetes' file names
// carry it) or else by the file's first error log line. A malformed entry
// is reported and the rest read; a line joined from partial entries is
// where its last entry is.
func readContainer(name string, r io.ReadSeeker) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		parse := entryParser(r)
		server := pathServer(name)
		if server == "" {
			server = containerServer(r, parse)
		}
		d := container.NewDecoder(server)
		var j container.Joiner
		emit := func(where string, l container.Line, cut bool) bool {
			doc := d.Decode(l)
			if doc == nil {
				return true
			}
			maps.Copy(doc, container.FromPath(name)) // new maps for each document: the detector adds to them
			if !cut {
				return yield(Record{Doc: doc, Where: where})
			}
			err := fmt.Errorf("a line of more than %d bytes without a newline: cut there, the rest read as the next line", container.MaxLine)
			detection.Put(doc, "error.message", err.Error())
			return yield(Record{Doc: doc, Where: where, Err: fmt.Errorf("%s: %w", where, err)})
		}
		last := name
		for n, raw := range lines(r) {
			if strings.TrimSpace(raw) == "" {
				continue
			}
			last = fmt.Sprintf("%s:%d", name, n)
			l, partial, err := parse(raw)
			if err != nil {
				if !yield(errRecord(last, raw, err)) {
					return
				}
				continue
			}
			if whole, ok, cut := j.Add(l, partial); ok && !emit(last, whole, cut) {
				return
			}
		}
		for _, l := range j.Flush() { // the file ends within a line: what there is of it
			if !emit(last, l, false) {
				return
			}
		}
	}
}

// entryParser reads the file's first line for its form, and rewinds r:
// timestamped lines (container.Timestamped) when it is one and no runtime's
// entry, not even a damaged one (Docker's "{", CRI's stream after the
// time); else the runtime's entries (container.Parse).
func entryParser(r io.ReadSeeker) func(string) (container.Line, bool, error) {
	defer r.Seek(0, io.SeekStart)
	for _, raw := range lines(r) {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		l, err := container.Timestamped(raw)
		if err != nil || container.Is(raw) || strings.HasPrefix(l.Text, "stdout ") || strings.HasPrefix(l.Text, "stderr ") {
			break
		}
		return func(raw string) (container.Line, bool, error) {
			l, err := container.Timestamped(raw)
			return l, false, err
		}
	}
	return container.Parse
}

// containerEntries reports whether head holds a runtime's entries: its
// first line, or the next one when the first is damaged; a Docker entry
// longer than head is cut in it, and its opening tells.
func containerEntries(text string) bool {
	lines := strings.SplitN(text, "\n", 3)
	if len(lines) == 1 {
		return container.Is(text) || strings.HasPrefix(text, `{"log":"`)
	}
	return container.Is(lines[0]) || len(lines) == 3 && container.Is(lines[1])
}

// timestampedOutput reports whether head is a web server's output with
// the runtime's time before each line (`docker logs -t`, `kubectl logs
// --timestamps`): every whole line timestamped, one of them an error log
// or access line. A syslog file's lines, whose times have an offset and
// are followed by a host, are not.
func timestampedOutput(text string) bool {
	lines := strings.Split(text, "\n")
	web := false
	for _, raw := range lines[:max(1, len(lines)-1)] { // the last one may be cut
		l, err := container.Timestamped(raw)
		if err != nil {
			return false
		}
		web = web || errorlog.IsErrorLog(l.Text) || isAccessLine(l.Text)
	}
	return web
}

// isAccessLine reports whether line is a combined or common access line.
func isAccessLine(line string) bool {
	f := accesslog.Detect(line)
	return f == accesslog.FormatCombined || f == accesslog.FormatCommon
}

// pathServer is the server a container log's path names: Kubernetes'
// container name (nginx, httpd, php-fpm...), not the folders above it (a
// pod "shop-nginx-php" holds an nginx and a php-fpm container); "" for
// Docker's file names, which are ids.
func pathServer(name string) string {
	cname := strings.ToLower(detection.LookupString(container.FromPath(name), "container.name"))
	if strings.Contains(cname, "fpm") {
		return errorlog.PHPFPM
	}
	return serverOf(cname, "")
}

// containerServer returns the server of the file's first error log line
// ("" when none; see firstErrorLine), so that the output before it (the
// image's start-up messages) is the right server's too.
func containerServer(r io.ReadSeeker, parse func(string) (container.Line, bool, error)) string {
	doc := firstErrorLine(r, func(raw string) (string, bool) {
		l, _, err := parse(raw)
		return l.Text, err == nil
	})
	return detection.LookupString(doc, "event.module")
}
