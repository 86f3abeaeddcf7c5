package auditd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/go-libaudit/v2/auparse"
	"github.com/elastic/go-libaudit/v2/rule"
	"gopkg.in/yaml.v3"

	mapper "webshellbeat/module/auditd"
)

func TestDefaultRules(t *testing.T) {
	c := defaultLiveConfig()
	c.WebRoots = []string{"/var/www/html/", "/srv/site"}
	c.AuditRules = "# comment\n-a always,exit -F arch=b64 -S connect -F euid=33 -k net\n\n"
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-a always,exit -F arch=b64 -S execve,execveat -k exec",
		"-a always,exit -F arch=b32 -S execve,execveat -k exec",
		"-w /var/www/html -p wa -k webroot",
		"-w /srv/site -p wa -k webroot",
		"-a always,exit -F arch=b64 -S connect -F euid=33 -k net",
	}
	if got := c.ruleTexts(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rules, err := c.rules()
	if err != nil || len(rules) != len(want) {
		t.Fatalf("rules: %v, %d", err, len(rules))
	}
	// The wire format matches one built from go-libaudit's structures.
	ref, err := rule.Build(&rule.FileWatchRule{Type: rule.FileWatchRuleType, Path: "/var/www/html",
		Permissions: []rule.AccessType{rule.WriteAccessType, rule.AttributeChangeAccessType}, Keys: []string{"webroot"}})
	if err != nil || string(ref) != string(rules[2].data) {
		t.Errorf("watch rule wire format differs (%v)", err)
	}
	ref, err = rule.Build(&rule.SyscallRule{Type: rule.AppendSyscallRuleType, List: "exit", Action: "always",
		Filters:  []rule.FilterSpec{{Type: rule.ValueFilterType, LHS: "arch", Comparator: "=", RHS: "b64"}},
		Syscalls: []string{"execve", "execveat"}, Keys: []string{"exec"}})
	if err != nil || string(ref) != string(rules[0].data) {
		t.Errorf("execve rule wire format differs (%v)", err)
	}
	if _, err := ignoreSelfRule(1234); err != nil {
		t.Error(err)
	}

	c.ExecRules = false
	c.WebRoots = nil
	if got := c.ruleTexts(); len(got) != 1 {
		t.Errorf("exec_rules: false still gives %v", got)
	}
}

func TestRuleErrors(t *testing.T) {
	for _, bad := range []string{
		"-a always -S execve",            // no list
		"-a always,exit -S nosuchcall",   // unknown syscall
		"-w /tmp -p q",                   // bad permission
		"-w /tmp -S execve",              // mixed
		"-a always,exit -A exit,never",   // both
		"-x foo",                         // unknown flag
		"-a always,exit -F 'arch=b64",    // quote
		"-a always,exit -F arch=b64 -S",  // missing value
		"-p wa",                          // -p without -w
		"-a always,exit -F arch=b64 -S ", // missing value
	} {
		c := defaultLiveConfig()
		c.AuditRules = bad
		if err := c.validate(); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	c := defaultLiveConfig()
	c.AuditRules = "-a always,exit -F arch=b64 -S execve,execveat -k exec"
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "duplicates") {
		t.Errorf("duplicate of a default rule: %v", err)
	}
	c = defaultLiveConfig()
	c.WebRoots = []string{"relative/dir"}
	if err := c.validate(); err == nil {
		t.Error("relative web root accepted")
	}
	c = defaultLiveConfig()
	c.SocketType = "broadcast"
	if err := c.validate(); err == nil {
		t.Error("socket_type broadcast accepted")
	}
	c = defaultLiveConfig()
	c.RulesCheckInterval = 0
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "rules_check_interval") {
		t.Errorf("rules_check_interval 0: %v", err)
	}
}

