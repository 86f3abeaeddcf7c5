package auditd

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/logp/logptest"

	"webshellbeat/input/internal/files"
	mapper "webshellbeat/module/auditd"
)

// A real capture: auditd 3.0.9 under the CI's web servers
// (../shared/data/linux-capture/SOURCES.md).
const captureLog = "../../../shared/data/linux-capture/audit.log"

// recorder is the input's publisher in these tests: it keeps what the
// reader publishes, as the beat's pipeline would receive it.
type recorder struct {
	serials []string // auditd.sequence of each event, in order
	paths   []string // log.file.path of each event
	last    checkpoint
}

func (rec *recorder) Publish(e beat.Event, c any) error {
	seq, _ := e.Fields.GetValue("auditd.sequence")
	path, _ := e.Fields.GetValue("log.file.path")
	rec.serials = append(rec.serials, fmt.Sprint(seq))
	rec.paths = append(rec.paths, fmt.Sprint(path))
	rec.last = c.(checkpoint)
	return nil
}

var serialRE = regexp.MustCompile(`msg=audit\(\d+\.\d+:(\d+)\)`)

// captureEvents splits the capture into n parts of whole events (auditd's
// rotation splits between writes, almost always between events) and
// returns each part's text and the serials of the events the joiner makes
// of it alone.
func captureEvents(t *testing.T, n int) (parts []string, serials [][]string) {
	t.Helper()
	raw, err := os.ReadFile(captureLog)
	if err != nil {
		t.Skipf("the shared capture: %v", err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	per := len(lines)/n + 1
	var b strings.Builder
	last := ""
	for i, l := range lines {
		m := serialRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d: no serial: %.80s", i+1, l)
		}
		if m[1] != last && b.Len() > 0 && len(parts) < n-1 && strings.Count(b.String(), "\n") >= per {
			parts = append(parts, b.String())
			b.Reset()
		}
		last = m[1]
		b.WriteString(l)
	}
	parts = append(parts, b.String())
	serials = nil
	for _, p := range parts { // what the joiner makes of each part alone
		j := mapper.NewJoiner(mapper.JoinerConfig{})
		var groups []mapper.Group
		var off int64
		for _, l := range strings.SplitAfter(strings.TrimSuffix(p, "\n"), "\n") {
			off += int64(len(l))
			groups = append(groups, j.Add(strings.TrimSuffix(l, "\n"), off)...)
		}
		var ss []string
		for _, g := range append(groups, j.Flush()...) {
			doc, _ := mapper.MapGroup(g)
			ss = append(ss, fmt.Sprint(lookup(doc, "auditd", "sequence")))
		}
		serials = append(serials, ss)
	}
	return parts, serials
}

func lookup(doc map[string]any, keys ...string) any {
	var v any = doc
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func newTestReader(t *testing.T, path string, rec *recorder) *reader {
	c := defaultConfig()
	r := &reader{path: path, cfg: c, pub: rec, log: logp.NewNopLogger(), joiner: mapper.NewJoiner(mapper.JoinerConfig{})}
	t.Cleanup(r.close)
	return r
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// rotate does what auditd does on ROTATE with num_logs logs: audit.log.N-1
// becomes .N (the oldest, .num_logs-1, is overwritten), ..., audit.log
// becomes .1; the next write makes a new audit.log.
func rotate(t *testing.T, path string, numLogs int) {
	t.Helper()
	for i := numLogs - 2; i >= 1; i-- {
		if err := os.Rename(fmt.Sprintf("%s.%d", path, i), fmt.Sprintf("%s.%d", path, i+1)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
}

func poll(t *testing.T, r *reader) {
	t.Helper()
	if _, err := r.poll(); err != nil {
		t.Fatal(err)
	}
	if err := r.publish(r.joiner.Flush()); err != nil {
		t.Fatal(err)
	}
}

// auditd writes records after the reader's last poll, then rotates: the
// reader reads the old file to its end before the new one, and every event
// is published once.
func TestReaderFollowsRotation(t *testing.T) {
	parts, serials := captureEvents(t, 6)
	path := filepath.Join(t.TempDir(), "audit.log")
	rec := &recorder{}
	r := newTestReader(t, path, rec)
	appendFile(t, path, parts[0])
	if err := r.resume(checkpoint{}); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	appendFile(t, path, parts[1]) // written after the poll, before the rotation
	rotate(t, path, 5)
	appendFile(t, path, parts[2])
	poll(t, r)
	rotate(t, path, 5)
	appendFile(t, path, parts[3])
	poll(t, r)
	// Two rotations between polls: the file between is read too.
	rotate(t, path, 5)
	appendFile(t, path, parts[4])
	rotate(t, path, 5)
	appendFile(t, path, parts[5])
	poll(t, r)
	want := slices.Concat(serials...)
	if !slices.Equal(rec.serials, want) {
		t.Errorf("published %d events, want the capture's %d once each, in order; missing %v", len(rec.serials), len(want), missing(want, rec.serials))
	}
	first, _, _ := strings.Cut(parts[5], "\n")
	if rec.last.Head != lineHead(first) || rec.last.Offset <= 0 || rec.last.Offset > int64(len(parts[5])) {
		t.Errorf("last checkpoint %+v, want the head of the newest file (%s) and an offset in it", rec.last, lineHead(first))
	}
}

// The beat stops after reading part of a file; auditd rotates twice while
// it is stopped. Started on its checkpoint, the reader finds the file among
// the rotations (audit.log.2 by now) and reads it from the offset, then
// audit.log.1, then audit.log: what was not read, once.
func TestReaderResumesAcrossRotations(t *testing.T) {
	parts, serials := captureEvents(t, 4)
	path := filepath.Join(t.TempDir(), "audit.log")
	cp := readThenStop(t, path, parts[0])
	appendFile(t, path, parts[1])
	rotate(t, path, 5)
	appendFile(t, path, parts[2])
	rotate(t, path, 5)
	appendFile(t, path, parts[3])
	second := restart(t, path, cp)
	want := slices.Concat(serials[1:]...)
	if !slices.Equal(second.serials, want) {
		t.Errorf("after the restart: %d events, want the %d not read before, once each, in order; missing %v", len(second.serials), len(want), missing(want, second.serials))
	}
	if second.paths[0] != path+".2" || second.paths[len(second.paths)-1] != path {
		t.Errorf("log.file.path: first %s, last %s; want %s.2 and %s", second.paths[0], second.paths[len(second.paths)-1], path, path)
	}
	// Before: the checkpoint's offset was applied to the new audit.log.
	if cp.Offset == 0 || cp.Head == "" {
		t.Errorf("the checkpoint %+v has no offset or no head", cp)
	}
}

// The beat is stopped and started twice: the second time after auditd
// rotated. The checkpoints of the run between, which resumed in the middle
// of audit.log, must still name the file by its first line; they had no
// head, and the second restart applied their offset to the new audit.log
// (reading it from its start, as a truncated file) and lost the end of the
// old one.
func TestReaderResumesTwice(t *testing.T) {
	parts, serials := captureEvents(t, 4)
	path := filepath.Join(t.TempDir(), "audit.log")
	cp := readThenStop(t, path, parts[0])
	appendFile(t, path, parts[1])
	second := restart(t, path, cp)
	if !slices.Equal(second.serials, serials[1]) {
		t.Fatalf("first restart: %d events, want the %d of the second part", len(second.serials), len(serials[1]))
	}
	if second.last.Head != cp.Head || second.last.Offset != int64(len(parts[0])+len(parts[1])) {
		t.Errorf("checkpoint after resuming in audit.log: %+v, want head %s and offset %d", second.last, cp.Head, len(parts[0])+len(parts[1]))
	}
	appendFile(t, path, parts[2])
	rotate(t, path, 5)
	appendFile(t, path, parts[3])
	third := restart(t, path, second.last)
	if want := slices.Concat(serials[2:]...); !slices.Equal(third.serials, want) {
		t.Errorf("second restart, after a rotation: %d events, want the %d of parts 3 and 4 once each, in order; missing %v", len(third.serials), len(want), missing(want, third.serials))
	}
}

// When the checkpoint's file is gone (num_logs rotations while stopped),
// the rotations that remain and the path are read from their start.
func TestReaderCheckpointFileDeleted(t *testing.T) {
	parts, serials := captureEvents(t, 4)
	path := filepath.Join(t.TempDir(), "audit.log")
	cp := readThenStop(t, path, parts[0])
	appendFile(t, path, parts[1])
	rotate(t, path, 2) // num_logs 2: audit.log.1 is the only rotation
	appendFile(t, path, parts[2])
	rotate(t, path, 2) // the file of the checkpoint is overwritten
	appendFile(t, path, parts[3])
	second := restart(t, path, cp)
	want := slices.Concat(serials[2:]...)
	if !slices.Equal(second.serials, want) {
		t.Errorf("after the restart: %d events, want parts 3 and 4 (%d); missing %v", len(second.serials), len(want), missing(want, second.serials))
	}
}

// A checkpoint of an older release (no head) is applied to the path, as
// before; a file shorter than it is read from its start.
func TestReaderOldCheckpoint(t *testing.T) {
	parts, serials := captureEvents(t, 2)
	path := filepath.Join(t.TempDir(), "audit.log")
	appendFile(t, path, parts[0]+parts[1])
	rec := &recorder{}
	r := newTestReader(t, path, rec)
	if err := r.resume(checkpoint{Version: checkpointVersion, Offset: int64(len(parts[0]))}); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	if !slices.Equal(rec.serials, serials[1]) {
		t.Errorf("from an old checkpoint: %d events, want the second part's %d", len(rec.serials), len(serials[1]))
	}

	short := filepath.Join(t.TempDir(), "audit.log")
	appendFile(t, short, parts[1])
	rec = &recorder{}
	r = newTestReader(t, short, rec)
	if err := r.resume(checkpoint{Version: checkpointVersion, Offset: int64(len(parts[0]) + len(parts[1]))}); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	if !slices.Equal(rec.serials, serials[1]) {
		t.Errorf("a file shorter than an old checkpoint: %d events, want all %d", len(rec.serials), len(serials[1]))
	}
}

// A pattern that names the rotations too (audit.log*) gives one source,
// audit.log, whose reader reads the rotations first on a first run and
// follows the later ones itself; compressed rotations are left out.
func TestPatternWithRotations(t *testing.T) {
	parts, serials := captureEvents(t, 3)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	appendFile(t, path, parts[0])
	rotate(t, path, 5)
	appendFile(t, path, parts[1])
	rotate(t, path, 5)
	appendFile(t, path, parts[2])
	appendFile(t, path+".3.gz", "\x1f\x8b not text\n")
	appendFile(t, filepath.Join(dir, "audit.log.bak"), "another file\n")
	sources, err := files.Expand([]string{path + "*"})
	if err != nil {
		t.Fatal(err)
	}
	kept, history := withoutRotations(sources)
	var names []string
	for _, src := range kept {
		names = append(names, filepath.Base(src.Name()))
	}
	if !slices.Equal(names, []string{"audit.log", "audit.log.bak"}) || !history[path] {
		t.Fatalf("sources %v, history %v; want audit.log (with its history) and audit.log.bak", names, history)
	}
	rec := &recorder{}
	r := newTestReader(t, path, rec)
	r.history = true
	if err := r.resume(checkpoint{}); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	if want := slices.Concat(serials...); !slices.Equal(rec.serials, want) {
		t.Errorf("a first run on audit.log*: %d events, want the %d of the rotations and the file, in order", len(rec.serials), len(want))
	}
}

// readThenStop writes text to path, reads it as a beat that then stops
// would, and returns the last checkpoint.
func readThenStop(t *testing.T, path, text string) checkpoint {
	t.Helper()
	rec := &recorder{}
	r := newTestReader(t, path, rec)
	appendFile(t, path, text)
	if err := r.resume(checkpoint{}); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	r.close()
	return rec.last
}

// restart reads path from checkpoint cp as a beat started again would.
func restart(t *testing.T, path string, cp checkpoint) *recorder {
	t.Helper()
	rec := &recorder{}
	r := newTestReader(t, path, rec)
	if err := r.resume(cp); err != nil {
		t.Fatal(err)
	}
	poll(t, r)
	return rec
}

// missing lists the first serials of want that got lacks.
func missing(want, got []string) []string {
	var out []string
	for _, s := range want {
		if !slices.Contains(got, s) {
			out = append(out, s)
			if len(out) == 5 {
				break
			}
		}
	}
	return out
}

// At each start the reader logs which case it took, the one line that tells
// a user (and the live rotation test) where reading resumed.
func TestResumeSaysWhichCase(t *testing.T) {
	parts, _ := captureEvents(t, 2)
	path := filepath.Join(t.TempDir(), "audit.log")
	said := func(cp checkpoint) string {
		t.Helper()
		log, obs := logptest.NewTestingLoggerWithObserver(t, "")
		r := newTestReader(t, path, &recorder{})
		r.log = log
		if err := r.resume(cp); err != nil {
			t.Fatal(err)
		}
		r.close()
		var msgs []string
		for _, e := range obs.All() {
			msgs = append(msgs, strings.ReplaceAll(e.Message, path, "audit.log"))
		}
		return strings.Join(msgs, "; ")
	}
	cp := readThenStop(t, path, parts[0])
	n := len(parts[0])
	check := func(cp checkpoint, want string) {
		t.Helper()
		if got := said(cp); got != want {
			t.Errorf("resume(%+v) logged %q, want %q", cp, got, want)
		}
	}
	check(checkpoint{}, "no checkpoint: reading audit.log from its start, after 0 rotations")
	check(cp, fmt.Sprintf("resuming audit.log at offset %d (head %s)", n, cp.Head))
	check(checkpoint{Version: checkpointVersion, Offset: 10}, "a checkpoint without a file head (an older release): reading audit.log from offset 10")
	rotate(t, path, 5)
	appendFile(t, path, parts[1])
	check(cp, fmt.Sprintf("the checkpoint's file was rotated while the beat was stopped: reading audit.log.1 from offset %d, then 0 newer files", n))
	check(checkpoint{Version: checkpointVersion, Offset: 10, Head: "elsewhere"}, "the checkpoint's file (offset 10) is neither audit.log nor one of its 1 rotations (deleted by rotation?): reading them from their start; what was between is lost")
}
