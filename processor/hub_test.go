package processor

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/elastic-agent-libs/monitoring"
)

type fakePipeline struct {
	mu     sync.Mutex
	events []beat.Event
}

func (f *fakePipeline) ConnectWith(beat.ClientConfig) (beat.Client, error) { return f, nil }
func (f *fakePipeline) Connect() (beat.Client, error)                      { return f, nil }
func (f *fakePipeline) Publish(e beat.Event) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}
func (f *fakePipeline) PublishAll(es []beat.Event) {
	for _, e := range es {
		f.Publish(e)
	}
}
func (f *fakePipeline) Close() error { return nil }

// The process arrives before its request: the request's event lists it, and
// the updated copy of the process alert goes out through the hub's pipeline.
// Two processors on one configuration share the detector.
func TestHubPublishesDerived(t *testing.T) {
	hub := NewHub()
	fake := &fakePipeline{}
	hub.SetPipeline(fake)
	reg := monitoring.NewRegistry()
	hub.SetMonitoring(reg)
	hub.SetMonitoring(reg) // a second beat command in one process: no duplicate entry
	dir := t.TempDir()
	// min_level medium leaves out the pack's one low rule (counted in the metrics).
	c := conf.MustNewConfigFrom(map[string]any{"state": map[string]any{"path": dir}, "rules": map[string]any{"min_level": "medium"}})
	log := logptest.NewTestingLogger(t, "")
	p1, err := hub.newWebshell(c, log)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := hub.newWebshell(c, log)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 19, 2, 5, 0, time.UTC)
	proc := &beat.Event{Timestamp: at.Add(300 * time.Millisecond), Fields: mapstr.M{
		"host":    mapstr.M{"name": "web1", "os": mapstr.M{"type": "linux"}},
		"event":   mapstr.M{"category": []string{"process"}, "type": []string{"start"}},
		"process": mapstr.M{"pid": 900, "parent": mapstr.M{"pid": 800}, "executable": "/usr/bin/dash", "name": "dash", "command_line": "sh -c id"},
		"user":    mapstr.M{"name": "www-data", "id": "33"},
	}}
	req := &beat.Event{Timestamp: at, Fields: mapstr.M{
		"host":     mapstr.M{"name": "web1"},
		"url":      mapstr.M{"original": "/x.php?c=id", "path": "/x.php"},
		"webshell": mapstr.M{"url": mapstr.M{"param_values": []string{"id"}}},
	}}
	if out, err := p1.Run(proc); err != nil || out.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.alert-default" {
		t.Fatalf("process: %v %v", out, err)
	}
	out, err := p2.Run(req)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := out.Fields.GetValue("webshell.processes.count"); n != 1 {
		t.Fatalf("request lists %v processes", n)
	}
	if len(fake.events) != 1 {
		t.Fatalf("%d derived events published, want 1", len(fake.events))
	}
	d := fake.events[0]
	if u, _ := d.Fields.GetValue("webshell.request.url.original"); u != "/x.php?c=id" || d.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.alert-default" {
		t.Fatalf("derived %v meta %v", d.Fields, d.Meta)
	}
	// A derived event coming back through the processors passes untouched.
	if back, _ := p1.Run(&d); back != &d {
		t.Fatalf("derived event not passed through")
	}
	// The beat's stats registry reports the shared detector once: two
	// events, the process alert, the one derived update, and its state.
	snap := monitoring.CollectStructSnapshot(reg, monitoring.Full, false)
	ws, _ := snap["webshell"].(map[string]any)
	rules, _ := ws["rules"].(map[string]any)
	procs, _ := ws["processes"].(map[string]any)
	if ws["events"] != int64(2) || ws["alerts"] != int64(1) || ws["derived"] != int64(1) || ws["derived_dropped"] != int64(0) ||
		rules["loaded"].(int64) < 10 || rules["left_out"] != int64(2) || procs["tracked"].(int64) < 1 {
		t.Errorf("metrics %v", ws)
	}
	if err := p1.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	if err := p2.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "processes.json")); err != nil {
		t.Fatalf("state not saved on Close: %v", err)
	}
}
