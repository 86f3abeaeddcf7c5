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
	want, _ := docid.Fingerprint(map[string]any{"@timestamp": ts, "auditd.sequence": 7, "host.name": "h"})
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

	// No identity: no id.
	if ev, _ := p.Run(&beat.Event{Timestamp: ts, Fields: mapstr.M{"message": "x"}}); ev.Meta != nil {
		if _, err := ev.Meta.GetValue("_id"); err == nil {
			t.Errorf("_id set without identity: %v", ev.Meta)
		}
	}
}
