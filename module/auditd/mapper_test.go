package auditd

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGolden(t *testing.T) {
	pick := func(pred func(map[string]any) bool) func(t *testing.T, gs []Group) any {
		return func(t *testing.T, gs []Group) any {
			for _, g := range gs {
				d, err := MapGroup(g)
				if err == nil && pred(d) {
					return d
				}
			}
			t.Fatal("no matching event")
			return nil
		}
	}
	all := func(t *testing.T, gs []Group) any {
		var docs []map[string]any
		for _, g := range gs {
			d, _ := MapGroup(g)
			docs = append(docs, d)
		}
		return docs
	}
	tests := []struct {
		name   string
		file   string
		choose func(t *testing.T, gs []Group) any
	}{
		{"seed-audit", "seed/audit.log", all},
		{"linux-capture-sh-c-whoami", "linux-capture/audit.log", pick(func(d map[string]any) bool {
			return reflect.DeepEqual(get(d, "process", "args"), []string{"sh", "-c", "whoami"}) && get(d, "user", "name") == "www-data"
		})},
		{"linux-capture-webroot-rename", "linux-capture/audit.log", pick(func(d map[string]any) bool {
			return get(d, "auditd", "sequence") == int64(1050)
		})},
		{"libaudit-normal", "elastic-go-libaudit/testdata/normal.log", all},
		{"beats-execve-hex-arg", "elastic-beats/filebeat/module/auditd/log/test/execve-hex-arg.log", all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs, _ := joinFile(t, dataDir+tc.file)
			golden(t, tc.name, tc.choose(t, gs))
		})
	}
}

func TestSeed(t *testing.T) {
	gs, _ := joinFile(t, dataDir+"seed/audit.log")
	if len(gs) != 1 {
		t.Fatalf("want 1 event, got %d", len(gs))
	}
	d, err := MapGroup(gs[0])
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		keys []string
		want any
	}{
		{[]string{"process", "executable"}, "/bin/bash"},
		{[]string{"process", "name"}, "bash"},
		{[]string{"process", "args"}, []string{"bash", "-c whoami"}},
		{[]string{"process", "args_count"}, int64(2)},
		{[]string{"process", "pid"}, int64(5678)},
		{[]string{"process", "parent", "pid"}, int64(1234)},
		{[]string{"process", "title"}, "httpd"},
		{[]string{"user", "id"}, "33"},
		{[]string{"event", "action"}, "executed"},
		{[]string{"event", "category"}, []string{"process"}},
		{[]string{"event", "type"}, []string{"start"}},
		{[]string{"auditd", "message_type"}, "syscall"},
		{[]string{"@timestamp"}, time.Date(2021, 6, 11, 2, 40, 0, 123e6, time.UTC)},
	}
	for _, c := range checks {
		if got := get(d, c.keys...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", strings.Join(c.keys, "."), got, c.want)
		}
	}
}

func TestLinuxCapture(t *testing.T) {
	gs, j := joinFile(t, dataDir+"linux-capture/audit.log")
	var events, shells, webroot int
	for _, g := range gs {
		d, err := MapGroup(g)
		if err != nil {
			t.Errorf("event %s (lines %v): %v", g.ID, g.LineNumbers, err)
			continue
		}
		events++
		exe, _ := get(d, "process", "executable").(string)
		if slices.Contains([]string{"/usr/bin/dash", "/usr/bin/sh", "/bin/sh", "/bin/dash"}, exe) &&
			get(d, "auditd", "data", "syscall") == "execve" && get(d, "user", "id") == "33" {
			shells++
			if get(d, "user", "name") != "www-data" {
				t.Errorf("%s: user.name = %v", g.ID, get(d, "user", "name"))
			}
			if args, _ := get(d, "process", "args").([]string); len(args) == 0 || args[0] != "sh" {
				t.Errorf("%s: args = %v", g.ID, args)
			}
		}
		if tags, _ := d["tags"].([]string); slices.Contains(tags, "webroot") && get(d, "auditd", "message_type") == "syscall" {
			webroot++
			p, _ := get(d, "file", "path").(string)
			if !strings.HasPrefix(p, "/srv/capture/") {
				t.Errorf("%s: webroot event file.path = %q", g.ID, p)
			}
		}
	}
	st := j.Stats()
	t.Logf("events=%d www-data shells=%d webroot writes=%d stats=%+v", events, shells, webroot, st)
	if events != 226 || shells != 21 || webroot != 2 {
		t.Errorf("events=%d shells=%d webroot=%d; want 226, 21, 2", events, shells, webroot)
	}
	if st.NotAudit != 0 || st.LateRecords != 0 || st.Evicted != 0 {
		t.Errorf("unexpected losses: %+v", st)
	}
}