func TestChooseSocket(t *testing.T) {
	free := kernelState{multicast: true}
	auditd := kernelState{ownerPID: 812, ownerAlive: true, ownerName: "auditd", multicast: true}
	stale := kernelState{ownerPID: 812, ownerAlive: false, multicast: true}
	old := kernelState{ownerPID: 812, ownerAlive: true, ownerName: "auditd"}
	locked := kernelState{locked: true, multicast: true}
	for _, tc := range []struct {
		req  string
		k    kernelState
		want string
		err  error
	}{
		{socketAuto, free, socketUnicast, nil},
		{socketAuto, auditd, socketMulticast, nil},
		{socketAuto, stale, socketUnicast, nil},
		{socketAuto, old, "", ErrSocketOwned},
		{socketAuto, locked, socketMulticast, nil},
		{socketUnicast, auditd, "", ErrSocketOwned},
		{socketUnicast, free, socketUnicast, nil},
		{socketUnicast, locked, "", ErrAuditLocked},
		{socketMulticast, free, socketMulticast, nil},
		{socketMulticast, old, "", ErrNoMulticast},
	} {
		got, why, err := chooseSocket(tc.req, tc.k, 99)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s %+v: %q %v, want %q %v", tc.req, tc.k, got, err, tc.want, tc.err)
		}
		if err == nil && why == "" {
			t.Errorf("%s %+v: no reason given", tc.req, tc.k)
		}
		if errors.Is(err, ErrSocketOwned) && !strings.Contains(err.Error(), "pid 812 (auditd)") {
			t.Errorf("owner not named: %v", err)
		}
	}
	// Our own PID registered (a restart within the same process) is not "another".
	if got, _, err := chooseSocket(socketUnicast, kernelState{ownerPID: 99, ownerAlive: true}, 99); err != nil || got != socketUnicast {
		t.Errorf("own pid: %q %v", got, err)
	}
	for rel, want := range map[string]bool{"6.1.0-18-amd64": true, "3.16.0": true, "3.10.0-1160.el7.x86_64": false, "2.6.32": false, "garbage": false, "4.19-rc1": true} {
		if hasMulticast(rel) != want {
			t.Errorf("hasMulticast(%q) = %v", rel, !want)
		}
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	k := kernelState{ownerPID: 812, ownerAlive: true, ownerName: "auditd"}
	for _, tc := range []struct {
		err  error
		want error
		hint string
	}{
		{syscall.EPERM, ErrNotPermitted, "CAP_AUDIT_CONTROL"},
		{fmt.Errorf("failed to open audit netlink socket: %w", syscall.EACCES), ErrNotPermitted, "root"},
		{fmt.Errorf("audit not supported by kernel: %w", syscall.EPROTONOSUPPORT), ErrNoAudit, "container"},
		{syscall.ECONNREFUSED, ErrNoAudit, "user namespace"},
		{syscall.EEXIST, ErrSocketOwned, "socket_type: multicast"},
	} {
		err := classify("op", tc.err, k)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%v: %v (want %v with %q)", tc.err, err, tc.want, tc.hint)
		}
	}
	if err := classify("op", syscall.EPERM, kernelState{locked: true}); !errors.Is(err, ErrAuditLocked) {
		t.Errorf("EPERM when locked: %v", err)
	}
	if err := classify("op", errors.New("odd"), k); err == nil || errors.Is(err, ErrNotPermitted) {
		t.Errorf("unknown error: %v", err)
	}

	// Capabilities from /proc/self/status.
	capEff, err := parseCapEff("Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n")
	if err != nil || capEff != 0x1ffffffffff {
		t.Fatalf("CapEff %x %v", capEff, err)
	}
	if err := checkCapabilities(capEff, socketUnicast, true); err != nil {
		t.Error(err)
	}
	onlyRead := uint64(1) << capAuditRead
	if err := checkCapabilities(onlyRead, socketMulticast, false); err != nil {
		t.Errorf("multicast without rules needs only CAP_AUDIT_READ: %v", err)
	}
	err = checkCapabilities(onlyRead, socketMulticast, true)
	if !errors.Is(err, ErrNotPermitted) || !strings.Contains(err.Error(), "CAP_AUDIT_CONTROL") || strings.Contains(err.Error(), "CAP_AUDIT_READ and") {
		t.Errorf("missing control: %v", err)
	}
	err = checkCapabilities(0, socketMulticast, true)
	if !strings.Contains(err.Error(), "CAP_AUDIT_CONTROL and CAP_AUDIT_READ") || !strings.Contains(err.Error(), "setcap") {
		t.Errorf("missing both: %v", err)
	}
	if _, err := parseCapEff("Name: x\n"); err == nil {
		t.Error("no CapEff accepted")
	}
}

