//go:build !windows

package processor

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/reader"
	"github.com/elastic/beats/v7/libbeat/reader/readjson"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/module/container"
)

// fileLines is a reader.Reader of a file's lines without their newline,
// as filestream hands them to its parsers.
type fileLines struct{ lines []string }

func (f *fileLines) Next() (reader.Message, error) {
	if len(f.lines) == 0 {
		return reader.Message{}, io.EOF
	}
	line := f.lines[0]
	f.lines = f.lines[1:]
	return reader.Message{Ts: time.Now(), Content: []byte(line), Bytes: len(line) + 1}, nil
}

func (f *fileLines) Close() error { return nil }

func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile("../module/container/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// module/container reads the runtimes' entries as libbeat's container
// parser (filebeat's, which the beat runs) does: the same lines, times and
// streams from both fixture files, partial entries joined. (They differ
// where this test does not go: libbeat joins a part with whatever entry
// comes next, of either stream, and drops a damaged entry with a log line.)
func TestContainerParserAsLibbeat(t *testing.T) {
	for _, name := range []string{"nginx-docker-json.log", "nginx-cri.log"} {
		lines := fixtureLines(t, name)
		var want []string
		r := readjson.New(&fileLines{lines: lines}, "all", true, "auto", true, logptest.NewTestingLogger(t, ""))
		for {
			msg, err := r.Next()
			if err != nil {
				break
			}
			stream, _ := msg.Fields.GetValue("stream")
			// Docker's lines keep their newline there (the processor trims it).
			want = append(want, fmt.Sprintf("%s %v %q", msg.Ts.Format(time.RFC3339Nano), stream, strings.TrimSuffix(string(msg.Content), "\n")))
		}
		var got []string
		var j container.Joiner
		for _, raw := range lines {
			l, partial, err := container.Parse(raw)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if whole, ok, _ := j.Add(l, partial); ok {
				got = append(got, fmt.Sprintf("%s %v %q", whole.Time.Format(time.RFC3339Nano), whole.Stream, whole.Text))
			}
		}
		if len(want) != 28 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\nlibbeat (%d lines):\n%s", name, strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
		}
	}
}

// decode_container_log after filestream's container parser (the line in
// message, the stream beside it, the runtime's time as the event's): each
// kind of line, the server learnt per file, the container from the path.
func TestDecodeContainerLog(t *testing.T) {
	p := newProc(t, newContainer, map[string]any{})
	id := strings.Repeat("ab", 32)
	path := "/var/lib/docker/containers/" + id + "/" + id + "-json.log"
	at := time.Date(2026, 11, 25, 19, 2, 20, 123, time.UTC)
	parsed := func(stream, line string) *beat.Event {
		return &beat.Event{Timestamp: at, Fields: mapstr.M{"message": line, "stream": stream, "log": mapstr.M{"file": mapstr.M{"path": path}}}}
	}
	notice, _ := p.Run(parsed("stderr", `2026/11/25 19:02:20 [notice] 1#1: using the "epoll" event method`))
	if get(t, notice, "event.dataset") != "nginx.error" || !notice.Timestamp.Equal(at) || get(t, notice, "container.id") != id || get(t, notice, "stream") != "stderr" {
		t.Errorf("nginx notice: %v at %v", notice.Fields, notice.Timestamp)
	}
	access, _ := p.Run(parsed("stdout", `127.0.0.1 - - [25/Nov/2026:19:02:28 +0000] "GET /app/login.php?debug=whoami HTTP/1.1" 200 104 "-" "Mozilla/5.0"`))
	if get(t, access, "event.dataset") != "nginx.access" || access.Timestamp.Second() != 28 || get(t, access, "event.original") == nil || get(t, access, "message") != nil {
		t.Errorf("access line after the notice: %v at %v", access.Fields, access.Timestamp)
	}
	output, _ := p.Run(parsed("stderr", "sh: 1: nc: not found"))
	if get(t, output, "event.dataset") != "nginx.error" || get(t, output, "message") != "sh: 1: nc: not found" || !output.Timestamp.Equal(at) {
		t.Errorf("output line: %v at %v", output.Fields, output.Timestamp)
	}
	if blank, err := p.Run(parsed("stdout", "\n")); blank != nil || err != nil {
		t.Errorf("a blank line: %v, %v", blank, err)
	}
	empty := parsed("stdout", "")
	empty.Fields.Delete("message") // the parser sets no message for an empty line
	if blank, err := p.Run(empty); blank != nil || err != nil {
		t.Errorf("an empty line: %v, %v", blank, err)
	}

	// Without the parser, a whole entry is read here; a part of a line and
	// a line that is no entry keep their text and say why.
	whole, _ := p.Run(event(`{"log":"sh: 0: can't access tty; job control turned off\n","stream":"stderr","time":"2026-11-25T19:02:31.5Z"}`))
	if get(t, whole, "message") != "sh: 0: can't access tty; job control turned off" || get(t, whole, "stream") != "stderr" || whole.Timestamp.Nanosecond() != 5e8 {
		t.Errorf("an entry without the parser: %v at %v", whole.Fields, whole.Timestamp)
	}
	part, _ := p.Run(event("2026-11-25T19:02:31Z stdout P 127.0.0.1 - - [25/Nov/2026:19:02:31 +0000] \"GET /a"))
	if msg, _ := get(t, part, "error.message").(string); !strings.Contains(msg, "parsers: [container: ~]") || get(t, part, "message") == nil {
		t.Errorf("a partial entry without the parser: %v", part.Fields)
	}
	other, _ := p.Run(event("not a container's line"))
	if msg, _ := get(t, other, "error.message").(string); !strings.Contains(msg, "no stream field") || get(t, other, "message") != "not a container's line" {
		t.Errorf("no entry, no stream: %v", other.Fields)
	}
}
