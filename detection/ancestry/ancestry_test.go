package ancestry

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func names(l Lineage) []string {
	var out []string
	for _, p := range l.Chain {
		out = append(out, p.Name)
	}
	return out
}

func start(tb *Table, host string, pid, ppid int, exe, cmd, user string, s float64) Lineage {
	return tb.Observe(host, Process{PID: pid, PPID: ppid, Executable: exe, CommandLine: cmd, User: user, Start: at(s)}, Process{}, Start, at(s))
}

// Windows, Sysmon-keyed: w3wp -> cmd -> net -> net1 carries the whole chain.
func TestGUIDChain(t *testing.T) {
	tb := New(Options{})
	g := func(n int) string { return fmt.Sprintf("6004D249-AFCF-604D-%04X-000000000900", n) }
	obs := func(id, pid int, parent, ppid int, exe, pexe, cmd string, s float64) Lineage {
		return tb.Observe("iis", Process{EntityID: g(id), PID: pid, PPID: ppid, ParentEntityID: g(parent), Executable: exe, CommandLine: cmd, Start: at(s)},
			Process{Executable: pexe, CommandLine: "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"DefaultAppPool\""}, Start, at(s))
	}
	obs(2, 200, 1, 100, `C:\Windows\System32\cmd.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`, "cmd /c net user", 1)
	obs(3, 300, 2, 200, `C:\Windows\System32\net.exe`, "", "net user", 1.1)
	l := obs(4, 400, 3, 300, `C:\Windows\System32\net1.exe`, "", "net1 user", 1.2)
	if !l.Web || !slices.Equal(names(l), []string{"net.exe", "cmd.exe", "w3wp.exe"}) {
		t.Fatalf("chain %v web %v", names(l), l.Web)
	}
	if l.Root.Name != "w3wp.exe" || l.Root.EntityID != g(1) || l.Root.CommandLine == "" {
		t.Errorf("root %+v", l.Root)
	}
	if l.Parent.CommandLine != "net user" || l.Parent.EntityID != g(3) {
		t.Errorf("parent %+v", l.Parent)
	}
}

// auditd: pid-keyed; a worker seen once (file write) is the web server.
func TestPIDChainAndInference(t *testing.T) {
	tb := New(Options{WebAccounts: DefaultWebAccounts()})
	// The apache2 worker is known from a sighting (a write under the web root).
	tb.Observe("h", Process{PID: 20926, PPID: 20359, Executable: "/usr/sbin/apache2"}, Process{}, Seen, at(0))
	start(tb, "h", 21049, 20926, "/usr/bin/dash", "sh -c sh -c 'curl x | sh'", "www-data", 1)
	start(tb, "h", 21050, 21049, "/usr/bin/dash", "sh -c curl x | sh", "www-data", 1.001)
	l := start(tb, "h", 21051, 21050, "/usr/bin/curl", "curl x", "www-data", 1.002)
	if !slices.Equal(names(l), []string{"dash", "dash", "apache2"}) || l.Root.PID != 20926 {
		t.Fatalf("chain %v root %+v", names(l), l.Root)
	}
	// A www-data shell whose parent was never seen: inferred worker.
	l = start(tb, "h", 21056, 20403, "/usr/bin/dash", "sh -c whoami", "www-data", 2)
	if !l.Web || !l.Root.Inferred || l.Root.PID != 20403 {
		t.Fatalf("inferred root %+v web %v", l.Root, l.Web)
	}
	// Root's own unknown parent is not inferred: only web accounts are.
	l = start(tb, "h", 30000, 29999, "/usr/bin/sleep", "sleep 1", "root", 3)
	if l.Web || l.HasParent {
		t.Fatalf("root's process got %+v", l)
	}
	if tb.Stats().Inferred != 1 {
		t.Errorf("inferred = %d", tb.Stats().Inferred)
	}
}

// An execve by a pid with the same parent is an exec: one process, new image.
func TestExecKeepsIdentity(t *testing.T) {
	tb := New(Options{})
	start(tb, "h", 10, 1, "/usr/sbin/nginx", "nginx", "root", 0)
	start(tb, "h", 20, 10, "/usr/bin/env", "env - sh -c x", "www-data", 1)
	start(tb, "h", 20, 10, "/usr/bin/dash", "sh -c x", "www-data", 1.01)
	if n := tb.Stats().Processes; n != 2 {
		t.Fatalf("processes = %d, want 2", n)
	}
	l := start(tb, "h", 21, 20, "/usr/bin/id", "id", "www-data", 1.02)
	if l.Parent.Name != "dash" || l.Root.Name != "nginx" {
		t.Fatalf("parent %q root %q", l.Parent.Name, l.Root.Name)
	}
}

