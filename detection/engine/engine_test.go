package engine

import (
	"slices"
	"testing"

	"webshellbeat/detection/sigma"
)

const seedDir = "../../../shared/data/seed"

func loadSeeds(t testing.TB) *Engine {
	t.Helper()
	c := sigma.LoadPaths(seedDir)
	if len(c.Errors) > 0 {
		t.Fatalf("seed rules rejected:\n%v", c.Errors)
	}
	e, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func windowsProc(image, parent string) map[string]any {
	return map[string]any{
		"event": map[string]any{"category": []any{"process"}, "type": []any{"start"}},
		"host":  map[string]any{"os": map[string]any{"type": "windows"}},
		"process": map[string]any{
			"executable": image,
			"parent":     map[string]any{"executable": parent},
		},
	}
}

func linuxProc(name, parent, user string) map[string]any {
	return map[string]any{
		"event":   map[string]any{"category": []string{"process"}, "type": []string{"start"}},
		"host":    map[string]any{"os": map[string]any{"type": "linux"}},
		"process": map[string]any{"name": name, "parent": map[string]any{"name": parent}},
		"user":    map[string]any{"name": user},
	}
}

func titles(rs []*sigma.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}

const (
	winSeed   = "Web服务器衍生可疑进程"
	linuxSeed = "Linux Web服务器衍生可疑Shell进程"
)

func TestSeedRules(t *testing.T) {
	e := loadSeeds(t)
	tests := []struct {
		name string
		doc  map[string]any
		want []string
	}{
		{"w3wp spawns cmd", windowsProc(`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`), []string{winSeed}},
		{"case-insensitive", windowsProc(`C:\WINDOWS\system32\WHOAMI.EXE`, `c:\windows\system32\inetsrv\W3WP.exe`), []string{winSeed}},
		{"php-cgi spawns powershell", windowsProc(`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\php\php-cgi.exe`), []string{winSeed}},
		{"explorer spawns cmd", windowsProc(`C:\Windows\System32\cmd.exe`, `C:\Windows\explorer.exe`), nil},
		{"w3wp spawns notepad", windowsProc(`C:\Windows\System32\notepad.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`), nil},
		{"suffix without backslash", windowsProc(`C:\tools\mycmd.exe`, `C:\x\w3wp.exe`), nil},
		{"on linux host", func() map[string]any {
			d := windowsProc(`C:\Windows\System32\cmd.exe`, `C:\w3wp.exe`)
			d["host"] = map[string]any{"os": map[string]any{"type": "linux"}}
			return d
		}(), nil},
		{"not a process start", func() map[string]any {
			d := windowsProc(`C:\Windows\System32\cmd.exe`, `C:\w3wp.exe`)
			d["event"] = map[string]any{"category": "process", "type": "end"}
			return d
		}(), nil},
		{"apache2 spawns sh as www-data", linuxProc("sh", "apache2", "www-data"), []string{linuxSeed}},
		{"php-fpm under nginx name", linuxProc("bash", "nginx: worker", "nginx"), []string{linuxSeed}},
		{"sh as root", linuxProc("sh", "apache2", "root"), nil},
		{"python under httpd", linuxProc("python3", "httpd", "apache"), nil},
		{"sshd spawns bash", linuxProc("bash", "sshd", "www-data"), nil},
		{"name is exact, not contains", linuxProc("bashful", "httpd", "apache"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := titles(e.Match(tt.doc))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSeedWarnings(t *testing.T) {
	c := sigma.LoadPaths(seedDir)
	if len(c.Rules) != 2 {
		t.Fatalf("loaded %d rules, want 2", len(c.Rules))
	}
	var got []string
	for _, w := range c.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		seedDir + "/sigma-linux-webserver-shell.yml:2:5: bad-id: id \"a23456789-abcd012345-bcd678901234\" is not a UUID",
		seedDir + "/sigma-windows-webserver-suspicious-child.yml:2:5: bad-id: id \"z12345678-abcd901234-abc567890123\" is not a UUID",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%q\nwant\n%q", got, want)
	}
}

// Matching allocates nothing per event, with every SigmaHQ rule loaded: the
// event's string forms go into its arena and the scratch is pooled.
func TestMatchAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items: allocation counts mean nothing")
	}
	e, err := New(sigma.LoadPaths(sigmaHQDirs(t)...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := []map[string]any{sysmonDoc(), webDoc()}
	var dst []*sigma.Rule
	for _, doc := range docs {
		dst = e.AppendMatches(dst[:0], doc) // grow dst and the arena once
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, doc := range docs {
			dst = e.AppendMatches(dst[:0], doc)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run of %d documents, want 0", allocs, len(docs))
	}
}
