package engine

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"webshellbeat/detection/sigma"
)

// routingRules are one rule a logsource, each matching any event with
// marker: x, so only routing decides.
const routingRules = `title: any
logsource: {}
detection: {s: {marker: x}, condition: s}
---
title: windows
logsource: {product: windows}
detection: {s: {marker: x}, condition: s}
---
title: windows process_creation
logsource: {product: windows, category: process_creation}
detection: {s: {marker: x}, condition: s}
---
title: process_creation
logsource: {category: process_creation}
detection: {s: {marker: x}, condition: s}
---
title: network_connection
logsource: {category: network_connection}
detection: {s: {marker: x}, condition: s}
---
title: file_event
logsource: {category: file_event}
detection: {s: {marker: x}, condition: s}
---
title: webserver
logsource: {category: webserver}
detection: {s: {marker: x}, condition: s}
---
title: security
logsource: {product: windows, service: security}
detection: {s: {marker: x}, condition: s}
---
title: sysmon
logsource: {product: windows, service: sysmon}
detection: {s: {marker: x}, condition: s}
---
title: auditd
logsource: {product: linux, service: auditd}
detection: {s: {marker: x}, condition: s}
---
title: linux sysmon
logsource: {product: linux, service: sysmon}
detection: {s: {marker: x}, condition: s}
---
title: process_termination
logsource: {category: process_termination}
detection: {s: {marker: x}, condition: s}
---
title: nginx
logsource: {service: nginx}
detection: {s: {marker: x}, condition: s}
---
title: ps_script
logsource: {product: windows, category: ps_script}
detection: {s: {marker: x}, condition: s}
---
title: ps_classic_script
logsource: {product: windows, category: ps_classic_script}
detection: {s: {marker: x}, condition: s}
---
title: file_delete
logsource: {product: windows, category: file_delete}
detection: {s: {marker: x}, condition: s}
---
title: file_delete_detected
logsource: {product: windows, category: file_delete_detected}
detection: {s: {marker: x}, condition: s}
---
title: file_change
logsource: {product: windows, category: file_change}
detection: {s: {marker: x}, condition: s}
---
title: proxy never
logsource: {category: proxy}
detection: {s: {marker: x}, condition: s}
---
title: unknown service never
logsource: {product: windows, service: ldap_debug}
detection: {s: {marker: x}, condition: s}
`

func sysmonEvent(code string) map[string]any {
	return map[string]any{
		"host":   map[string]any{"os": map[string]any{"type": "windows"}},
		"event":  map[string]any{"code": code},
		"winlog": map[string]any{"channel": "Microsoft-Windows-Sysmon/Operational"},
	}
}

