package hunt

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"webshellbeat/module/windows"
)

// Event Viewer's "Save All Events As..." writes CSV (or tab-delimited text)
// with the header "Level,Date and Time,Source,Event ID,Task Category" and a
// sixth, unnamed column: the rendered message. It is what an administrator
// sends when asked for "the Security log" without being told to keep EVTX.
// hunt reads its Security 4688 and Sysmon rows by their message
// (windows.ParseMessage, as Splunk's classic text); the message of
// other events is text without their fields, so they are counted, not read.
//
// The file names no computer (hunt's --host gives one), and its time is the
// exporting machine's local time, without a zone, in its locale's format:
// read in --timezone. Sysmon's rows carry UtcTime, which is used instead.

// FormatEventViewer is Event Viewer's CSV or tab-delimited export.
const FormatEventViewer Format = "eventviewer"

// eventViewerColumns is the header Event Viewer writes (English Windows).
var eventViewerColumns = []string{"Level", "Date and Time", "Source", "Event ID", "Task Category"}

// isEventViewerHeader reports whether a file's first line is Event
// Viewer's header.
func isEventViewerHeader(first string) bool {
	_, ok := eventViewerHeader(first)
	return ok
}

// eventViewerHeader reports whether a first line is Event Viewer's header,
// comma- or tab-delimited; it returns the delimiter.
func eventViewerHeader(first string) (rune, bool) {
	first = strings.TrimRight(first, "\r\n\t, ")
	for _, sep := range []rune{',', '\t'} {
		if strings.Join(eventViewerColumns, string(sep)) == first {
			return sep, true
		}
	}
	return 0, false
}

// eventViewerTimes are the "Date and Time" layouts of the locales hunt
// reads: en-US (month first, 12-hour clock), day-first locales with a
// 24-hour clock (en-GB, fr-FR; de-DE with dots) and ISO dates. A date with
// a 12-hour clock is read month first, one with a 24-hour clock day first.
var eventViewerTimes = []string{"1/2/2006 3:04:05 PM", "2/1/2006 15:04:05", "2.1.2006 15:04:05", "2006-01-02 15:04:05", "2006/01/02 15:04:05"}

func readEventViewer(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		br := bufio.NewReader(r)
		header, _ := br.ReadString('\n')
		sep, ok := eventViewerHeader(strings.TrimPrefix(header, "\xef\xbb\xbf"))
		if !ok {
			yield(Record{Where: name, Err: fmt.Errorf("%s: not Event Viewer's header: %q", name, header)})
			return
		}
		cr := csv.NewReader(br)
		cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = sep, -1, true
		var recs []Record
		other := map[string]int{} // events not read, by source and id
		for {
			row, err := cr.Read()
			if err == io.EOF {
				break
			}
			line, _ := cr.FieldPos(0)
			where := fmt.Sprintf("%s:%d", name, line+1) // the header was read before cr
			var pe *csv.ParseError
			if err != nil && !(errors.As(err, &pe) && pe.Err == csv.ErrFieldCount) {
				recs = append(recs, Record{Where: name, Err: fmt.Errorf("%s: %w", where, err)})
				break
			}
			if len(recs) == maxCSVRows {
				recs = append(recs, Record{Where: name, Err: fmt.Errorf("%s: more than %d rows: the rest is not read (split the export)", name, maxCSVRows)})
				break
			}
			if rec, read := eventViewerRecord(where, row); read {
				recs = append(recs, rec)
			} else {
				other[row[2]+" "+row[3]]++
			}
		}
		// Event Viewer lists the newest first; the stream is oldest first.
		sortByTime(recs)
		for _, rec := range recs {
			if !yield(rec) {
				return
			}
		}
		if n := sumValues(other); n > 0 {
			yield(Record{Where: name, Err: fmt.Errorf("%s: %d events other than Security 4688 and Sysmon not read (%s): Event Viewer's CSV holds only their message text; save them as EVTX to hunt them all", name, n, MostFirst(other, 5))})
		}
	}
}

// eventViewerRecord reads one row. read is false for a well-formed row of an
// event hunt does not read as text, which is counted instead.
func eventViewerRecord(where string, row []string) (rec Record, read bool) {
	raw := strings.Join(row, ",")
	if len(row) < 6 {
		return errRecord(where, raw, fmt.Errorf("a row of %d fields: Event Viewer writes 6, the message last", len(row))), true
	}
	logName := windows.LogOfProvider(row[2])
	id, idErr := strconv.ParseUint(strings.TrimSpace(row[3]), 10, 32)
	if logName == "" || idErr != nil && logName == windows.ChannelSecurity {
		return Record{}, false // another log's event, or a Security event that is no 4688
	}
	if idErr != nil {
		return errRecord(where, raw, fmt.Errorf("column Event ID: %q is not a number", row[3])), true
	}
	r, read, err := windows.ParseMessage(logName, uint32(id), "", row[5])
	switch {
	case !read:
		return Record{}, false
	case err != nil:
		return errRecord(where, raw, err), true
	}
	zoneless := r.TimeCreated.IsZero() // Sysmon's UtcTime is UTC
	if zoneless {
		if r.TimeCreated, err = eventViewerTime(row[1]); err != nil {
			return errRecord(where, raw, err), true
		}
	}
	rec = windowsRecord(where, r, raw, nil)
	rec.Zoneless = zoneless
	return rec, true
}

// eventViewerTime reads a "Date and Time" cell as UTC; the caller marks it
// zoneless, for --timezone.
func eventViewerTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range eventViewerTimes {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("column Date and Time: %q is in none of the formats hunt reads (%s)", s, strings.Join(eventViewerTimes, ", "))
}

func recordTime(r Record) time.Time {
	t, _ := r.Doc["@timestamp"].(time.Time)
	return t
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// MostFirst lists the top keys of n with their counts, most first:
// "A 5, B 3, and 4 more".
func MostFirst(n map[string]int, top int) string {
	names := slices.Collect(maps.Keys(n))
	sort.Slice(names, func(i, j int) bool {
		if n[names[i]] != n[names[j]] {
			return n[names[i]] > n[names[j]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, r := range names[:min(top, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %d", r, n[r]))
	}
	if len(names) > top {
		parts = append(parts, fmt.Sprintf("and %d more", len(names)-top))
	}
	return strings.Join(parts, ", ")
}
