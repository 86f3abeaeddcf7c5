package detector_test

import (
	"path/filepath"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detector"
)

// A rule and a correlation written in Sigma names (Image, User), as
// SigmaHQ writes them; the events are ECS.
const sigmaNamed = `title: Recon by a Linux account
id: eeeeeeee-0000-4000-8000-000000000005
name: linux_recon
logsource: {product: linux, category: process_creation}
detection:
  selection:
    Image|endswith: [/whoami, /id]
  condition: selection
level: low
---
title: Same account runs the same recon twice
id: ffffffff-0000-4000-8000-000000000006
correlation:
  type: event_count
  rules: [linux_recon]
  group-by: [User, Image]
  timespan: 1m
  condition: {gte: 2}
level: high
`

func userProc(name, user string, sec int) map[string]any {
	doc := proc(name, sec)
	doc["user"] = map[string]any{"name": user}
	doc["account"] = map[string]any{"name": "acct-" + user}
	return doc
}

// sigmaDetector loads sigmaNamed, and the pipeline files given, from a
// temporary rules folder without the built-in pack.
func sigmaDetector(t *testing.T, pipelines map[string]string) *detector.Detector {
	t.Helper()
	rules, pipes := t.TempDir(), t.TempDir()
	write(t, filepath.Join(rules, "recon.yml"), sigmaNamed)
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{rules}}
	for name, text := range pipelines {
		p := filepath.Join(pipes, name)
		write(t, p, text)
		cfg.Rules.Pipelines = append(cfg.Rules.Pipelines, p)
	}
	cfg.Ancestry.Enabled, cfg.Correlation.Enabled, cfg.Sessions.Enabled = false, false, false
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ri := det.Rules(); ri.Correlations != 1 || ri.Rejected != 0 {
		t.Fatalf("rules %+v, problems %v", ri, det.Problems)
	}
	return det
}

// correlationAlerts processes docs and returns the correlation alerts.
func correlationAlerts(det *detector.Detector, docs ...map[string]any) []map[string]any {
	var out []map[string]any
	for _, doc := range docs {
		_, derived := det.ProcessAll(doc)
		for _, d := range derived {
			if d.Verdict == detector.Alert && str(d.Doc, "webshell.correlation.type") != "" {
				out = append(out, d.Doc)
			}
		}
	}
	return out
}

// The correlation's User and Image go through the built-in Linux pipeline,
// as the rule's Image does: the events group by user.name and
// process.executable. The alert keeps the Sigma names for its group and
// also carries the ECS fields every rule read them from.
func TestCorrelationSigmaNames(t *testing.T) {
	det := sigmaDetector(t, nil)
	if a := correlationAlerts(det, userProc("whoami", "www-data", 0), userProc("whoami", "root", 1), userProc("id", "www-data", 2)); len(a) != 0 {
		t.Fatalf("fired across users or images: %v", a)
	}
	a := correlationAlerts(det, userProc("whoami", "www-data", 3))
	if len(a) != 1 {
		t.Fatalf("correlation alerts = %d, want 1", len(a))
	}
	doc := a[0]
	if str(doc, "webshell.correlation.group.User") != "www-data" || str(doc, "webshell.correlation.group.Image") != "/usr/bin/whoami" {
		t.Errorf("group = %v", val(doc, "webshell.correlation.group"))
	}
	if str(doc, "user.name") != "www-data" || str(doc, "process.executable") != "/usr/bin/whoami" {
		t.Errorf("user.name %q, process.executable %q", str(doc, "user.name"), str(doc, "process.executable"))
	}
	if msg := str(doc, "message"); !strings.Contains(msg, "Image=/usr/bin/whoami, User=www-data") {
		t.Errorf("message = %q", msg)
	}
}

// A user pipeline (rules.pipelines) renames correlation fields too, for
// the logsource it names: User is account.name for Linux rules here.
func TestCorrelationUserPipeline(t *testing.T) {
	det := sigmaDetector(t, map[string]string{"accounts.yml": `name: accounts
transformations:
  - type: field_name_mapping
    mapping: {User: account.name}
    rule_conditions: [{type: logsource, product: linux}]
  - type: field_name_mapping
    mapping: {User: wrong.field}
    rule_conditions: [{type: logsource, product: windows}]
`})
	a := correlationAlerts(det, userProc("whoami", "www-data", 0), userProc("whoami", "www-data", 1))
	if len(a) != 1 || str(a[0], "webshell.correlation.group.User") != "acct-www-data" || str(a[0], "account.name") != "acct-www-data" {
		t.Fatalf("alerts = %v", a)
	}
}

// The correlation windows are saved with the rest of the state: a burst
// that straddles a restart is joined, and a changed rule starts empty.
func TestCorrelationWindowsSurviveRestart(t *testing.T) {
	rules, state := t.TempDir(), t.TempDir()
	write(t, filepath.Join(rules, "recon.yml"), sigmaNamed)
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{rules}}
	cfg.State.Path = state
	cfg.Ancestry.Enabled, cfg.Correlation.Enabled, cfg.Sessions.Enabled = false, false, false
	start := func() *detector.Detector {
		t.Helper()
		det, err := detector.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return det
	}
	det := start()
	if det.Restored != "" {
		t.Errorf("first start restored %q", det.Restored)
	}
	if a := correlationAlerts(det, userProc("whoami", "www-data", 0)); len(a) != 0 {
		t.Fatalf("fired on one event: %v", a)
	}
	if err := det.Save(); err != nil {
		t.Fatal(err)
	}

	det = start()
	if !strings.Contains(det.Restored, ": 1 groups; 0 skipped") {
		t.Errorf("restart: Restored = %q", det.Restored)
	}
	if a := correlationAlerts(det, userProc("whoami", "www-data", 30)); len(a) != 1 || val(a[0], "webshell.correlation.count") != 2 {
		t.Fatalf("after a restart: correlation alerts %v, want one joining both events", a)
	}
	// Window state saved now is empty again (the group fired and reset);
	// save one event, then change the rule's threshold: it starts empty.
	correlationAlerts(det, userProc("id", "root", 40))
	if err := det.Save(); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(rules, "recon.yml"), strings.Replace(sigmaNamed, "gte: 2", "gte: 3", 1))
	det = start()
	if !strings.Contains(det.Restored, "1 dropped (their rules changed") {
		t.Errorf("changed rule: Restored = %q", det.Restored)
	}
	// With no correlation rule left, the saved windows are dropped, and said so.
	write(t, filepath.Join(rules, "recon.yml"), sigmaNamed[:strings.Index(sigmaNamed, "---")])
	if det = start(); !strings.Contains(det.Restored, "1 dropped") {
		t.Errorf("correlation removed: Restored = %q", det.Restored)
	}
	// A damaged file is reported, and the beat starts anyway.
	write(t, filepath.Join(state, "correlations.json"), "{not json")
	if det = start(); !strings.Contains(det.Restored, "not restored") {
		t.Errorf("damaged file: Restored = %q", det.Restored)
	}
}