// Pid reuse: a later process with the pid of a dead web server is not it.
func TestPIDReuse(t *testing.T) {
	tb := New(Options{})
	start(tb, "h", 500, 1, "/usr/sbin/apache2", "apache2 -k start", "root", 0)
	start(tb, "h", 600, 500, "/usr/bin/dash", "sh -c id", "www-data", 1)
	// pid 500 is reused by cron (another parent) later.
	start(tb, "h", 500, 2, "/usr/sbin/cron", "cron", "root", 100)
	l := start(tb, "h", 700, 500, "/usr/bin/dash", "sh -c backup", "root", 101)
	if l.Web || l.Parent.Name != "cron" {
		t.Fatalf("reused pid: parent %q web %v", l.Parent.Name, l.Web)
	}
	// The old child still resolves to apache2: its parent id was bound.
	l, ok := tb.Lookup("h", Process{PID: 600})
	if !ok || !l.Web || l.Root.Name != "apache2" {
		t.Fatalf("old child lineage %+v", l)
	}
	// A child that started before the reuse, reported late, finds no parent
	// in the new pid holder.
	l = start(tb, "h", 650, 500, "/usr/bin/dash", "sh -c late", "www-data", 50)
	if l.Parent.Name == "cron" {
		t.Fatalf("late child bound to the newer holder of pid 500")
	}
}

// Idle expiry runs on event time: nothing expires while time stands still,
// even if the wall clock moves.
func TestExpiryOnEventTime(t *testing.T) {
	tb := New(Options{IdleTimeout: time.Hour})
	start(tb, "h", 10, 1, "/usr/sbin/httpd", "httpd", "root", 0)
	start(tb, "h", 11, 10, "/bin/sh", "sh", "apache", 1)
	if n := tb.Stats().Processes; n != 2 {
		t.Fatalf("processes = %d", n)
	}
	// Two hours of event time later, on the same host.
	start(tb, "h", 99, 1, "/usr/bin/true", "true", "root", 7200)
	st := tb.Stats()
	if st.Processes != 1 || st.Expired != 2 {
		t.Fatalf("after 2h: %+v", st)
	}
	// Exits linger shorter than idle processes.
	tb.Observe("h", Process{PID: 99}, Process{}, Exit, at(7201))
	start(tb, "h", 100, 1, "/usr/bin/true", "true", "root", 7201+400)
	if _, ok := tb.Lookup("h", Process{PID: 99}); ok {
		t.Fatalf("exited process kept past ExitLinger")
	}
}

// A flood of unrelated processes keeps the table bounded and keeps the web
// server that has children.
func TestFloodBounded(t *testing.T) {
	tb := New(Options{MaxProcesses: 1000})
	start(tb, "h", 10, 1, `C:\Windows\System32\inetsrv\w3wp.exe`, "w3wp", "", 0)
	for i := 0; i < 50000; i++ {
		start(tb, "h", 1000+i, 2, "/usr/bin/x", "x", "root", 1+float64(i)/1000)
		if i%5000 == 0 {
			start(tb, "h", 100000+i, 10, `C:\Windows\System32\cmd.exe`, "cmd", "", 1+float64(i)/1000)
		}
	}
	st := tb.Stats()
	if st.Processes > 1000 || st.Evicted == 0 {
		t.Fatalf("stats %+v", st)
	}
	l := start(tb, "h", 999999, 10, `C:\Windows\System32\cmd.exe`, "cmd", "", 60)
	if !l.Web {
		t.Fatalf("web server evicted by the flood")
	}
	// Many hosts: bounded too.
	tb2 := New(Options{MaxHosts: 4})
	for i := 0; i < 20; i++ {
		start(tb2, fmt.Sprint("host", i), 10, 1, "/bin/x", "x", "", float64(i))
	}
	if st := tb2.Stats(); st.Hosts != 4 || st.HostsDrop != 16 {
		t.Fatalf("hosts %+v", st)
	}
}

