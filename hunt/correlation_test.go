package hunt_test

import (
	"strings"
	"testing"
	"time"
	"webshellbeat/internal/testfiles"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

const reconRule = `title: Recon Command by www-data
id: 0b6a8f5e-3c41-4d8e-9a57-1f2e3d4c5b6a
name: www_data_recon
status: test
description: A discovery command run as www-data.
author: test
date: 2026-01-01
logsource: {product: linux, category: process_creation}
detection:
  selection:
    user.name: www-data
    process.name: [whoami, id, uname, hostname, ps, netstat]
  condition: selection
level: low
`

const burstCorrelation = `title: Burst of Recon Commands by www-data
id: 5e3a1c7d-2b9f-4a6e-8d0c-7f1b2e3a4c5d
status: test
description: Three or more discovery commands run as www-data on one host within 10 seconds.
author: test
date: 2026-01-01
tags: [attack.persistence, attack.t1505.003, attack.discovery]
correlation:
  type: event_count
  rules: [www_data_recon]
  group-by: [host.name]
  timespan: 10s
  condition: {gte: 3}
level: high
`

func writeRules(t *testing.T, files map[string]string) string { return testfiles.Dir(t, files) }

// A hunt with a base rule and an event_count correlation over it: the
// correlation alert is an alert document (rule.*, threat.*, severity of the
// correlation's level, alert data stream) listing the joined events; the
// base rule, named without generate, gives no alert of its own.
func TestHuntCorrelation(t *testing.T) {
	dir := writeRules(t, map[string]string{"recon.yml": reconRule, "burst.yml": burstCorrelation})
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{dir}}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ri := det.Rules(); ri.Loaded != 1 || ri.Correlations != 1 || ri.Rejected != 0 {
		t.Fatalf("rules = %+v, problems %v", ri, det.Problems)
	}
	var alerts []map[string]any
	st, err := hunt.Run([]string{data + "linux-capture/audit.log"}, det, func(doc map[string]any) { alerts = append(alerts, doc) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Alerts != 0 {
		t.Errorf("%d alerts of the base rule; it only feeds the correlation", st.Alerts)
	}
	if len(alerts) == 0 {
		t.Fatal("no correlation alert")
	}
	for _, a := range alerts {
		if got := ruleIDs(a); len(got) != 1 || got[0] != "5e3a1c7d-2b9f-4a6e-8d0c-7f1b2e3a4c5d" {
			t.Errorf("webshell.rule_ids = %v", got)
		}
		if str(a, "event.kind") != "alert" || str(a, "rule.name") != "Burst of Recon Commands by www-data" ||
			str(a, "data_stream.dataset") != "webshellbeat.alert" || str(a, "threat.framework") != "MITRE ATT&CK" {
			t.Errorf("not an alert document: %v", a)
		}
		if sev, _ := detection.Lookup(a, "event.severity"); sev != 73 {
			t.Errorf("event.severity = %v, want 73 (high)", sev)
		}
		if str(a, "webshell.correlation.type") != "event_count" {
			t.Errorf("webshell.correlation.type = %q", str(a, "webshell.correlation.type"))
		}
		evs, _ := detection.Lookup(a, "webshell.correlation.events")
		list, _ := evs.([]any)
		if len(list) != 3 {
			t.Fatalf("joined events = %v, want 3", evs)
		}
		var prev time.Time
		for _, e := range list {
			m := e.(map[string]any)
			ts, _ := m["@timestamp"].(time.Time)
			if m["id"] == nil || m["id"] == "" || ts.IsZero() || ts.Before(prev) || m["rule"] != "0b6a8f5e-3c41-4d8e-9a57-1f2e3d4c5b6a" {
				t.Errorf("joined event %v: want an id, a time in order and the base rule", m)
			}
			prev = ts
		}
		start, _ := detection.Lookup(a, "event.start")
		end, _ := detection.Lookup(a, "event.end")
		if s, e := start.(time.Time), end.(time.Time); e.Sub(s) > 10*time.Second || e.Before(s) {
			t.Errorf("window %v .. %v is not within the 10s timespan", s, e)
		}
	}
	// The whole attack (whoami, id, uname, ps, hostname, netstat as
	// www-data within a few seconds) is more than one burst of three.
	if len(alerts) < 2 {
		t.Errorf("%d correlation alerts, want at least 2", len(alerts))
	}
}

// With generate: true the base rule alerts on its own as well.
func TestHuntCorrelationGenerate(t *testing.T) {
	dir := writeRules(t, map[string]string{"recon.yml": reconRule,
		"burst.yml": burstCorrelation[:len(burstCorrelation)-len("level: high\n")] + "  generate: true\nlevel: high\n"})
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{dir}}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var base, corr int
	_, err = hunt.Run([]string{data + "linux-capture/audit.log"}, det, func(doc map[string]any) {
		if str(doc, "webshell.correlation.type") != "" {
			corr++
		} else {
			base++
		}
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if base < 3 || corr == 0 {
		t.Errorf("%d base alerts and %d correlation alerts; want both", base, corr)
	}
}

const downloadRule = `title: Download by www-data
id: 9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f
name: www_data_download
status: test
description: curl or wget run as www-data.
author: test
date: 2026-01-01
logsource: {product: linux, category: process_creation}
detection:
  selection:
    user.name: www-data
    process.name: [curl, wget]
  condition: selection
level: low
`

// Extended conditions end to end: "recon and a download" alerts at the
// download, "recon and not download" a timespan after the recon that no
// download followed, once the hunt has read past that window's end.
func TestHuntExtendedCorrelation(t *testing.T) {
	corr := func(id, cond string) string {
		return "title: " + cond + "\nid: " + id + "\nstatus: test\ncorrelation:\n  type: temporal\n  group-by: [host.name]\n" +
			"  timespan: 2s\n  condition: " + cond + "\nlevel: high\n"
	}
	dir := writeRules(t, map[string]string{"recon.yml": reconRule, "download.yml": downloadRule,
		"both.yml":  corr("1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "www_data_recon and www_data_download"),
		"alone.yml": corr("2f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "www_data_recon and not www_data_download")})
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{dir}}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ri := det.Rules(); ri.Correlations != 2 || ri.Rejected != 0 {
		t.Fatalf("rules = %+v, problems %v", ri, det.Problems)
	}
	first := map[string]map[string]any{}
	if _, err := hunt.Run([]string{data + "linux-capture/audit.log"}, det, func(doc map[string]any) {
		if c := str(doc, "webshell.correlation.condition"); c != "" && first[c] == nil {
			first[c] = doc
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	both, alone := first["www_data_recon and www_data_download"], first["www_data_recon and not www_data_download"]
	if both == nil || alone == nil {
		t.Fatalf("alerts of the two conditions: %v", first)
	}
	bs, _ := detection.Lookup(both, "event.start")
	be, _ := detection.Lookup(both, "event.end")
	if e := be.(time.Time); e.Sub(bs.(time.Time)) > 2*time.Second || e.Format(time.TimeOnly) != "19:02:28" {
		t.Errorf("recon and download: %v .. %v, want to end at the download (19:02:28)", bs, be)
	}
	as, _ := detection.Lookup(alone, "event.start")
	ae, _ := detection.Lookup(alone, "event.end")
	if s, e := as.(time.Time), ae.(time.Time); e.Sub(s) != 2*time.Second || s.Format(time.TimeOnly) != "19:02:24" {
		t.Errorf("recon without download: %v .. %v, want the 2s window of the first recon (19:02:24)", as, ae)
	}
	if msg := str(alone, "message"); !strings.Contains(msg, `temporal "www_data_recon and not www_data_download"`) || !strings.Contains(msg, "none excluded until") {
		t.Errorf("message = %q", msg)
	}
}