type fakeNames map[string]string

func (f fakeNames) user(id string) string  { return f["u"+id] }
func (f fakeNames) group(id string) string { return f["g"+id] }

func TestFormatLines(t *testing.T) {
	names := fakeNames{"u33": "www-data", "g33": "www-data", "u0": "root", "g0": "root"}
	syscallRaw := `audit(1764100000.123:4567): arch=c000003e syscall=59 success=yes exit=0 a0=55 a1=56 a2=57 a3=0 items=2 ppid=900 pid=901 auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="sh" exe="/usr/bin/dash" subj=unconfined key="exec"`
	execveRaw := `audit(1764100000.123:4567): argc=3 a0="sh" a1="-c" a2="uid=0 whoami"`
	line := formatLine(auparse.AUDIT_SYSCALL, syscallRaw, names)
	if !strings.HasPrefix(line, "type=SYSCALL msg=audit(1764100000.123:4567): arch=c000003e") {
		t.Fatalf("line %q", line)
	}
	raw, rich, ok := strings.Cut(line, "\x1d")
	if !ok || raw != "type=SYSCALL msg="+syscallRaw {
		t.Fatalf("raw part %q", raw)
	}
	for _, want := range []string{`UID="www-data"`, `EUID="www-data"`, `AUID="unset"`, `GID="www-data"`, `FSGID="www-data"`} {
		if !strings.Contains(rich, want) {
			t.Errorf("enriched part %q lacks %s", rich, want)
		}
	}
	// EXECVE: arguments are not interpreted, even when they look like ids.
	if l := formatLine(auparse.AUDIT_EXECVE, execveRaw, names); strings.Contains(l, "\x1d") {
		t.Errorf("EXECVE enriched: %q", l)
	}
	if l := formatLine(auparse.AUDIT_SYSCALL, syscallRaw, nil); strings.Contains(l, "\x1d") {
		t.Errorf("nil names enriched: %q", l)
	}
	if got := formatLine(auparse.AuditMessageType(1999), "audit(1.0:1): x=1", nil); got != "type=UNKNOWN[1999] msg=audit(1.0:1): x=1" {
		t.Errorf("unknown type: %q", got)
	}

	// The lines map with module/auditd like an ENRICHED audit.log.
	var msgs []*auparse.AuditMessage
	for _, m := range []struct {
		typ auparse.AuditMessageType
		raw string
	}{
		{auparse.AUDIT_SYSCALL, syscallRaw},
		{auparse.AUDIT_EXECVE, execveRaw},
		{auparse.AUDIT_CWD, `audit(1764100000.123:4567): cwd="/var/www/html"`},
		{auparse.AUDIT_PROCTITLE, `audit(1764100000.123:4567): proctitle=7368002D630077686F616D69`},
	} {
		msg, err := auparse.Parse(m.typ, m.raw)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg)
	}
	doc, err := mapper.Map(lines(msgs, names))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]any{
		"user.name":            "www-data",
		"user.id":              "33",
		"process.executable":   "/usr/bin/dash",
		"process.command_line": "sh -c uid=0 whoami",
		"process.pid":          int64(901),
	} {
		if got := dig(doc, path); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}

	for typ, skip := range map[auparse.AuditMessageType]bool{
		1000: true, auparse.AUDIT_REPLACE: true, auparse.AUDIT_SYSCALL: false, auparse.AUDIT_EXECVE: false, auparse.AUDIT_USER_LOGIN: false, auparse.AUDIT_LOGIN: false,
	} {
		if skipRecord(typ) != skip {
			t.Errorf("skipRecord(%v) = %v", typ, !skip)
		}
	}
}

