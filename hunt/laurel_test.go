package hunt_test

import (
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection"
	"webshellbeat/docid"
)

const laurelCapture = "../module/auditd/testdata/laurel/"

// ancestryRule is lnx_webshell_ancestry_tool's id: a shell or tool with a
// web server among its ancestors.
const ancestryRule = "9c4e7b1f-2d8a-4f3c-b6e5-1a7d9c2e4f80"

func docIDOf(doc map[string]any) string {
	id, _ := docid.Record(doc)
	return id
}

// TestHuntLaurel hunts the live LAUREL capture and the audit.log auditd
// wrote beside it. Both give the php-fpm worker's sh -c whoami; only from
// LAUREL is its parent known (the worker started before auditd, so no
// record names it), and with it the ancestry rule fires.
func TestHuntLaurel(t *testing.T) {
	whoami := func(log string) map[string]any {
		alerts, st := huntPaths(t, laurelCapture+log, laurelCapture+"apache_access.log", laurelCapture+"nginx_access.log")
		if st.Errors != 0 {
			t.Errorf("%s: %d unreadable records", log, st.Errors)
		}
		for _, a := range alerts {
			if str(a, "process.command_line") == "sh -c whoami" && str(a, "process.working_directory") == "/var/www/wsb-nginx/uploads" {
				return a
			}
		}
		t.Fatalf("%s: no alert for php-fpm's sh -c whoami among %d", log, len(alerts))
		return nil
	}
	laurel, raw := whoami("laurel.log.gz"), whoami("audit.log.gz")
	// The same index id (the audit serial's): an event read both ways is
	// indexed once.
	if a, b := docIDOf(laurel), docIDOf(raw); a == "" || a != b {
		t.Errorf("document ids %q (LAUREL) and %q (audit.log)", a, b)
	}
	if got := str(laurel, "process.parent.executable"); got != "/usr/sbin/php-fpm8.2" {
		t.Errorf("LAUREL: process.parent.executable = %q", got)
	}
	if got := detection.LookupStrings(laurel, "webshell.ancestry.name"); !slices.Equal(got, []string{"php-fpm8.2"}) {
		t.Errorf("LAUREL: webshell.ancestry.name = %v", got)
	}
	if !slices.Contains(ruleIDs(laurel), ancestryRule) {
		t.Errorf("LAUREL: the ancestry rule did not fire: %v", ruleIDs(laurel))
	}
	if str(raw, "process.parent.executable") != "" || slices.Contains(ruleIDs(raw), ancestryRule) {
		t.Errorf("audit.log: a parent executable (%q) or the ancestry rule the records cannot give", str(raw, "process.parent.executable"))
	}
}

// TestUnixSocketIsNoNetworkConnection: the capture's bash (the web shell's
// echo > /dev/tcp/...) first connects to nscd's Unix socket. Routed as a
// network_connection, SigmaHQ's "Linux Reverse Shell Indicator" (bash, not
// to 127.0.0.1) raised a critical alert on it.
func TestUnixSocketIsNoNetworkConnection(t *testing.T) {
	if got := huntRules(t, data+"SigmaHQ-sigma/rules/linux/network_connection", laurelCapture+"laurel.log.gz"); len(got) != 0 {
		t.Errorf("alerts on Unix socket connects: %v", got)
	}
}

// TestHuntDebianLaurel hunts the capture of Debian 12's LAUREL 0.5.1 (its
// PPID names the parent): the contact form's mail() starts sh -c
// /usr/sbin/sendmail -t -i under Apache and php-fpm, and nullmailer's
// sendmail under it, and raises nothing; the web shell's whoami does, with
// its parent.
func TestHuntDebianLaurel(t *testing.T) {
	dir := laurelCapture + "debian-0.5.1/"
	alerts, st := huntPaths(t, dir+"laurel.log.gz", dir+"apache_access.log", dir+"nginx_access.log")
	if st.Errors != 0 {
		t.Errorf("%d unreadable records", st.Errors)
	}
	parents := map[string]bool{}
	for _, a := range alerts {
		// nullmailer's sendmail execs nullmailer-inject in place, so the
		// sendmail shell is its parent: no mail() bypass (lnx_php_mail_bypass).
		cl, pc := str(a, "process.command_line"), str(a, "process.parent.command_line")
		if cl == "sh -c /usr/sbin/sendmail -t -i" || pc == "sh -c /usr/sbin/sendmail -t -i" {
			t.Errorf("PHP's mail() alerted: %q (parent %q): %v", cl, pc, detection.LookupStrings(a, "rule.name"))
		}
		if cl == "sh -c whoami" {
			parents[str(a, "process.parent.name")] = true
		}
	}
	if !parents["apache2"] || !parents["php-fpm8.2"] {
		t.Errorf("sh -c whoami alerts with parents %v, want apache2 and php-fpm8.2", parents)
	}
}

// TestHuntCGI hunts the capture of Apache's mod_cgi (Debian 12's LAUREL):
// the administrator's CGIs (a Perl hello.cgi, a shell status.sh) raise
// nothing; a CGI web shell's commands (cmd.cgi?id runs id) do.
func TestHuntCGI(t *testing.T) {
	dir := laurelCapture + "debian-0.5.1-cgi/"
	alerts, st := huntPaths(t, dir+"laurel.log.gz", dir+"apache_access.log")
	if st.Errors != 0 {
		t.Errorf("%d unreadable records", st.Errors)
	}
	commands := map[string]bool{}
	for _, a := range alerts {
		cl := str(a, "process.command_line")
		if strings.Contains(cl, "hello.cgi") || strings.Contains(cl, "status.sh") {
			t.Errorf("the administrator's CGI alerted: %s: %v", cl, detection.LookupStrings(a, "rule.name"))
		}
		commands[cl] = true
	}
	for _, c := range []string{"id", "uname -a"} {
		if !commands[c] {
			t.Errorf("no alert for the CGI web shell's %q (alerts for %v)", c, commands)
		}
	}
}

// TestHuntLaurelContainer hunts a web shell in a Docker container (nginx
// and php-fpm in one container): LAUREL on the host names the container of
// the shell's sh -c id, and the container's own log, read from Docker's
// file, gives its request the same container.id.
func TestHuntLaurelContainer(t *testing.T) {
	const id = "b038d51204f997c807e5c9fefb1db348e434161c23be824869b2c00ddd0f2bf8"
	dir := laurelCapture + "docker/"
	alerts, st := huntPaths(t, dir+"laurel.log.gz", dir+"containers/"+id+"/"+id+"-json.log")
	if st.Errors != 0 {
		t.Errorf("%d unreadable records", st.Errors)
	}
	found := map[string]string{}
	for _, a := range alerts {
		switch {
		case str(a, "process.command_line") == "sh -c id":
			found["process"] = str(a, "container.id")
		case str(a, "url.original") == "/shell.php?c=id":
			found["request"] = str(a, "container.id")
		}
	}
	if found["process"] != id || found["request"] != id {
		t.Errorf("container.id of the process %q and of the request %q, want %s", found["process"], found["request"], id)
	}
}
