package processor

import (
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/docid"
)

func TestAddDocumentID(t *testing.T) {
	p, err := newDocID(conf.MustNewConfigFrom(map[string]any{}), logptest.NewTestingLogger(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	line := func() *beat.Event {
		return &beat.Event{Timestamp: ts, Fields: mapstr.M{"log": mapstr.M{"file": mapstr.M{"path": "/var/log/a.log"}, "offset": int64(42)}}}
	}
	a, _ := p.Run(line())
	b, _ := p.Run(line())
	id, _ := a.Meta.GetValue("_id")
	if id == nil || id == "" {
		t.Fatalf("no _id: %v", a.Meta)
	}
	if id2, _ := b.Meta.GetValue("_id"); id2 != id {
		t.Errorf("same record, ids %v and %v", id, id2)
	}
	if _, ok := a.Fields["@timestamp"]; ok {
		t.Error("@timestamp left in the fields")
	}

	// The audit identity uses the event time, which a beat event keeps
	// outside Fields.
	audit := &beat.Event{Timestamp: ts, Fields: mapstr.M{"auditd": mapstr.M{"sequence": 7}, "host": mapstr.M{"name": "h"}}}
	want, _ := docid.Record(map[string]any{"@timestamp": ts, "auditd.sequence": 7, "host.name": "h"})
	if ev, _ := p.Run(audit); ev.Meta["_id"] != want {
		t.Errorf("audit _id %v, want %s", ev.Meta["_id"], want)
	}

	// An id set earlier is kept unless overwrite is set.
	pre := line()
	pre.SetID("given")
	if ev, _ := p.Run(pre); ev.Meta["_id"] != "given" {
		t.Errorf("existing _id replaced: %v", ev.Meta["_id"])
	}
	ow, _ := newDocID(conf.MustNewConfigFrom(map[string]any{"overwrite": true}), logptest.NewTestingLogger(t, ""))
	pre = line()
	pre.SetID("given")
	if ev, _ := ow.Run(pre); ev.Meta["_id"] != id {
		t.Errorf("overwrite: _id %v, want %v", ev.Meta["_id"], id)
	}

	// No identity (a decoded line that came over UDP): a unique id each,
	// so the same request twice in a second is two documents, and none
	// that the records with an identity could have.
	decoded := func() *beat.Event {
		return &beat.Event{Timestamp: ts, Fields: mapstr.M{"event": mapstr.M{"original": `203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 31`}}}
	}
	u1, _ := p.Run(decoded())
	u2, _ := p.Run(decoded())
	again, _ := newDocID(conf.MustNewConfigFrom(map[string]any{}), logptest.NewTestingLogger(t, ""))
	u3, _ := again.Run(decoded()) // another beat run
	seen := map[any]bool{id: true}
	for _, ev := range []*beat.Event{u1, u2, u3} {
		uid, err := ev.Meta.GetValue("_id")
		if err != nil || uid == "" || seen[uid] {
			t.Errorf("record with no identity: _id %v (%v), seen before: %v", uid, err, seen[uid])
		}
		seen[uid] = true
	}
}
