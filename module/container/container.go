// Package container reads the files in which container runtimes keep a
// container's output, and maps a web server container's lines to ECS. It is
// a pure library: no I/O, no libbeat.
//
// Two formats, the ones filebeat's container parser reads:
//
//   - Docker's json-file driver (/var/lib/docker/containers/ID/ID-json.log):
//     {"log":"line\n","stream":"stdout","time":"2026-11-26T10:00:01.1Z"}.
//     A line longer than 16 KiB is split over entries; all but the last lack
//     the final "\n".
//   - CRI, written by containerd and CRI-O (Kubernetes' /var/log/pods, linked
//     from /var/log/containers): "2026-11-26T10:00:01.1Z stdout F line", the
//     tag P for a part that the next entry continues.
//
// A web server in a container logs to its standard output and error (the
// official nginx and httpd images link their logs there; php:apache sets
// ErrorLog to /proc/self/fd/2), so one file holds the access lines, the
// error log lines and everything else the server's processes write, such
// as a web shell's commands' errors under mod_php. Decoder tells them apart.
//
// libbeat's readjson.DockerJSONReader (filebeat's container parser, which
// the beat uses) reads the same formats, but it logs a malformed entry and
// drops it; hunt reports each one with where and why, so this package
// parses the entries itself (checked against libbeat's reader in
// processor's tests).
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Line is one line of a container's output.
type Line struct {
	Time   time.Time // when the runtime read it
	Stream string    // stdout or stderr
	Text   string    // without its final newline
}

// MaxLine bounds a line joined from partial entries: a process that never
// writes a newline cannot make the reader hold its whole output. A line
// that reaches it and goes on is cut (Joiner.Add says so), and the rest
// starts another.
const MaxLine = 1 << 20

// Is reports whether raw is an entry of either format (a file's first line
// tells hunt the file's format).
func Is(raw string) bool {
	_, _, err := Parse(raw)
	return err == nil
}

// Parse reads one entry of either format; partial says the next entry
// continues its line.
func Parse(raw string) (l Line, partial bool, err error) {
	raw = strings.TrimRight(raw, "\r\n")
	if strings.HasPrefix(raw, "{") {
		return parseDocker(raw)
	}
	return parseCRI(raw)
}

// Timestamped reads a line of `docker logs -t` or `kubectl logs
// --timestamps`: the runtime's time (RFC 3339 in UTC, "Z"), a space and the
// line, of either stream (the stream is not told).
func Timestamped(raw string) (Line, error) {
	raw = strings.TrimRight(raw, "\r\n")
	stamp, text, _ := strings.Cut(raw, " ")
	if !strings.HasSuffix(stamp, "Z") {
		return Line{}, errors.New("timestamped line: want \"<time>Z <line>\"")
	}
	t, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return Line{}, fmt.Errorf("timestamped line: time: %w", err)
	}
	return Line{Time: t, Text: text}, nil
}

// dockerEntry is an entry of the json-file driver. attrs (the --log-opt
// labels and env) are not read.
type dockerEntry struct {
	Log    *string `json:"log"`
	Stream string  `json:"stream"`
	Time   string  `json:"time"`
}

func parseDocker(raw string) (Line, bool, error) {
	var e dockerEntry
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return Line{}, false, fmt.Errorf("docker json-file entry: %w", err)
	}
	if e.Log == nil || e.Time == "" {
		return Line{}, false, errors.New(`docker json-file entry: no "log" or no "time"`)
	}
	if err := checkStream(e.Stream); err != nil {
		return Line{}, false, fmt.Errorf("docker json-file entry: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		return Line{}, false, fmt.Errorf("docker json-file entry: time: %w", err)
	}
	text, whole := strings.CutSuffix(*e.Log, "\n")
	return Line{Time: t, Stream: e.Stream, Text: strings.TrimSuffix(text, "\r")}, !whole, nil
}

// parseCRI reads "time stream tags text". The tags are ':'-separated; P is
// the only one defined besides F.
func parseCRI(raw string) (Line, bool, error) {
	fields := strings.SplitN(raw, " ", 4)
	if len(fields) < 3 {
		return Line{}, false, errors.New("CRI entry: want \"<time> <stream> <tags> <line>\"")
	}
	t, err := time.Parse(time.RFC3339Nano, fields[0])
	if err != nil {
		return Line{}, false, fmt.Errorf("CRI entry: time: %w", err)
	}
	if err := checkStream(fields[1]); err != nil {
		return Line{}, false, fmt.Errorf("CRI entry: %w", err)
	}
	partial := false
	for tag := range strings.SplitSeq(fields[2], ":") {
		switch tag {
		case "P":
			partial = true
		case "F":
		default:
			return Line{}, false, fmt.Errorf("CRI entry: tag %q is neither F nor P", tag)
		}
	}
	text := ""
	if len(fields) == 4 {
		text = fields[3]
	}
	return Line{Time: t, Stream: fields[1], Text: text}, partial, nil
}

func checkStream(s string) error {
	if s != "stdout" && s != "stderr" {
		return fmt.Errorf("stream %q is neither stdout nor stderr", s)
	}
	return nil
}

// Joiner joins the partial entries of a file into lines, each stream on
// its own, since a runtime writes the two streams' entries as they come
// (filebeat's container parser joins a part with the next entry of either
// stream).
type Joiner struct {
	parts map[string]*Line
}

// Add takes the next entry. It returns the line that entry completes (at
// the time of its first part), ok false while the line goes on; cut says
// the line reached MaxLine and what follows starts another.
func (j *Joiner) Add(l Line, partial bool) (whole Line, ok, cut bool) {
	if j.parts == nil {
		j.parts = map[string]*Line{}
	}
	if p := j.parts[l.Stream]; p != nil {
		p.Text += l.Text
		l = *p
	}
	if partial && len(l.Text) >= MaxLine { // a line that goes on: cut it here
		delete(j.parts, l.Stream)
		return l, true, true
	}
	if partial {
		j.parts[l.Stream] = &l
		return Line{}, false, false
	}
	delete(j.parts, l.Stream)
	return l, true, false
}

// Flush returns the lines whose last part never came (the file ends in the
// middle of a line), stdout's first.
func (j *Joiner) Flush() []Line {
	var out []Line
	for _, s := range []string{"stdout", "stderr"} {
		if p := j.parts[s]; p != nil {
			out = append(out, *p)
		}
	}
	clear(j.parts)
	return out
}
