package hunt

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"webshellbeat/module/accesslog"
)

// SIEMs export search results as CSV too: Microsoft Sentinel's Log
// Analytics ("Export to CSV", with "TimeGenerated [UTC]" and the other
// datetime columns in the portal's "11/20/2026, 10:15:02.447 AM") and Splunk
// (_raw, _time, host, source, sourcetype); and so does Eric Zimmerman's
// EvtxECmd, which KAPE runs over collected EVTX files (EventId, Channel,
// Provider, Computer, TimeCreated, Payload). hunt reads such a file row by row
// as the JSON rows of the same export: each row becomes an object of its
// non-empty columns, with the datetime columns renamed ("TimeGenerated") and
// written in RFC 3339, and goes through readJSON's jsonReader. Other CSV
// files are not logs hunt reads.

// FormatCSV is a Log Analytics, Splunk or EvtxECmd CSV file.
const FormatCSV Format = "csv"

// maxCSVRows bounds the rows of one CSV export hunt reads: the rows are read
// into memory to be put in time order (both SIEMs list the newest first,
// and a CSV field may span lines, so the file cannot be read backwards
// line by line). The portal exports at most 30,000 rows, Splunk's UI
// 50,000 by default.
const maxCSVRows = 1_000_000

// csvExport reports whether a file's first line is the header of a Log
// Analytics or Splunk export.
func csvExport(first string) bool {
	first = strings.TrimSpace(first)
	if !strings.Contains(first, ",") {
		return false
	}
	r := csv.NewReader(strings.NewReader(first))
	header, err := r.Read()
	if err != nil {
		return false
	}
	return slices.Contains(header, "TimeGenerated [UTC]") || slices.Contains(header, "_raw") && slices.Contains(header, "_time") ||
		slices.Contains(header, "Payload") && slices.Contains(header, "EventId") || // EvtxECmd's (KAPE)
		slices.Contains(header, "Id") && slices.Contains(header, "Message") && slices.Contains(header, "TimeCreated") &&
			(slices.Contains(header, "LogName") || slices.Contains(header, "ProviderName")) // Get-WinEvent | Export-Csv
}

// powerShellType is the line Windows PowerShell 5.1's Export-Csv writes
// before the header unless told -NoTypeInformation.
const powerShellType = "#TYPE "

// csvHeaderLine is the line of text that holds a CSV export's header: the
// first, or the second after PowerShell's #TYPE line.
func csvHeaderLine(text string) string {
	first, rest, _ := strings.Cut(text, "\n")
	if strings.HasPrefix(first, powerShellType) {
		first, _, _ = strings.Cut(rest, "\n")
	}
	return first
}

// parseCSVTime reads RFC 3339 (converted portal times, Splunk's _time) or
// EvtxECmd's "2006-01-02 15:04:05.0000000", which is UTC.
func parseCSVTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02 15:04:05.9999999", s)
}

// portalTime is the portal's CSV datetime.
const portalTime = "1/2/2006, 3:04:05.000 PM"

func readCSV(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		rows, err := csvRows(r)
		if err != nil {
			yield(Record{Where: name, Err: fmt.Errorf("%s: %w", name, err)})
			if len(rows) == 0 {
				return
			}
		}
		j := &jsonReader{name: name, access: accesslog.WithServer(serverOf(name, ""))}
		for _, row := range rows {
			for _, rec := range j.records(row.obj, fmt.Sprintf("%s:%d", name, row.line), row.raw, row.err) {
				rec.Zoneless = rec.Zoneless || row.zoneless
				if !yield(rec) {
					return
				}
			}
		}
		for _, rec := range j.flush() {
			if !yield(rec) {
				return
			}
		}
	}
}

type csvRow struct {
	line int
	obj  map[string]any
	raw  string
	at   time.Time
	err  error
	// zoneless: the row's time was local, without a zone (Export-Csv's).
	zoneless bool
}

// csvRows reads the rows as objects, oldest first.
func csvRows(r io.Reader) ([]csvRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == nil && len(header) == 1 && strings.HasPrefix(header[0], powerShellType) {
		header, err = cr.Read()
	}
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	var rows []csvRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				return rows, fmt.Errorf("csv: %w", err)
			}
		}
		if len(rows) == maxCSVRows {
			return rows, fmt.Errorf("more than %d rows: the rest is not read (split the export)", maxCSVRows)
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, csvObject(header, rec, line))
	}
	// The stream must be oldest first: both SIEMs list the newest first,
	// and EvtxECmd writes one log file after another. Rows of the same
	// time keep their order, oldest first; rows without a time
	// (unreadable ones) come first.
	timed := slices.DeleteFunc(slices.Clone(rows), func(r csvRow) bool { return r.at.IsZero() })
	if len(timed) > 1 && timed[0].at.After(timed[len(timed)-1].at) {
		slices.Reverse(rows)
	}
	slices.SortStableFunc(rows, func(a, b csvRow) int { return a.at.Compare(b.at) })
	return rows, nil
}

// csvObject turns a row into an object of its non-empty columns. A
// "Name [UTC]" column is the portal's datetime: it becomes Name, in RFC
// 3339.
func csvObject(header, rec []string, line int) csvRow {
	row := csvRow{line: line, obj: map[string]any{}, raw: strings.Join(rec, ",")}
	if len(rec) != len(header) {
		row.err = fmt.Errorf("csv row of %d fields under a header of %d", len(rec), len(header))
		return row
	}
	for i, v := range rec {
		if v == "" {
			continue
		}
		col := header[i]
		if name, ok := strings.CutSuffix(col, " [UTC]"); ok {
			t, err := time.Parse(portalTime, v)
			if err != nil {
				row.err = fmt.Errorf("column %q: %q is not the portal's time (%s)", col, v, portalTime)
				return row
			}
			col, v = name, t.UTC().Format(time.RFC3339Nano)
		}
		row.obj[col] = v
	}
	for _, k := range []string{"TimeGenerated", "_time", "TimeCreated"} {
		if s, ok := row.obj[k].(string); ok {
			row.at, _ = parseCSVTime(s)
			break
		}
	}
	if s, ok := row.obj["TimeCreated"].(string); ok && row.at.IsZero() {
		// Export-Csv writes the culture's local time: read as UTC here and
		// marked zoneless, for --timezone.
		if t, err := eventViewerTime(s); err == nil {
			row.at, row.zoneless = t, true
			row.obj["TimeCreated"] = t.Format(time.RFC3339Nano)
		}
	}
	return row
}
