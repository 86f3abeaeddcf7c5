package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"

	"gopkg.in/yaml.v3"
)

// rotationCase is a module whose log logrotate renames, the line it writes
// and how to find a line's number in the document made of it.
type rotationCase struct {
	module string
	line   func(i int) string
	mark   *regexp.Regexp // over the document's JSON
}

// unrenamedModules are the modules whose files are never renamed, with why:
// for them a path without a rotation's name is right.
var unrenamedModules = map[string]string{
	"iis":              "IIS starts a file a day (u_exYYMMDD.log) and never renames one",
	"tomcat":           "Tomcat's AccessLogValve starts a file a day, named by its date",
	"tomcat_error":     "Tomcat's JULI starts a file a day, named by its date",
	"windows_text":     "a folder of exported files",
	"evtx":             "the evtx input's own (a folder of exported files)",
	"auditd":           "the auditd input's own, which follows auditd's rotations itself (input/auditd/reader.go)",
	"apache_container": "kubelet renames a container's log in /var/log/pods, where /var/log/containers' links no longer lead (README)",
	"nginx_container":  "as apache_container",
}

// Every module whose log logrotate renames (name.1, or name-YYYYMMDD with
// dateext) keeps the rotation among its paths. filestream follows a renamed
// file only while a path of its input still names it: renamed out of them, it
// counts as removed, and what the beat had not read of it (the beat was
// stopped, or the output held it back for the scanner's 10 s) is never read.
func TestModulePathsKeepRotations(t *testing.T) {
	for _, module := range shippedModules(t) {
		paths := shippedPaths(t, module)
		if _, ok := unrenamedModules[module]; ok || len(paths) == 0 {
			continue
		}
		for _, p := range paths {
			if strings.HasSuffix(p, "*") {
				continue
			}
			for _, rotated := range []string{p + ".1", p + "-20261127"} {
				if !matchesAny(paths, rotated) {
					t.Errorf("%s: a rotation of %s (%s) is not among the module's paths %v", module, p, rotated, paths)
				}
			}
		}
	}
}

// The filestream inputs of the shipped configuration files, which users
// copy, keep rotations among their paths as the modules do. Paths under
// /var/log/containers are the exception of the container modules, and
// those without a /var/log/ prefix (IIS, exported files) are never renamed.
func TestConfigExamplesKeepRotations(t *testing.T) {
	for _, file := range []string{"../webshellbeat.yml", "../webshellbeat.reference.yml"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Inputs []struct {
				Type  string   `yaml:"type"`
				ID    string   `yaml:"id"`
				Paths []string `yaml:"paths"`
			} `yaml:"webshellbeat.inputs"`
		}
		if err := yaml.Unmarshal(raw, &cfg); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		checked := 0
		for _, in := range cfg.Inputs {
			for _, p := range in.Paths {
				if in.Type != "filestream" || !strings.HasPrefix(p, "/var/log/") || strings.HasPrefix(p, "/var/log/containers/") {
					continue
				}
				checked++
				log := strings.TrimSuffix(p, "*")
				if !matchesAny(in.Paths, log+".1") || !matchesAny(in.Paths, log+"-20261127") {
					t.Errorf("%s: input %s: a rotation of %s is not among its paths %v", file, in.ID, p, in.Paths)
				}
			}
		}
		if checked == 0 {
			t.Errorf("%s: no filestream input reads a file under /var/log/", file)
		}
	}
}

func matchesAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// The beat stops; lines are written; logrotate renames the log and a new
// one starts; the beat starts again. Every line of the modules' logs is
// read once, those of the renamed file too: run on each module's own paths,
// moved under a temporary folder.
func TestRotationWhileStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	sysmonLine := sysmonSyslogLine(t)
	cases := []rotationCase{
		{"nginx", func(i int) string {
			return fmt.Sprintf(`203.0.113.7 - - [27/Nov/2026:10:00:%02d +0000] "GET /rotation/%d HTTP/1.1" 200 31 "-" "curl/8.5.0"`, i%60, i)
		}, regexp.MustCompile(`/rotation/(\d+)`)},
		{"php_fpm", func(i int) string {
			return fmt.Sprintf(`[27-Nov-2026 10:00:%02d] WARNING: [pool www] child 31 said into stderr: "rotation test line %d"`, i%60, i)
		}, regexp.MustCompile(`rotation test line (\d+)`)},
		{"php_error", func(i int) string {
			return fmt.Sprintf(`[27-Nov-2026 10:00:%02d UTC] PHP Warning:  rotation test line %d in /var/www/html/x.php on line 3`, i%60, i)
		}, regexp.MustCompile(`rotation test line (\d+)`)},
		{"sysmon_linux", func(i int) string {
			return fmt.Sprintf("Nov 27 10:00:%02d web1 %s", i%60, strings.Replace(sysmonLine, `"SourcePort">41696<`, fmt.Sprintf(`"SourcePort">%d<`, 10000+i), 1))
		}, regexp.MustCompile(`"SourcePort":"1(\d{4})"`)},
	}
	dir, cfgPath := shippedHome(t)
	root := t.TempDir()
	args := fileOutputFlags(dir)
	var modules []string
	logs := map[string]string{}
	for _, c := range cases {
		var paths []string
		for _, p := range shippedPaths(t, c.module) {
			paths = append(paths, strconv.Quote(filepath.Join(root, c.module, p)))
		}
		// The file the module's first path names (its * as "8.2").
		logs[c.module] = filepath.Join(root, c.module, strings.ReplaceAll(shippedPaths(t, c.module)[0], "*", "8.2"))
		testfiles.Write(t, logs[c.module], c.lines(0, 20))
		modules = append(modules, c.module)
		args = append(args, "-M", fmt.Sprintf("%s.paths=[%s]", c.module, strings.Join(paths, ",")))
	}
	args = append(args, "--modules", strings.Join(modules, ","))
	marks := func() map[string][]int {
		got := map[string][]int{}
		for _, d := range readDocs(t, dir) {
			path := detection.LookupString(d, "log.file.path")
			raw, _ := json.Marshal(d)
			for _, c := range cases {
				if m := c.mark.FindSubmatch(raw); m != nil && strings.HasPrefix(path, filepath.Join(root, c.module)+string(filepath.Separator)) {
					n, _ := strconv.Atoi(string(m[1]))
					got[c.module] = append(got[c.module], n)
				}
			}
		}
		return got
	}
	total := func(want int) func() bool {
		return func() bool { return len(readDocs(t, dir)) >= want }
	}
	runBeat(t, cfgPath, dir, total(20*len(cases)), args...)
	for _, c := range cases {
		testfiles.Append(t, logs[c.module], c.lines(20, 40))
		if err := os.Rename(logs[c.module], logs[c.module]+".1"); err != nil {
			t.Fatal(err)
		}
		testfiles.Write(t, logs[c.module], c.lines(40, 60))
	}
	runBeat(t, cfgPath, dir, total(60*len(cases)), args...)
	got := marks()
	for _, c := range cases {
		seen := map[int]int{}
		for _, n := range got[c.module] {
			seen[n]++
		}
		var lost, twice []int
		for i := range 60 {
			switch {
			case seen[i] == 0:
				lost = append(lost, i)
			case seen[i] > 1:
				twice = append(twice, i)
			}
		}
		if len(lost) > 0 || len(twice) > 0 || len(got[c.module]) != 60 {
			t.Errorf("%s: %d documents; lines never read: %v; read twice: %v (20-39 went to the renamed file)", c.module, len(got[c.module]), lost, twice)
		}
	}
}

// lines returns c's lines from..to-1, each ended.
func (c rotationCase) lines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(c.line(i) + "\n")
	}
	return b.String()
}

// sysmonSyslogLine is the message of the first Sysmon for Linux line of
// the bundled Log4Shell syslog (a network connection from source port
// 41696), without its syslog header's time and host.
func sysmonSyslogLine(t *testing.T) string {
	raw, err := os.ReadFile("../testdata/samples/tomcat_log4shell_syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.Contains(l, "Linux-Sysmon") && strings.Contains(l, `"SourcePort">41696<`) {
			if i := strings.Index(l, "sysmon: "); i >= 0 {
				return l[i:]
			}
		}
	}
	t.Fatal("no Sysmon line with source port 41696 in the Log4Shell sample")
	return ""
}
