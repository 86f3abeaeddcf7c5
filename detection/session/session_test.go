package session

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)

func TestEveryMode(t *testing.T) {
	tr := NewTracker(Options{})
	k := Key{Host: "h", Script: "/uploads/shell.php"}
	d := tr.Observe(k, t0, 73, "r1", "whoami")
	if !d.First || d.CommandCount != 1 || d.ID != k.ID() {
		t.Fatalf("first %+v", d)
	}
	if d := tr.Observe(k, t0.Add(time.Second), 73, "r1", "sh -c whoami"); !d.First || d.CommandCount != 1 {
		t.Errorf("same command: %+v", d)
	}
	if d := tr.Observe(k, t0.Add(2*time.Second), 73, "r2", "id"); d.First || d.Escalated || d.CommandCount != 2 {
		t.Errorf("second command: %+v", d)
	}
	if d := tr.Observe(k, t0.Add(3*time.Second), 99, "up", ""); !d.Escalated {
		t.Errorf("more severe: %+v", d)
	}
	if d := tr.Observe(Key{Host: "h", Script: "/app/login.php"}, t0, 73, "x", ""); !d.First || d.ID == k.ID() {
		t.Errorf("other shell: %+v", d)
	}
	// Idle for longer than Idle: a new session with the same id.
	if d := tr.Observe(k, t0.Add(3*time.Hour), 73, "r3", ""); !d.First || d.ID != k.ID() {
		t.Errorf("after idle: %+v", d)
	}
}

// An alert of no command (the upload of the session's script) keeps full
// severity and leaves the first-command place to the first command.
func TestUploadIsNoCommand(t *testing.T) {
	tr := NewTracker(Options{})
	k := Key{Host: "h", Script: "/uploads/shell.php"}
	if d := tr.Observe(k, t0, 73, "", ""); !d.First || d.CommandCount != 0 {
		t.Fatalf("upload: %+v", d)
	}
	if d := tr.Observe(k, t0.Add(time.Second), 73, "r1", "whoami"); !d.First || d.CommandCount != 1 {
		t.Errorf("first command after the upload: %+v", d)
	}
	if d := tr.Observe(k, t0.Add(2*time.Second), 73, "r2", "id"); d.First || d.CommandCount != 2 {
		t.Errorf("second command: %+v", d)
	}
	if d := tr.Observe(k, t0.Add(3*time.Second), 73, "", ""); !d.First || d.CommandCount != 2 {
		t.Errorf("another upload alert: %+v", d)
	}
}

func TestSummaryMode(t *testing.T) {
	tr := NewTracker(Options{Mode: SummaryMode, Interval: time.Minute})
	k := Key{Host: "h", Script: "/s.php"}
	tr.Observe(k, t0, 73, "c0", "whoami")
	var sums int
	for i := 1; i <= 100; i++ {
		d := tr.Observe(k, t0.Add(time.Duration(i)*time.Second), 73, "c"+string(rune('A'+i%50)), "cmd")
		if d.Summary != nil {
			sums++
		}
	}
	rest := tr.Flush()
	if sums != 1 || len(rest) != 1 || rest[0].Alerts == 0 {
		t.Fatalf("summaries during: %d, at flush: %+v", sums, rest)
	}
}

func TestExceptionsAndBaseline(t *testing.T) {
	e := Exception{Scripts: []string{"*/status.php"}, CommandLines: []string{"sh -c /usr/bin/uptime"}}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if !e.Matches(Subject{Script: "/var/www/status.php", CommandLine: "SH -C /usr/bin/uptime"}) || e.Matches(Subject{Script: "/status.php", CommandLine: "sh -c id"}) {
		t.Errorf("exception matching")
	}
	if (Exception{}).Validate() == nil {
		t.Errorf("empty exception accepted")
	}
	// Windows paths: a backslash is a character, not an escape.
	w := Exception{CommandLines: []string{`C:\Windows\System32\cmd.exe /c *`}, Fields: FieldGlobs{{Path: "process.parent.executable", Globs: []string{`c:\program files\monitor\*`}}}}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	field := func(want string) func(string) []string {
		return func(p string) []string {
			if p == "process.parent.executable" {
				return []string{want}
			}
			return nil
		}
	}
	if !w.Matches(Subject{CommandLine: `C:\Windows\System32\cmd.exe /c netstat -an`, Field: field(`C:\Program Files\Monitor\agent.exe`)}) {
		t.Errorf("Windows path globs do not match")
	}
	if w.Matches(Subject{CommandLine: `C:\Windows\System32\cmd.exe /c whoami`, Field: field(`C:\inetpub\wwwroot\x.exe`)}) ||
		w.Matches(Subject{CommandLine: `C:\Windows\System32\cmd.exe /c whoami`}) {
		t.Errorf("fields condition ignored")
	}
	b, _ := NewBaseline(time.Hour, 10, "")
	s := Subject{Host: "h", Root: "apache2", Parent: "apache2", Name: "dash", CommandLine: "sh -c /usr/bin/uptime 5"}
	if b.Observe(s, t0) != Learning {
		t.Fatal("not learning")
	}
	s.CommandLine = "sh -c /usr/bin/uptime 17" // numbers are masked
	if v := b.Observe(s, t0.Add(2*time.Hour)); v != Known {
		t.Errorf("known shape: %v", v)
	}
	s.CommandLine = "sh -c whoami"
	if v := b.Observe(s, t0.Add(2*time.Hour)); v != New {
		t.Errorf("new shape: %v", v)
	}
}

func TestDuplicates(t *testing.T) {
	d := NewDuplicates(3)
	s := Start{Host: "w", PID: 23392, PPID: 10844, Executable: `C:\Windows\System32\cmd.exe`}
	if _, _, dup := d.Observe(s, "Microsoft-Windows-Sysmon", t0); dup {
		t.Fatal("first report is a duplicate")
	}
	upper := s
	upper.Executable = `C:\WINDOWS\system32\CMD.EXE`
	if src, at, dup := d.Observe(upper, "Microsoft-Windows-Security-Auditing", t0.Add(-4*time.Millisecond)); !dup || src != "Microsoft-Windows-Sysmon" || !at.Equal(t0) {
		t.Errorf("4688 of the same start, 4 ms before: %q %v %v", src, at, dup)
	}
	if _, _, dup := d.Observe(s, "Microsoft-Windows-Sysmon", t0.Add(time.Millisecond)); dup {
		t.Error("the same source again is no duplicate")
	}
	if _, _, dup := d.Observe(s, "Microsoft-Windows-Security-Auditing", t0.Add(time.Minute)); dup {
		t.Error("a report a minute later is another start (pid reused)")
	}
	other := s
	other.PPID = 1
	if _, _, dup := d.Observe(other, "Microsoft-Windows-Security-Auditing", t0); dup {
		t.Error("another parent is another start")
	}
	if _, _, dup := d.Observe(Start{Host: "w", Executable: "x"}, "a", t0); dup {
		t.Error("no pid: nothing to compare")
	}
	// The bound: old starts are dropped, the newest kept.
	for i := range 10 {
		d.Observe(Start{Host: "w", PID: 100 + i, Executable: "e"}, "a", t0.Add(time.Duration(i)*time.Hour))
	}
	if len(d.seen) > 3 {
		t.Errorf("%d starts remembered, bound 3", len(d.seen))
	}
	if _, _, dup := d.Observe(Start{Host: "w", PID: 109, Executable: "e"}, "b", t0.Add(9*time.Hour)); !dup {
		t.Error("the newest start was dropped")
	}
}