// TestDistros maps every raw audit sample of other distributions. Files
// whose lines are sorted by type (not a real log) give late records; the
// counts pin that behaviour.
func TestDistros(t *testing.T) {
	tests := []struct {
		file           string
		events, errors int
	}{
		{"elastic-go-libaudit/auparse/testdata/audit-rhel6.log", 2, 0},
		{"elastic-go-libaudit/auparse/testdata/audit-rhel7.log", 46, 3},
		{"elastic-go-libaudit/auparse/testdata/audit-ubuntu14.log", 1, 0},
		{"elastic-go-libaudit/auparse/testdata/audit-ubuntu16.log", 3, 0},
		{"elastic-go-libaudit/auparse/testdata/audit-ubuntu17.log", 1, 0},
		{"elastic-go-libaudit/auparse/testdata/test2.log", 7, 0},
		{"elastic-go-libaudit/auparse/testdata/test3.log", 10, 0},
		{"elastic-go-libaudit/testdata/normal.log", 5, 0},
		// line 12 is an "ausearch -i" interpreted SYSCALL (arch=x86_64,
		// syscall=execve, uid=vagrant) that auparse rejects: an error doc
		// that says so.
		{"elastic-beats/filebeat/module/auditd/log/test/test.log", 14, 1},
		{"elastic-beats/filebeat/module/auditd/log/test/execve-hex-arg.log", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			gs, _ := joinFile(t, dataDir+tc.file)
			var events, errs int
			for _, g := range gs {
				d, err := MapGroup(g)
				if d == nil {
					t.Fatalf("nil document for %v", g.LineNumbers)
				}
				if err != nil {
					errs++
					if get(d, "event", "original") == "" || get(d, "error", "message") == nil {
						t.Errorf("error doc lacks event.original or error.message: %v", d)
					}
					if strings.HasSuffix(tc.file, "auditd/log/test/test.log") && !strings.Contains(err.Error(), "ausearch --raw") {
						t.Errorf("the interpreted record's error does not say what to give instead: %v", err)
					}
					continue
				}
				events++
				if _, ok := d["@timestamp"].(time.Time); !ok {
					t.Errorf("no @timestamp: %v", d)
				}
			}
			if events != tc.events || errs != tc.errors {
				t.Errorf("events=%d errors=%d, want %d, %d", events, errs, tc.events, tc.errors)
			}
		})
	}
}

func TestExecveHexArg(t *testing.T) {
	gs, _ := joinFile(t, dataDir+"elastic-beats/filebeat/module/auditd/log/test/execve-hex-arg.log")
	d, _ := MapGroup(gs[0])
	want := []string{"sh", "-c", `echo \"arg hex encoded\"`}
	if got := get(d, "process", "args"); !reflect.DeepEqual(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
}

func TestEnrichedSplit(t *testing.T) {
	line := `type=SYSCALL msg=audit(1795633334.063:919): arch=c000003e syscall=44 success=yes exit=1060 uid=0 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)` + "\x1d" + `ARCH=x86_64 SYSCALL=sendto AUID="unset" UID="root"`
	d, err := Map([]string{line})
	if err != nil {
		t.Fatal(err)
	}
	if get(d, "user", "name") != "root" || get(d, "auditd", "result") != "success" || get(d, "auditd", "enriched", "syscall") != "sendto" {
		t.Errorf("enriched part not split off: %v", d)
	}
	if got := parseEnriched(`SADDR={ saddr_fam=netlink nlnk-fam=16 } OUID="www-data" X=1`); got["SADDR"] != "saddr_fam=netlink nlnk-fam=16" || got["OUID"] != "www-data" || got["X"] != "1" {
		t.Errorf("parseEnriched = %v", got)
	}
}

func TestExecveSplitArgs(t *testing.T) {
	body := `type=EXECVE msg=audit(1.000:1): argc=3 a0="php" a1_len=10 a1[0]=6162 a1[1]=6364 a2="x"`
	args, err := execveArgs([]string{body})
	if err != nil || !reflect.DeepEqual(args, []string{"php", "abcd", "x"}) {
		t.Errorf("args=%q err=%v", args, err)
	}
}

// The kernel writes an exec's arguments in EXECVE records of at most 7.5 KB
// each: a command padded past that (here 5,000 spaces, then the payload)
// was cut to its first record, and its payload hidden from every rule.
// Captured from the kernel by the live input (testdata/SOURCES.md).
func TestExecveContinued(t *testing.T) {
	groups, _ := joinFile(t, "testdata/execve-split.log")
	want := []struct {
		argc int
		tail string
	}{
		{3, "; echo curl http://203.0.113.9/x.sh PIPE sh"},
		{1203, " 1199 1200 tail-arg"},
	}
	if len(groups) != len(want) {
		t.Fatalf("%d events, want %d", len(groups), len(want))
	}
	for i, g := range groups {
		d, err := Map(g.Lines)
		if err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
		if n := strings.Count(strings.Join(g.Lines, "\n"), "type=EXECVE"); n < 2 {
			t.Fatalf("event %d has %d EXECVE records: not the case tested", i+1, n)
		}
		args, _ := get(d, "process", "args").([]string)
		cl, _ := get(d, "process", "command_line").(string)
		if len(args) != want[i].argc || !strings.HasSuffix(cl, want[i].tail) {
			t.Errorf("event %d: %d args, command line ending %q; want %d args, ending %q", i+1, len(args), cl[max(0, len(cl)-50):], want[i].argc, want[i].tail)
		}
	}
}

// TestMapErrors: each kind of bad record still gives a document with
// event.original and an error.message naming the record and the reason.
func TestMapErrors(t *testing.T) {
	good := `type=SYSCALL msg=audit(1623379200.123:456): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 uid=33 comm="sh" exe="/bin/sh"`
	tests := []struct {
		name  string
		lines []string
		want  string
		proc  bool // the process part must still be mapped
	}{
		{"not-audit", []string{good, "hello world"}, "record 2: no type= field", true},
		{"no-header", []string{good, "type=PATH name=/x"}, "record 2: no msg=audit(", true},
		{"bad-header", []string{good, "type=PATH msg=audit(abc:def): name=/x"}, "record 2: malformed msg=audit", true},
		{"unknown-type", []string{good, "type=NOPE msg=audit(1623379200.123:456): x=1"}, `record 2: unknown record type "NOPE"`, true},
		{"other-event", []string{good, `type=CWD msg=audit(1623379200.124:457): cwd="/"`}, "record 2: record of event audit(1623379200.124:457) mixed into event audit(1623379200.123:456)", true},
		{"argc-mismatch", []string{good, `type=EXECVE msg=audit(1623379200.123:456): argc=3 a0="sh" a1="-c"`}, "record 2: EXECVE arguments: argc=3 but 2 arguments", true},
		{"only-junk", []string{"\x16\x03\x01junk"}, "record 1: no type= field", false},
		{"no-syscall", []string{`type=CWD msg=audit(1.000:1): cwd="/"`, `type=PATH msg=audit(1.000:1): name="/x"`}, "cannot coalesce event audit(1.000:1): missing syscall message", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Map(tc.lines)
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if msg, _ := get(d, "error", "message").(string); msg != err.Error() {
				t.Errorf("error.message = %q, want %q", msg, err)
			}
			if get(d, "event", "original") != strings.Join(tc.lines, "\n") {
				t.Errorf("event.original missing")
			}
			if tc.proc && get(d, "process", "executable") != "/bin/sh" {
				t.Errorf("process not mapped despite the bad record: %v", d["process"])
			}
		})
	}
	if _, err := Map(nil); !errors.Is(err, ErrNoRecords) {
		t.Errorf("Map(nil) err = %v", err)
	}
}

