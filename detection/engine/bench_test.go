package engine

import (
	"testing"

	"webshellbeat/detection/sigma"
)

// sysmonDoc is seed/sysmon-1.txt (w3wp.exe -> cmd.exe /c whoami) as the
// ECS document the Sysmon mapper produces.
func sysmonDoc() map[string]any {
	return map[string]any{
		"@timestamp": "2025-06-10T02:30:00.123Z",
		"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "code": "1", "module": "sysmon"},
		"host":       map[string]any{"name": "WEB01", "os": map[string]any{"type": "windows"}},
		"process": map[string]any{
			"entity_id":         "{12345678-abcd-1234-abcd-1234567890ab}",
			"pid":               1234,
			"executable":        `C:\Windows\System32\cmd.exe`,
			"name":              "cmd.exe",
			"command_line":      "cmd.exe /c whoami",
			"pe":                map[string]any{"original_file_name": "Cmd.Exe"},
			"working_directory": `c:\windows\system32\inetsrv\`,
			"parent": map[string]any{
				"pid":          5678,
				"executable":   `C:\Windows\System32\inetsrv\w3wp.exe`,
				"name":         "w3wp.exe",
				"command_line": `c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0"`,
			},
		},
		"user": map[string]any{"name": "NETWORK SERVICE", "domain": "NT AUTHORITY"},
		"winlog": map[string]any{
			"channel":       "Microsoft-Windows-Sysmon/Operational",
			"event_id":      1,
			"provider_name": "Microsoft-Windows-Sysmon",
			"event_data": map[string]any{
				"User":           `NT AUTHORITY\NETWORK SERVICE`,
				"IntegrityLevel": "Medium",
				"Hashes":         "SHA256=0123456789ABCDEF",
				"Company":        "Microsoft Corporation",
				"Description":    "Windows Command Processor",
				"Product":        "Microsoft® Windows® Operating System",
			},
		},
	}
}

func webDoc() map[string]any {
	return map[string]any{
		"event":      map[string]any{"category": []string{"web"}, "module": "apache"},
		"host":       map[string]any{"os": map[string]any{"type": "linux"}},
		"http":       map[string]any{"request": map[string]any{"method": "GET"}, "response": map[string]any{"status_code": 200}},
		"url":        map[string]any{"original": "/shell.php?cmd=whoami", "path": "/shell.php", "query": "cmd=whoami"},
		"source":     map[string]any{"ip": "203.0.113.7"},
		"user_agent": map[string]any{"original": "curl/8.0"},
	}
}

// processCreationRules loads the SigmaHQ process_creation rules for Windows.
func processCreationRules(b *testing.B) *sigma.Collection {
	all := sigma.LoadPaths(sigmaHQDirs(b)...)
	c := &sigma.Collection{}
	for _, r := range all.Rules {
		if r.Logsource.Category == "process_creation" && r.Logsource.Product == "windows" {
			c.Rules = append(c.Rules, r)
		}
	}
	return c
}

func BenchmarkMatchProcessCreation(b *testing.B) {
	c := processCreationRules(b)
	e, err := New(c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	doc := sysmonDoc()
	b.Logf("%d rules, %d match the doc", len(c.Rules), len(e.Match(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Match(doc)
	}
}

func BenchmarkMatchProcessCreationParallel(b *testing.B) {
	e, err := New(processCreationRules(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		doc := sysmonDoc()
		var dst []*sigma.Rule
		for pb.Next() {
			dst = e.AppendMatches(dst[:0], doc)
		}
	})
}

func BenchmarkMatchUnrelatedEvent(b *testing.B) {
	e, err := New(processCreationRules(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	doc := webDoc()
	b.ReportAllocs()
	for b.Loop() {
		e.Match(doc)
	}
}

func BenchmarkLoadSigmaHQ(b *testing.B) {
	dirs := sigmaHQDirs(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(sigma.LoadPaths(dirs...), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrefilter compares, in one process, the prefiltered engine with a
// full scan of the same rules (every SigmaHQ rule) on the Sysmon document.
func BenchmarkPrefilter(b *testing.B) {
	coll := sigma.LoadPaths(sigmaHQDirs(b)...)
	for _, mode := range []struct {
		name string
		opts Options
	}{{"prefilter", Options{}}, {"fullscan", Options{fullScan: true}}} {
		e, err := New(coll, mode.opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(mode.name, func(b *testing.B) {
			doc := sysmonDoc()
			var dst []*sigma.Rule
			b.ReportAllocs()
			for b.Loop() {
				dst = e.AppendMatches(dst[:0], doc)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
