package processor

import (
	"fmt"
	"testing"
	"time"
	"webshellbeat/internal/testfiles"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/mapstr"
)

const reconRule = `title: Recon Command by www-data
id: 0b6a8f5e-3c41-4d8e-9a57-1f2e3d4c5b6a
name: www_data_recon
logsource: {product: linux, category: process_creation}
detection:
  selection:
    user.name: www-data
    process.name: [whoami, id, uname]
  condition: selection
level: low
`

const burstRule = `title: Burst of Recon Commands by www-data
id: 5e3a1c7d-2b9f-4a6e-8d0c-7f1b2e3a4c5d
tags: [attack.persistence, attack.t1505.003]
correlation:
  type: event_count
  rules: [www_data_recon]
  group-by: [host.name]
  timespan: 10s
  condition: {gte: 3}
level: critical
`

func ruleDir(t *testing.T, files map[string]string) string { return testfiles.Dir(t, files) }

func reconEvent(at time.Time, host, name string, seq int) *beat.Event {
	return &beat.Event{Timestamp: at, Fields: mapstr.M{
		"host":    mapstr.M{"name": host, "os": mapstr.M{"type": "linux"}},
		"event":   mapstr.M{"category": []string{"process"}, "type": []string{"start"}},
		"process": mapstr.M{"pid": 1000 + seq, "parent": mapstr.M{"pid": 900}, "executable": "/usr/bin/" + name, "name": name, "command_line": name},
		"user":    mapstr.M{"name": "www-data", "id": "33"},
		"auditd":  mapstr.M{"sequence": seq},
	}}
}

// The beat: three recon commands on one host within the timespan; each
// event is indexed as an event (the base rule only feeds the correlation),
// and the hub publishes one correlation alert to the alert data stream.
func TestHubPublishesCorrelationAlert(t *testing.T) {
	hub := NewHub()
	fake := &fakePipeline{}
	hub.SetPipeline(fake)
	dir := ruleDir(t, map[string]string{"recon.yml": reconRule, "burst.yml": burstRule})
	p, err := hub.newWebshell(conf.MustNewConfigFrom(map[string]any{
		"rules": map[string]any{"builtin": false, "paths": []string{dir}},
		"state": map[string]any{"path": t.TempDir()},
	}), logptest.NewTestingLogger(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer p.(interface{ Close() error }).Close()
	at := time.Date(2026, 11, 25, 19, 2, 5, 0, time.UTC)
	for i, name := range []string{"whoami", "id", "uname"} {
		out, err := p.Run(reconEvent(at.Add(time.Duration(i)*time.Second), "web1", name, 100+i))
		if err != nil {
			t.Fatal(err)
		}
		if out.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.event-default" {
			t.Errorf("%s went to %v, want the event stream", name, out.Meta[events.FieldMetaRawIndex])
		}
	}
	if len(fake.events) != 1 {
		t.Fatalf("%d documents published, want the correlation alert", len(fake.events))
	}
	a := fake.events[0]
	get := func(k string) any { v, _ := a.Fields.GetValue(k); return v }
	if a.Meta[events.FieldMetaRawIndex] != "logs-webshellbeat.alert-default" || get("event.kind") != "alert" ||
		get("rule.id") != "5e3a1c7d-2b9f-4a6e-8d0c-7f1b2e3a4c5d" || get("event.severity") != 99 ||
		get("host.name") != "web1" || get("data_stream.dataset") != "webshellbeat.alert" {
		t.Fatalf("correlation alert %v meta %v", a.Fields, a.Meta)
	}
	if !a.Timestamp.Equal(at.Add(2 * time.Second)) {
		t.Errorf("@timestamp %v, want the last event's time", a.Timestamp)
	}
	evs, _ := get("webshell.correlation.events").([]any)
	if len(evs) != 3 {
		t.Fatalf("events %v", get("webshell.correlation.events"))
	}
	for i, e := range evs {
		m := e.(map[string]any)
		if m["id"] != fmt.Sprint(100+i) || !m["@timestamp"].(time.Time).Equal(at.Add(time.Duration(i)*time.Second)) {
			t.Errorf("event %d = %v", i, m)
		}
	}
	// Another host is another group.
	if _, err := p.Run(reconEvent(at.Add(3*time.Second), "web2", "id", 200)); err != nil {
		t.Fatal(err)
	}
	if len(fake.events) != 1 {
		t.Errorf("one event on web2 gave a correlation alert")
	}
}
