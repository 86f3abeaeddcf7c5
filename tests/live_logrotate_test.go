//go:build linux

package tests

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// rotateCase is a live server whose access log logrotate rotates with the
// distribution's own configuration for it.
type rotateCase struct {
	module     string // the shipped module that reads the log
	port       int
	log        string
	site, text string // a configuration file of the test's own, and its text
	logrotate  string // the distribution's logrotate file
	glob       string // the paths it rotates, replaced by log
	// command is the postrotate command, replaced by with: invoke-rc.d,
	// which this container's policy-rc.d refuses, by what it runs.
	command, with string
}

// TestLiveLogrotate runs the shipped nginx module on a live nginx's access
// log while logrotate rotates it with Debian's own /etc/logrotate.d/nginx
// (compress, delaycompress, create): every request is read once, and the
// compressed rotations are not read as text.
//
// Two things are scaled down, in proportion: the log is rotated every 2.5 s
// instead of daily, so the module's scan runs every 500 ms instead of
// filestream's 10 s (a file renamed and compressed between two scans is not
// seen: a rotation must not come faster than the scan). And the postrotate
// command is `nginx -s reopen` in place of Debian's `invoke-rc.d nginx
// rotate`, which sends the same signal but which this container's
// policy-rc.d refuses.
func TestLiveLogrotate(t *testing.T) {
	liveLogrotate(t, rotateCase{
		module: "nginx", port: 18089, log: "/var/log/nginx/wsb-rotate.log",
		site: "/etc/nginx/conf.d/wsb-rotate.conf",
		text: `server {
    listen 127.0.0.1:18089;
    access_log /var/log/nginx/wsb-rotate.log combined;
    location / { return 200 "ok\n"; }
}
`,
		logrotate: "/etc/logrotate.d/nginx", glob: "/var/log/nginx/*.log",
		command: "invoke-rc.d nginx rotate", with: "nginx -s reopen",
	})
}

// TestLiveLogrotateApache is TestLiveLogrotate for Apache with Debian's
// /etc/logrotate.d/apache2, whose postrotate is a graceful restart
// (`apache2ctl graceful` for `invoke-rc.d apache2 reload`): children still
// serving a request may write to the renamed file after the rotation.
func TestLiveLogrotateApache(t *testing.T) {
	liveLogrotate(t, rotateCase{
		module: "apache", port: 18090, log: "/var/log/apache2/wsb-rotate.log",
		site: "/etc/apache2/sites-enabled/wsb-rotate.conf",
		text: `Listen 127.0.0.1:18090
<VirtualHost 127.0.0.1:18090>
    DocumentRoot /var/www/html
    CustomLog /var/log/apache2/wsb-rotate.log combined
</VirtualHost>
`,
		logrotate: "/etc/logrotate.d/apache2", glob: "/var/log/apache2/*.log",
		command: "invoke-rc.d apache2 reload", with: "apache2ctl graceful",
	})
}