func TestSaveRestore(t *testing.T) {
	tb := New(Options{})
	tb.Observe("iis", Process{EntityID: "{6004D249-09DA-604D-8F19-000000000900}", PID: 10844, Executable: `c:\windows\system32\inetsrv\w3wp.exe`, CommandLine: `w3wp.exe -ap "MSExchangeOWAAppPool"`}, Process{}, Seen, at(0))
	start(tb, "lnx", 20926, 20359, "/usr/sbin/apache2", "apache2 -k start", "root", 0)
	tb.Observe("lnx", Process{PID: 20950, PPID: 20926, Executable: "/usr/bin/dash", CommandLine: "sh -c sleep 99", User: "www-data", Cwd: "/var/www/html/up", Start: at(1)}, Process{}, Start, at(1))
	path := filepath.Join(t.TempDir(), "webshellbeat", "processes.json")
	if err := tb.Save(path); err != nil {
		t.Fatal(err)
	}
	tb2 := New(Options{})
	if err := tb2.Restore(path); err != nil {
		t.Fatal(err)
	}
	l := tb2.Observe("iis", Process{EntityID: "{6004D249-AFCF-604D-2A27-000000000900}", PID: 23392, ParentEntityID: "{6004D249-09DA-604D-8F19-000000000900}", PPID: 10844, Executable: `C:\Windows\System32\cmd.exe`, CommandLine: "cmd /c whoami"}, Process{}, Start, at(86400))
	if !l.Web || l.Root.PID != 10844 || l.Root.EntityID != "6004D249-09DA-604D-8F19-000000000900" || l.Parent.CommandLine == "" {
		t.Fatalf("after restart: %+v", l)
	}
	l = start(tb2, "lnx", 21000, 20926, "/bin/sh", "sh -c id", "www-data", 86400)
	if !l.Web || l.Root.Name != "apache2" {
		t.Fatalf("linux after restart: %+v", l)
	}
	// The shell's working directory (the sessions' folder) is kept too.
	l = start(tb2, "lnx", 21001, 20950, "/usr/bin/id", "id", "www-data", 86400)
	if l.Parent.Cwd != "/var/www/html/up" {
		t.Errorf("the shell's working directory after restart: %q", l.Parent.Cwd)
	}
	// Missing file: an empty table, no error.
	if err := New(Options{}).Restore(filepath.Join(t.TempDir(), "none.json")); err != nil {
		t.Fatal(err)
	}
}

func TestLookupHook(t *testing.T) {
	tb := New(Options{})
	tb.SetLookup(func(pid int) (Process, bool) {
		switch pid {
		case 20403:
			return Process{PID: 20403, PPID: 20300, Executable: "/usr/sbin/php-fpm8.2", Name: "php-fpm8.2", CommandLine: "php-fpm: pool www"}, true
		case 20300:
			return Process{PID: 20300, PPID: 1, Executable: "/usr/sbin/php-fpm8.2", Name: "php-fpm8.2", CommandLine: "php-fpm: master process"}, true
		}
		return Process{}, false
	})
	l := start(tb, "h", 21056, 20403, "/usr/bin/dash", "sh -c whoami", "www-data", 1)
	if !l.Web || l.Root.PID != 20300 || l.Parent.CommandLine != "php-fpm: pool www" || l.Root.Inferred {
		t.Fatalf("hook lineage %+v", l)
	}
}

func TestWebServerList(t *testing.T) {
	tb := New(Options{})
	for _, c := range []struct {
		name, exe, cmd string
		want           bool
	}{
		{"w3wp.exe", `C:\Windows\System32\inetsrv\w3wp.exe`, "", true},
		{"", "/usr/sbin/php-fpm8.2", "", true},
		{"java", "/usr/bin/java", "java -Dcatalina.base=/opt/tomcat org.apache.catalina.startup.Bootstrap start", true},
		{"java", "/usr/bin/java", "java -jar tool.jar", false},
		{"node", "/usr/bin/node", "node /app/node_modules/.bin/next start", true},
		{"UMWorkerProcess.exe", "", "", true},
		{"Tomcat10.exe", `C:\Program Files\Apache Software Foundation\Tomcat 10.1\bin\Tomcat10.exe`, "", true},
		{"coldfusion.exe", `C:\ColdFusion2021\cfusion\bin\coldfusion.exe`, "", true},
		{"java", "/opt/ColdFusion2021/jre/bin/java", "java -Dcoldfusion.home=/opt/ColdFusion2021/cfusion com.adobe.coldfusion.bootstrap.Bootstrap -start", true},
		{"cvtres.exe", "", "", false},
		// Script servers run as their interpreter (Debian 12's gunicorn and
		// puma, read from /proc).
		{"python3.11", "/usr/bin/python3.11", "/usr/bin/python3 /usr/bin/gunicorn -b 127.0.0.1:18097 -w 2 app:app", true},
		{"python3.11", "/usr/bin/python3.11", "python3 -m uvicorn main:app --port 8000", true},
		{"ruby3.1", "/usr/bin/ruby3.1", "puma 5.6.5 (tcp://127.0.0.1:18098) [gapp]", true},
		{"ruby3.1", "/usr/bin/ruby3.1", "puma: cluster worker 0: 32040 [gapp]", true},
		{"python3.11", "/usr/bin/python3.11", "/usr/bin/python3 /opt/tools/backup.py --all", false},
		{"python3.11", "/usr/bin/python3.11", "python3 -c import gunicorn", false},
		{"sudo", "/usr/bin/sudo", "sudo gunicorn app:app", false}, // only an interpreter goes by its script
	} {
		if _, got := tb.webName(c.name, c.exe, c.cmd); got != c.want {
			t.Errorf("webName(%q, %q, %q) = %v", c.name, c.exe, c.cmd, got)
		}
	}
}

