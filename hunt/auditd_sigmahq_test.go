package hunt_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

// SigmaHQ's auditd rules read audit records one at a time (type: EXECVE
// with a0, type: PATH with name); webshellbeat's events join a syscall's
// records. Over the real capture of a web shell under Apache and php-fpm,
// each rule must fire where one record of the event satisfies it, and only
// there. Before the auditd pipeline read fields by record, none of the 53
// rules fired.
func TestSigmaHQAuditdRecords(t *testing.T) {
	dir := "../../shared/data/SigmaHQ-sigma/rules/linux/auditd"
	capture := data + "linux-capture/audit.log"
	for _, p := range []string{dir, capture} {
		if _, err := os.Stat(p); err != nil {
			t.Skip(err)
		}
	}
	cfg := config.Default()
	cfg.Rules.Builtin, cfg.Rules.Paths = false, []string{dir}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any // every event, alert or not
	keep := func(doc map[string]any) { docs = append(docs, doc) }
	if _, err := hunt.Run([]string{capture}, det, keep, nil, hunt.OnEvent(keep)); err != nil {
		t.Fatal(err)
	}
	count, filtered := map[string]int{}, 0
	fired := func(doc map[string]any, rule string) bool {
		return slices.Contains(detection.LookupStrings(doc, "rule.name"), rule)
	}
	arg0 := func(doc map[string]any) string { return str(doc, "process.args.0") }
	for _, doc := range docs {
		for _, r := range detection.LookupStrings(doc, "rule.name") {
			count[r]++
		}
		execve := str(doc, "auditd.data.syscall") == "execve" && slices.Contains(detection.LookupStrings(doc, "auditd.record_types"), "execve")
		// type: SYSCALL, SYSCALL: execve, euid: 33.
		if want := execve && str(doc, "user.effective.id") == "33"; fired(doc, "Webshell Remote Command Execution") != want {
			t.Errorf("Webshell Remote Command Execution on %q (euid %s): fired %v, want %v", str(doc, "process.command_line"), str(doc, "user.effective.id"), !want, want)
		}
		// type: EXECVE, a0 one of the programs: a0 alone, not sh -c whoami.
		if want := execve && slices.Contains([]string{"hostname", "id", "last", "uname", "users", "w", "who", "whoami"}, arg0(doc)); fired(doc, "System Owner or User Discovery - Linux") != want {
			t.Errorf("System Owner or User Discovery on %q: fired %v, want %v", str(doc, "process.command_line"), !want, want)
		}
		// type: PATH, name|contains '/.', and not the filter's folders,
		// which the filter reads in the same PATH records.
		hidden := false
		for _, name := range detection.LookupStrings(doc, "auditd.paths.name") {
			if !strings.Contains(name, "/.") {
				continue
			}
			if strings.Contains(name, "/.cache/") || strings.Contains(name, "/.config/") || strings.Contains(name, "/.pyenv/") || strings.Contains(name, "/.rustup/toolchains") {
				filtered++
			} else {
				hidden = true
			}
		}
		if fired(doc, "Use Of Hidden Paths Or Files") != hidden {
			t.Errorf("Use Of Hidden Paths Or Files on %v: fired %v, want %v", detection.LookupStrings(doc, "auditd.paths.name"), !hidden, hidden)
		}
	}
	// The shutdown rule's keywords (init, with 0 or 6) are searched in the
	// arguments, as in an EXECVE record: the events' other values hold
	// "init" (/etc/init.d/...) and "0" everywhere.
	if count["System Shutdown/Reboot - Linux"] > 0 {
		t.Errorf("System Shutdown/Reboot fired %d times on a capture with no shutdown", count["System Shutdown/Reboot - Linux"])
	}
	inits := 0
	for _, doc := range docs {
		if strings.Contains(str(doc, "event.original"), "init") {
			inits++
		}
	}
	if filtered == 0 {
		t.Error("no PATH record of the capture is in the hidden-paths rule's filter: the filter case checks nothing")
	}
	if inits == 0 {
		t.Error("no event of the capture mentions init: the keyword case checks nothing")
	}
	t.Logf("%d events; alerts by rule: %v", len(docs), count)
	for rule, min := range map[string]int{"Webshell Remote Command Execution": 30, "System Owner or User Discovery - Linux": 4, "Use Of Hidden Paths Or Files": 1, "System Information Discovery - Auditd": 4} {
		if count[rule] < min {
			t.Errorf("%s fired %d times, want %d or more: the capture does not exercise it", rule, count[rule], min)
		}
	}
}
