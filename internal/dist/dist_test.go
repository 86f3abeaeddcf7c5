package dist

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	if p, err := ParsePlatform(" linux/arm64"); err != nil || p != (Platform{"linux", "arm64"}) {
		t.Errorf("linux/arm64: %v, %v", p, err)
	}
	for _, bad := range []string{"darwin/arm64", "linux", "windows/arm64"} {
		if _, err := ParsePlatform(bad); err == nil || !strings.Contains(err.Error(), "want one of") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Read-only files go under home, configuration under /etc (conffiles).
func TestDebPath(t *testing.T) {
	for name, want := range map[string]string{
		"webshellbeat":                  "/usr/share/webshellbeat/bin/webshellbeat",
		"kibana/7/dashboard/x.json":     "/usr/share/webshellbeat/kibana/7/dashboard/x.json",
		"NOTICE.txt":                    "/usr/share/webshellbeat/NOTICE.txt",
		"webshellbeat.yml":              "/etc/webshellbeat/webshellbeat.yml",
		"modules.d/apache.yml.disabled": "/etc/webshellbeat/modules.d/apache.yml.disabled",
		"fields.yml":                    "/etc/webshellbeat/fields.yml",
		"webshellbeat.reference.yml":    "/etc/webshellbeat/webshellbeat.reference.yml",
	} {
		if got := debPath(name); got != want {
			t.Errorf("debPath(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestParents(t *testing.T) {
	if got := parents("base/kibana/7/x.json"); !slices.Equal(got, []string{"base", "base/kibana", "base/kibana/7"}) {
		t.Errorf("parents: %v", got)
	}
}

// Each package has the modules its build can run.
func TestModuleRuns(t *testing.T) {
	files, err := filepath.Glob("../../modules.d/*.yml.disabled")
	if err != nil || len(files) == 0 {
		t.Fatalf("no module files: %v", err)
	}
	shipped := map[Platform][]string{}
	for _, p := range Platforms {
		for _, f := range files {
			ok, err := moduleRuns(f, p)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				shipped[p] = append(shipped[p], strings.TrimSuffix(filepath.Base(f), ".yml.disabled"))
			}
		}
	}
	linux := "apache apache_container apache_error caddy evtx iis lighttpd modsecurity nginx nginx_container nginx_error php_error php_fpm sysmon_linux tomcat tomcat_error windows_text auditd auditd_live laurel"
	for p, want := range map[Platform]string{
		{"linux", "amd64"}:   linux,
		{"linux", "arm64"}:   linux,
		{"windows", "amd64"}: "apache apache_container apache_error caddy evtx iis lighttpd modsecurity nginx nginx_container nginx_error php_error php_fpm sysmon_linux tomcat tomcat_error windows windows_text",
	} {
		got := shipped[p]
		slices.Sort(got)
		w := strings.Fields(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%v: modules %v, want %v", p, got, w)
		}
	}
}

// The Windows zip has the service scripts beside the binary; the Linux
// packages, which have a systemd unit instead, do not.
func TestServiceScriptsInWindowsZip(t *testing.T) {
	for _, p := range Platforms {
		files, err := layout("../..", "/tmp/"+p.exe(), "", p)
		if err != nil {
			t.Fatal(err)
		}
		var scripts []string
		for _, f := range files {
			if strings.HasSuffix(f.name, ".ps1") {
				scripts = append(scripts, f.name)
				if !strings.Contains(f.text, "\r\n") || strings.Contains(strings.ReplaceAll(f.text, "\r\n", ""), "\n") {
					t.Errorf("%v %s: want Windows line ends throughout", p, f.name)
				}
			}
		}
		want := []string{"install-service-webshellbeat.ps1", "uninstall-service-webshellbeat.ps1"}
		if p.GOOS != "windows" {
			want = nil
		}
		if !slices.Equal(scripts, want) {
			t.Errorf("%v: scripts %v, want %v", p, scripts, want)
		}
	}
}