// A web shell's command under gunicorn: the worker (forked, never exec'd:
// the live input reads it from /proc) and the master are python3.11 by
// their executable; the ancestry names them by their script, gunicorn, as
// their comm and ps do, so rules that list gunicorn see it.
func TestScriptServerAncestry(t *testing.T) {
	tb := New(Options{})
	const cmd = "/usr/bin/python3 /usr/bin/gunicorn -b 127.0.0.1:18097 -w 2 app:app"
	tb.SetLookup(func(pid int) (Process, bool) {
		if pid == 501 {
			return Process{PID: 501, PPID: 500, Executable: "/usr/bin/python3.11", Name: "python3.11", CommandLine: cmd}, true
		}
		return Process{}, false
	})
	start(tb, "h", 500, 1, "/usr/bin/python3.11", cmd, "app", 1)
	l := start(tb, "h", 600, 501, "/usr/bin/dash", "sh -c ping -c 1 -W 1 127.0.0.1;id", "app", 2)
	if !l.Web || l.Parent.Name != "gunicorn" || l.Root.PID != 500 || l.Root.Name != "gunicorn" || len(l.Chain) != 2 || l.Chain[1].Name != "gunicorn" {
		t.Fatalf("lineage %+v", l)
	}
	if l.Parent.Executable != "/usr/bin/python3.11" {
		t.Errorf("parent executable %q, want the interpreter's", l.Parent.Executable)
	}
}

func TestConcurrent(t *testing.T) {
	tb := New(Options{MaxProcesses: 5000})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			host := fmt.Sprint("h", g%3)
			start(tb, host, 10, 1, "/usr/sbin/nginx", "nginx", "root", 0)
			for i := 0; i < 3000; i++ {
				start(tb, host, 100+g*10000+i, 10, "/bin/sh", "sh", "www-data", float64(i)/100)
				tb.Lookup(host, Process{PID: 100 + g*10000 + i})
			}
		}(g)
	}
	wg.Wait()
	if st := tb.Stats(); st.Processes > 3*5000 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkTable fills one host with 1,000,000 processes (pid-keyed, short
// command lines of about 30 bytes) in chains one to four deep under apache2,
// and reports the heap bytes per process and the time of a lineage lookup.
func BenchmarkTable(b *testing.B) {
	const n = 1_000_000
	exes := []string{"/bin/sh", "/usr/bin/id", "/usr/bin/curl", "/usr/bin/php", "/usr/bin/python3", "/usr/sbin/apache2"}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tb := New(Options{MaxProcesses: n + 10, IdleTimeout: 1000 * time.Hour})
	start(tb, "h", 1, 0, "/usr/sbin/apache2", "/usr/sbin/apache2 -k start", "root", 0)
	for i := 2; i <= n; i++ {
		ppid := 1     // every fourth process is a child of apache2, the others
		if i%4 != 0 { // its children and grandchildren: chains 1 to 4 deep
			ppid = i - 1
		}
		exe := exes[i%len(exes)]
		tb.Observe("h", Process{PID: i, PPID: ppid, Executable: exe, CommandLine: fmt.Sprintf("sh -c cmd-%d --flag value", i), User: "www-data", Start: at(float64(i) / 1000)},
			Process{}, Start, at(float64(i)/1000))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := tb.Stats().Processes; got != n {
		b.Fatalf("processes = %d", got)
	}
	perProcess := float64(after.HeapAlloc-before.HeapAlloc) / n
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pid := 500000 + i%400000
		if _, ok := tb.Lookup("h", Process{PID: pid}); !ok {
			b.Fatal("lookup failed")
		}
	}
	b.ReportMetric(perProcess, "bytes/process")
	runtime.KeepAlive(tb)
}