func routingEngine(t testing.TB) *Engine {
	c := &sigma.Collection{}
	c.Parse("routing.yml", []byte(routingRules))
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	e, err := New(c, Options{NoBuiltinPipelines: true})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRouting(t *testing.T) {
	e := routingEngine(t)
	if st := e.Stats(); st.Rules != 18 || st.Unroutable != 2 {
		t.Errorf("stats = %+v", st)
	}
	tests := []struct {
		name string
		doc  map[string]any
		want []string
	}{
		{"bare", map[string]any{}, []string{"any"}},
		{"windows process start (sysmon)", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "windows"}},
			"event":  map[string]any{"category": []any{"process"}, "type": []any{"start"}},
			"winlog": map[string]any{"channel": "Microsoft-Windows-Sysmon/Operational"},
		}, []string{"any", "windows", "windows process_creation", "process_creation", "sysmon"}},
		{"windows 4688 with string category", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "windows"}},
			"event":  map[string]any{"category": "process", "type": "start"},
			"winlog": map[string]any{"channel": "Security"},
		}, []string{"any", "windows", "windows process_creation", "process_creation", "security"}},
		{"process end is not creation", map[string]any{
			"event": map[string]any{"category": []string{"process"}, "type": []string{"end"}},
		}, []string{"any"}},
		{"linux auditd", map[string]any{
			"host":  map[string]any{"os": map[string]any{"type": "linux"}},
			"event": map[string]any{"module": "auditd", "category": []string{"process"}, "type": []string{"start"}},
		}, []string{"any", "process_creation", "auditd"}},
		{"linux auditd failed execve", map[string]any{
			"host":  map[string]any{"os": map[string]any{"type": "linux"}},
			"event": map[string]any{"module": "auditd", "category": []string{"process"}, "type": []string{"start"}, "outcome": "failure"},
		}, []string{"any", "auditd"}},
		{"linux sysmon process start", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "linux"}},
			"event":  map[string]any{"module": "sysmon_linux", "code": "1", "category": []string{"process"}, "type": []string{"start"}},
			"winlog": map[string]any{"channel": "Linux-Sysmon/Operational"},
		}, []string{"any", "process_creation", "linux sysmon"}},
		{"linux sysmon process end", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "linux"}},
			"event":  map[string]any{"module": "sysmon_linux", "code": "5"},
			"winlog": map[string]any{"channel": "Linux-Sysmon/Operational"},
		}, []string{"any", "process_termination", "linux sysmon"}},
		{"network", map[string]any{"event": map[string]any{"category": []string{"network"}}, "destination": map[string]any{"ip": "203.0.113.7", "port": 443}}, []string{"any", "network_connection"}},
		{"inbound", map[string]any{"event": map[string]any{"category": []string{"network"}}, "source": map[string]any{"ip": "203.0.113.7"}}, []string{"any", "network_connection"}},
		// An audit connect to a Unix socket (nscd's): local IPC.
		{"unix socket", map[string]any{"event": map[string]any{"category": []string{"network"}}, "destination": map[string]any{"path": "/var/run/nscd/socket"}}, []string{"any"}},
		{"file creation", map[string]any{"event": map[string]any{"category": []string{"file"}, "type": []string{"creation"}}}, []string{"any", "file_event"}},
		// An audit open for writing of a file that exists: Sysmon 11 logs an overwrite too.
		{"file written", map[string]any{"event": map[string]any{"category": []string{"file"}, "type": []string{"change"}, "action": "opened-file"}}, []string{"any", "file_event"}},
		{"file chmod", map[string]any{"event": map[string]any{"category": []string{"file"}, "type": []string{"change"}, "action": "changed-file-permissions-of"}}, []string{"any"}},
		{"file deletion", map[string]any{"event": map[string]any{"category": []string{"file"}, "type": []string{"deletion"}}}, []string{"any"}},
		{"nginx access", map[string]any{"event": map[string]any{"category": []string{"web"}, "module": "nginx"}}, []string{"any", "webserver", "nginx"}},
		{"nginx error", map[string]any{"event": map[string]any{"category": []string{"web"}, "type": []string{"error"}, "module": "nginx"}}, []string{"any", "nginx"}},
		// Sysmon's file events by id, as pySigma's Sysmon pipeline maps
		// them; 26 is file_delete too (route.go).
		{"sysmon 23 file delete", sysmonEvent("23"), []string{"any", "windows", "sysmon", "file_delete"}},
		{"sysmon 26 file delete detected", sysmonEvent("26"), []string{"any", "windows", "sysmon", "file_delete", "file_delete_detected"}},
		{"sysmon 2 file creation time changed", sysmonEvent("2"), []string{"any", "windows", "sysmon", "file_change"}},
		{"powershell script block", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "windows"}},
			"event":  map[string]any{"code": "4104"},
			"winlog": map[string]any{"channel": "Microsoft-Windows-PowerShell/Operational"},
		}, []string{"any", "windows", "ps_script"}},
		{"powershell module logging is not a script block", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "windows"}},
			"event":  map[string]any{"code": "4103"},
			"winlog": map[string]any{"channel": "Microsoft-Windows-PowerShell/Operational"},
		}, []string{"any", "windows"}},
		{"classic powershell pipeline execution", map[string]any{
			"host":   map[string]any{"os": map[string]any{"type": "windows"}},
			"event":  map[string]any{"code": "800"},
			"winlog": map[string]any{"channel": "Windows PowerShell"},
		}, []string{"any", "windows", "ps_classic_script"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.doc["marker"] = "x"
			got := titles(e.Match(tt.doc))
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestConcurrentMatch runs one engine from many goroutines (run with -race).
func TestConcurrentMatch(t *testing.T) {
	e := loadSeeds(t)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				hit := windowsProc(`C:\Windows\System32\cmd.exe`, `C:\w3wp.exe`)
				miss := windowsProc(`C:\Windows\System32\cmd.exe`, fmt.Sprintf(`C:\p%d-%d.exe`, g, i))
				if len(e.Match(hit)) != 1 || len(e.Match(miss)) != 0 {
					errs <- "wrong result under concurrency"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Sources whose routes hold the same rules share one plan: an odd mix of
// categories costs a cache entry, not another bucket.
func TestPlansShareBuckets(t *testing.T) {
	e := routingEngine(t)
	proc := source{product: "windows", cats: categoryBits.bit["process_creation"]}
	withRegistry := proc
	withRegistry.cats |= categoryBits.bit["registry_event"] // no rule has this category
	network := source{product: "windows", cats: categoryBits.bit["network_connection"]}
	if e.plan(proc) != e.plan(withRegistry) {
		t.Error("sources reaching the same rules got different buckets")
	}
	if e.plan(proc) == e.plan(network) {
		t.Error("sources reaching different rules share a bucket")
	}
	if n := len(e.byRoutes); n != 2 {
		t.Errorf("%d buckets built for 2 rule sets", n)
	}
}
