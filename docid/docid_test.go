package docid

import (
	"encoding/json"
	"testing"
	"time"
)

type namedMap map[string]any

func TestRecordKinds(t *testing.T) {
	ts := time.Date(2024, 5, 1, 10, 0, 0, 123000000, time.UTC)
	cases := []struct {
		name string
		a, b map[string]any // same record: same id
		c    map[string]any // another record: another id
	}{
		{
			name: "winlog",
			a:    map[string]any{"winlog": map[string]any{"channel": "Security", "computer_name": "WEB01", "record_id": "4711"}, "log": map[string]any{"file": map[string]any{"path": "/a.xml"}, "offset": 10}},
			// the same record read from an .evtx: no offset, number not text
			b: map[string]any{"winlog.channel": "security", "winlog.computer_name": "web01", "winlog.record_id": uint64(4711)},
			c: map[string]any{"winlog": map[string]any{"channel": "Security", "computer_name": "WEB02", "record_id": "4711"}},
		},
		{
			name: "auditd",
			a:    map[string]any{"@timestamp": ts, "auditd": map[string]any{"sequence": 9001}, "host": map[string]any{"name": "lin1"}, "log.offset": 5},
			b:    map[string]any{"@timestamp": "2024-05-01T10:00:00.123Z", "auditd": namedMap{"sequence": 9001.0}, "host.name": "lin1", "log.offset": 999},
			c:    map[string]any{"@timestamp": ts, "auditd": map[string]any{"sequence": 9002}, "host": map[string]any{"name": "lin1"}},
		},
		{
			name: "file",
			a:    map[string]any{"log": map[string]any{"file": map[string]any{"path": "/var/log/a.log", "inode": "12", "device_id": "2049"}, "offset": int64(1024)}, "message": "x"},
			b:    map[string]any{"log": namedMap{"file": namedMap{"path": "/var/log/a.log", "inode": "12", "device_id": "2049"}, "offset": json.Number("1024")}, "message": "y"},
			c:    map[string]any{"log": map[string]any{"file": map[string]any{"path": "/var/log/a.log", "inode": "13", "device_id": "2049"}, "offset": int64(1024)}},
		},
		{
			name: "kafka",
			a:    map[string]any{"kafka": map[string]any{"topic": "weblogs", "partition": 2, "offset": int64(1234)}, "event": map[string]any{"original": "GET / 200"}},
			b:    map[string]any{"kafka.topic": "weblogs", "kafka.partition": 2.0, "kafka.offset": "1234"},
			c:    map[string]any{"kafka": map[string]any{"topic": "weblogs", "partition": 3, "offset": int64(1234)}, "event": map[string]any{"original": "GET / 200"}},
		},
	}
	seen := map[string]string{}
	for _, c := range cases {
		a, ok := Record(c.a)
		if !ok {
			t.Fatalf("%s: no id", c.name)
		}
		b, _ := Record(c.b)
		o, _ := Record(c.c)
		if a != b {
			t.Errorf("%s: same record, ids %s and %s", c.name, a, b)
		}
		if a == o {
			t.Errorf("%s: different records, same id %s", c.name, a)
		}
		if len(a) != 27 {
			t.Errorf("%s: id %q is %d long", c.name, a, len(a))
		}
		if prev, dup := seen[a]; dup {
			t.Errorf("%s and %s share id %s", prev, c.name, a)
		}
		seen[a] = c.name
	}
}

func TestRecordNone(t *testing.T) {
	for _, d := range []map[string]any{
		nil,
		{"message": "no identity"},
		{"log": map[string]any{"file": map[string]any{"path": "/a"}}},   // no offset
		{"auditd": map[string]any{"sequence": 1}},                       // no time
		{"winlog": map[string]any{"channel": "Security"}},               // no record id
		{"log": map[string]any{"offset": 3}, "event": map[string]any{}}, // no path
		{"event": map[string]any{"original": "GET / 200"}},              // text is no identity
		{"kafka": map[string]any{"topic": "weblogs", "offset": 3}},      // no partition
	} {
		if id, ok := Record(d); ok {
			t.Errorf("%v: got id %s, want none", d, id)
		}
	}
}