func dig(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// fakeProc writes a /proc-like tree.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T, btime int64) *fakeProc {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte(fmt.Sprintf("cpu  1 2 3\nbtime %d\nprocesses 9\n", btime)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fakeProc{t, root}
}

// add writes /proc/<pid>: stat (comm, ppid, start ticks), exe link, cmdline.
func (f *fakeProc) add(pid, ppid int, comm, exe string, startTicks int, args ...string) {
	dir := filepath.Join(f.root, fmt.Sprint(pid))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	// Fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime
	stat := fmt.Sprintf("%d (%s) S %d 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 1000 10\n", pid, comm, ppid, startTicks)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		f.t.Fatal(err)
	}
	if exe != "" {
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeProc) remove(pid int) { _ = os.RemoveAll(filepath.Join(f.root, fmt.Sprint(pid))) }

func execDoc(at time.Time, pid, ppid int64, exe string, args ...string) map[string]any {
	return map[string]any{
		"@timestamp": at,
		"event":      map[string]any{"action": "executed"},
		"process": map[string]any{
			"pid": pid, "executable": exe, "name": filepath.Base(exe), "args": args,
			"command_line": strings.Join(args, " "),
			"parent":       map[string]any{"pid": ppid},
		},
	}
}

func TestProcEnrichment(t *testing.T) {
	boot := int64(1764000000)
	fp := newFakeProc(t, boot)
	// apache2 master (pid 100) and its forked worker (pid 200, never exec'd:
	// /proc is the only source of its name), started 1000 s and 1100 s after boot.
	fp.add(1, 0, "systemd", "/usr/lib/systemd/systemd", 1, "/sbin/init")
	fp.add(100, 1, "apache2", "/usr/sbin/apache2", 100000, "/usr/sbin/apache2", "-k", "start")
	fp.add(200, 100, "apache2", "/usr/sbin/apache2", 110000, "/usr/sbin/apache2", "-k", "start")
	pt := newProcTable(fp.root, 100)
	if n := pt.snapshot(); n != 3 {
		t.Fatalf("snapshot found %d processes", n)
	}
	at := time.Unix(boot+2000, 0).UTC()

	// sh -c whoami forked by the worker: parent from /proc.
	sh := execDoc(at, 300, 200, "/usr/bin/dash", "sh", "-c", "whoami")
	fp.add(300, 200, "sh", "/usr/bin/dash", 199990, "sh", "-c", "whoami")
	pt.enrich(sh)
	for path, want := range map[string]any{
		"process.parent.name":         "apache2",
		"process.parent.executable":   "/usr/sbin/apache2",
		"process.parent.command_line": "/usr/sbin/apache2 -k start",
		"process.parent.start":        time.Unix(boot+1100, 0).UTC(),
		"process.start":               time.Unix(boot+1999, 900_000_000).UTC(),
	} {
		if got := dig(sh, path); got != want {
			t.Errorf("sh: %s = %v, want %v", path, got, want)
		}
	}
	if got := ancestryNames(sh); got != "apache2,apache2,systemd" {
		t.Errorf("sh ancestry %s", got)
	}

	// whoami, child of sh, read after sh exited: sh is known from its exec event.
	fp.remove(300)
	who := execDoc(at.Add(time.Millisecond), 301, 300, "/usr/bin/whoami", "whoami")
	pt.enrich(who)
	if got := dig(who, "process.parent.name"); got != "dash" {
		t.Errorf("whoami parent %v", got)
	}
	if got := dig(who, "process.parent.command_line"); got != "sh -c whoami" {
		t.Errorf("whoami parent command line %v", got)
	}
	if got := ancestryNames(who); got != "dash,apache2,apache2,systemd" {
		t.Errorf("whoami ancestry %s", got)
	}

	// The worker exits and pid 200 is reused by a newer process: the event of
	// before names the worker (remembered at the snapshot), not the newcomer.
	fp.add(200, 1, "cron", "/usr/sbin/cron", 300000, "/usr/sbin/cron")
	late := execDoc(at.Add(2*time.Millisecond), 302, 200, "/usr/bin/dash", "sh", "-c", "id")
	pt.enrich(late)
	if got := dig(late, "process.parent.name"); got != "apache2" {
		t.Errorf("pid reuse: parent %v", got)
	}

	// A parent never seen and gone: nothing invented.
	orphan := execDoc(at, 400, 399, "/usr/bin/id", "id")
	pt.enrich(orphan)
	if got := dig(orphan, "process.parent.name"); got != nil {
		t.Errorf("unknown parent named %v", got)
	}
	if got := dig(orphan, "process.parent.pid"); got != int64(399) {
		t.Errorf("parent pid lost: %v", got)
	}

	// Fields the records carried are kept.
	own := execDoc(at, 500, 100, "/bin/true", "true")
	own["process"].(map[string]any)["parent"].(map[string]any)["name"] = "from-records"
	pt.enrich(own)
	if got := dig(own, "process.parent.name"); got != "from-records" {
		t.Errorf("parent name overwritten: %v", got)
	}

	// The table is bounded.
	small := newProcTable(fp.root, 4)
	for pid := int64(1000); pid < 1020; pid++ {
		small.observeExec(pid, 1, "/bin/x", nil, at)
	}
	if len(small.known) > 4 {
		t.Errorf("table holds %d > 4", len(small.known))
	}
}