func TestHeaderNoPanic(t *testing.T) {
	// auparse.ParseLogLine slices blindly when "msg=" sits right after a
	// 5-byte prefix; parseHeader must reject such lines first.
	for _, l := range []string{"xxxxxmsg=audit(1.1:1):", "type=msg=audit(1.1:1):", "node=", "type= msg=audit(", "type=SYSCALL msg=audit(1.1:1"} {
		if _, _, err := parseHeader(l); err == nil {
			t.Errorf("%q: want error", l)
		}
	}
}

func FuzzMap(f *testing.F) {
	f.Add("type=EXECVE msg=audit(1623379200.123:456): argc=2 a0=\"bash\" a1=\"-c whoami\"\ntype=SYSCALL msg=audit(1623379200.123:456): arch=c000003e syscall=59 success=yes exit=0 ppid=1234 pid=5678 uid=33 comm=\"bash\" exe=\"/bin/bash\"")
	f.Add("type=PATH msg=audit(1.000:1): item=0 name=\"a\"\x1dOUID=\"x\nnode=h type=SYSCALL msg=audit(1.000:1): syscall=2 success=no")
	f.Add("type=EXECVE msg=audit(1.000:1): argc=2 a0_len=4 a0[0]=41 a0[1]=4")
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		d, err := Map(lines)
		if err != nil && d != nil {
			if _, ok := get(d, "error", "message").(string); !ok {
				t.Fatalf("error without error.message: %v", err)
			}
		}
	})
}

// A record's warnings (here an AVC whose pid and comm repeat the SYSCALL's)
// are in one order every time it is mapped, so that the same record gives
// the same document.
func TestWarningsInOneOrder(t *testing.T) {
	var first []string
	for range 20 {
		gs, _ := joinFile(t, dataDir+"elastic-go-libaudit/auparse/testdata/test2.log")
		d, err := MapGroup(gs[0])
		if err != nil {
			t.Fatal(err)
		}
		ws, _ := get(d, "auditd", "warnings").([]string)
		if len(ws) != 2 {
			t.Fatalf("warnings %q, want the two duplicate keys", ws)
		}
		if first == nil {
			first = ws
		} else if !slices.Equal(ws, first) {
			t.Fatalf("warnings %q, then %q", first, ws)
		}
	}
}