func liveLogrotate(t *testing.T, c rotateCase) {
	fpm := liveReady(t)
	if _, err := exec.LookPath("logrotate"); err != nil {
		t.Fatal("logrotate not found (.ci/linux-e2e.sh installs it)")
	}
	port, logPath, module := c.port, c.log, c.module
	clean := func() {
		old, _ := filepath.Glob(logPath + "*")
		for _, f := range old {
			os.Remove(f)
		}
	}
	clean()
	t.Cleanup(clean)
	testfiles.Write(t, c.site, c.text)
	t.Cleanup(func() { os.Remove(c.site) })
	startServers(t, fpm)
	waitPort(t, port)

	conf := filepath.Join(t.TempDir(), module+".logrotate")
	testfiles.Write(t, conf, debianLogrotate(t, c.logrotate, c.glob, logPath, c.command, c.with))
	state := filepath.Join(t.TempDir(), "logrotate.state")

	// Requests at about 200/s for 10 s, numbered, and a rotation every 2.5 s.
	const requests = 2000
	sent := make(chan error, 1)
	go func() {
		c := http.Client{Timeout: 5 * time.Second}
		for i := range requests {
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/shop/item.php?id=%06d", port, i))
			if err != nil {
				sent <- err
				return
			}
			resp.Body.Close()
			time.Sleep(5 * time.Millisecond)
		}
		sent <- nil
	}()
	rotated := make(chan error, 1)
	go func() {
		for range 3 {
			time.Sleep(2500 * time.Millisecond)
			if out, err := exec.Command("logrotate", "-f", "-s", state, conf).CombinedOutput(); err != nil {
				rotated <- fmt.Errorf("logrotate: %v\n%s", err, out)
				return
			}
		}
		rotated <- nil
	}()

	dir, cfgPath := shippedHome(t)
	args := append(fileOutputFlags(dir), "--modules", module,
		"-M", fmt.Sprintf("%s.paths=[%q]", module, logPath+"*"),
		"-M", module+".prospector.scanner.check_interval=500ms")
	var sendErr, rotateErr error
	finished := 0
	runBeat(t, cfgPath, dir, func() bool {
		select {
		case sendErr = <-sent:
			finished++
		case rotateErr = <-rotated:
			finished++
		default:
		}
		return finished == 2 && len(readDocs(t, dir)) >= requests
	}, args...)
	if sendErr != nil || rotateErr != nil || finished != 2 {
		t.Fatalf("traffic: %v; rotation: %v (%d of 2 finished)", sendErr, rotateErr, finished)
	}

	files, _ := filepath.Glob(logPath + "*")
	for _, want := range []string{logPath, logPath + ".1", logPath + ".2.gz", logPath + ".3.gz"} {
		if _, err := os.Stat(want); err != nil {
			t.Errorf("after three rotations: %v (files %v)", err, files)
		}
	}
	seen := map[string]int{}
	idRE := regexp.MustCompile(`id=(\d{6})`)
	for _, d := range readDocs(t, dir) {
		if msg := detection.LookupString(d, "error.message"); msg != "" {
			t.Errorf("a document of %s with error.message %q (a compressed rotation read as text?): %.120q", detection.LookupString(d, "log.file.path"), msg, detection.LookupString(d, "message"))
			continue
		}
		m := idRE.FindStringSubmatch(detection.LookupString(d, "url.original"))
		if m == nil {
			t.Errorf("a document of no request of the test: %v", d["url"])
			continue
		}
		seen[m[1]]++
	}
	if lost, twice := notOnce(seen, requests, "%06d"); len(lost) > 0 || len(twice) > 0 {
		t.Errorf("of %d requests over %d files, %d not read (%s) and %d read more than once (%s)",
			requests, len(files), len(lost), spans(lost), len(twice), spans(twice))
		return
	}
	t.Logf("%d requests, %d files after three rotations (%v): each read once", requests, len(files), files)
}

// notOnce lists the ids 0 to n-1 (written with format) that seen counts
// never (lost) and more than once (twice).
func notOnce(seen map[string]int, n int, format string) (lost, twice []string) {
	for i := range n {
		switch id := fmt.Sprintf(format, i); seen[id] {
		case 1:
		case 0:
			lost = append(lost, id)
		default:
			twice = append(twice, id)
		}
	}
	return lost, twice
}

// debianLogrotate returns a distribution's logrotate file with its path and
// one command replaced; it fails if either is no longer there.
func debianLogrotate(t *testing.T, file, glob, path, command, with string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if !strings.HasPrefix(s, glob+" {") || !strings.Contains(s, command) {
		t.Fatalf("%s no longer starts with %q or runs %q:\n%s", file, glob+" {", command, s)
	}
	return strings.Replace(strings.Replace(s, glob, path, 1), command, with, 1)
}

// spans writes zero-padded numbers as sorted ranges: 0001-0003 0007.
func spans(ids []string) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && atoi(ids[j+1]) == atoi(ids[j])+1 {
			j++
		}
		if j == i {
			out = append(out, ids[i])
		} else {
			out = append(out, ids[i]+"-"+ids[j])
		}
		i = j + 1
	}
	return strings.Join(out, " ")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