func TestRecordStable(t *testing.T) {
	// A fixed value: changing the recipe changes every id already indexed
	// (re-sends would then duplicate). Change this only on purpose.
	id, _ := Record(map[string]any{"log": map[string]any{"file": map[string]any{"path": "/var/log/apache2/access.log"}, "offset": 0}})
	if id != "r_xWLb_lUHsMc2dqdMxyaZNow50" {
		t.Errorf("id recipe changed: %s", id)
	}
}

// An updated copy of a record's alert gets an id of its own (the original's
// would be refused as a duplicate), the same each time it is made; alerts the
// detector builds from several events are named by rule, time and members.
func TestDerivedIDs(t *testing.T) {
	orig := map[string]any{"log": map[string]any{"file": map[string]any{"path": "/var/log/audit/audit.log"}, "offset": 120}}
	copy1 := map[string]any{"log": orig["log"], "webshell": map[string]any{"update_of": "abc", "request": map[string]any{"url": map[string]any{"original": "/shell.php?cmd=id"}}}}
	copy2 := map[string]any{"log": orig["log"], "webshell": map[string]any{"update_of": "abc", "request": map[string]any{"url": map[string]any{"original": "/shell.php?cmd=id"}}}}
	other := map[string]any{"log": orig["log"], "webshell": map[string]any{"update_of": "abc", "request": map[string]any{"url": map[string]any{"original": "/shell.php?cmd=whoami"}}}}
	id := func(d map[string]any) string {
		s, ok := Record(d)
		if !ok {
			t.Fatalf("no id for %v", d)
		}
		return s
	}
	if id(copy1) == id(orig) || id(copy1) != id(copy2) || id(copy1) == id(other) {
		t.Errorf("update ids: original %s, copy %s, same copy %s, other copy %s", id(orig), id(copy1), id(copy2), id(other))
	}
	corr := func(events ...string) map[string]any {
		var ev []any
		for _, e := range events {
			ev = append(ev, map[string]any{"id": e})
		}
		return map[string]any{"@timestamp": "2026-11-25T19:02:26Z", "event": map[string]any{"dataset": "webshellbeat.correlation"},
			"rule": map[string]any{"id": "r1"}, "webshell": map[string]any{"correlation": map[string]any{"events": ev}}}
	}
	c12, c12again, c13 := id(corr("1", "2")), id(corr("1", "2")), id(corr("1", "3"))
	if c12 != c12again || c12 == c13 {
		t.Errorf("correlation ids do not follow their members")
	}
}

// Records with no identity get ids no other call gives, across Sequences.
func TestSequence(t *testing.T) {
	a, b := NewSequence(), NewSequence()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		for _, s := range []*Sequence{a, b} {
			id := s.Next()
			if seen[id] || len(id) != 27 {
				t.Fatalf("id %q: seen before %v, %d long", id, seen[id], len(id))
			}
			seen[id] = true
		}
	}
}

// A line another beat shipped through Kafka keeps its file's identity,
// whichever Kafka message carried it (filebeat re-ships after a timeout).
func TestRecordFileBeforeKafka(t *testing.T) {
	line := map[string]any{"log": map[string]any{"file": map[string]any{"path": "/var/log/nginx/access.log"}, "offset": 77}}
	shipped := func(offset int) map[string]any {
		return map[string]any{"log": line["log"], "kafka": map[string]any{"topic": "weblogs", "partition": 0, "offset": offset}}
	}
	want, _ := Record(line)
	a, _ := Record(shipped(10))
	b, _ := Record(shipped(11))
	if a != want || b != want {
		t.Errorf("ids %s and %s, want the file's %s", a, b, want)
	}
}