func ancestryNames(doc map[string]any) string {
	list, _ := dig(doc, "auditd.ancestry").([]any)
	var names []string
	for _, a := range list {
		names = append(names, a.(map[string]any)["name"].(string))
	}
	return strings.Join(names, ",")
}

func TestParseStatCommWithParens(t *testing.T) {
	comm, ppid, start, ok := parseStat("42 (a) b (c)) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12345 1 1\n")
	if !ok || comm != "a) b (c)" || ppid != 7 || start != 12345 {
		t.Errorf("%q %d %d %v", comm, ppid, start, ok)
	}
	if _, _, _, ok := parseStat("42 (x) S 7"); ok {
		t.Error("short stat accepted")
	}
}

func TestIDNames(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	_ = os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"), 0o644)
	_ = os.WriteFile(group, []byte("root:x:0:\nwww-data:x:33:\n"), 0o644)
	n := newIDNames(passwd, group)
	if n.user("33") != "www-data" || n.group("0") != "root" || n.user("1000") != "" {
		t.Errorf("names: %q %q %q", n.user("33"), n.group("0"), n.user("1000"))
	}
}

func TestLiveConfigure(t *testing.T) {
	// No paths: live mode with its one source, "kernel".
	srcs, in, err := configure(mustConfig(t, map[string]any{"web_roots": []string{"/var/www/html"}, "socket_type": "multicast"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Name() != liveSourceName || !in.(*input).live {
		t.Fatalf("sources %v", srcs)
	}
	if got := in.(*input).cfg.Live.SocketType; got != socketMulticast {
		t.Errorf("socket_type %q", got)
	}
	if _, _, err := configure(mustConfig(t, map[string]any{"audit_rules": "-a bogus"}), nil); err == nil {
		t.Error("bad audit_rules accepted")
	}
}

func mustConfig(t *testing.T, m map[string]any) *conf.C {
	t.Helper()
	c, err := conf.NewConfigFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The shipped auditd_live module configures this input in live mode with
// the web roots it names.
func TestLiveModuleFileConfigures(t *testing.T) {
	raw, err := os.ReadFile("../../modules.d/auditd_live.yml.disabled")
	if err != nil {
		t.Fatal(err)
	}
	var inputs []map[string]any
	if err := yaml.Unmarshal(raw, &inputs); err != nil || len(inputs) != 1 {
		t.Fatalf("module file: %v, %d inputs", err, len(inputs))
	}
	srcs, in, err := configure(mustConfig(t, inputs[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Name() != liveSourceName || !in.(*input).live {
		t.Fatalf("sources %v", srcs)
	}
	if got := in.(*input).cfg.Live.WebRoots; len(got) != 1 || got[0] != "/var/www/html" {
		t.Errorf("web_roots %q", got)
	}
}
