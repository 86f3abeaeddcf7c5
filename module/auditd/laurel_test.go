package auditd

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"webshellbeat/internal/testfiles"
)

// gzLines reads the lines of a gzip-compressed test file.
func gzLines(t *testing.T, path string) []string {
	t.Helper()
	return strings.Split(strings.TrimSuffix(string(testfiles.Gunzip(t, path)), "\n"), "\n")
}

// comparable drops what is meant to differ: the original text, the
// parent's name and executable and the container, which only LAUREL gives, and the zero
// padding of BPRM_FCAPS's capability sets (000001fffeffffff), which LAUREL
// reads as numbers and writes without.
func comparable(doc map[string]any) string {
	b, _ := json.Marshal(doc)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	delete(c["event"].(map[string]any), "original")
	delete(c, "container")
	if d, ok := get(c, "auditd", "data").(map[string]any); ok {
		for _, k := range []string{"pp", "pi", "pe", "pa", "old_pp", "old_pi", "old_pe", "old_pa"} {
			if v, ok := d[k].(string); ok && len(v) > 1 {
				d[k] = strings.TrimLeft(v[:len(v)-1], "0") + v[len(v)-1:]
			}
		}
	}
	if p, ok := c["process"].(map[string]any); ok {
		if pp, ok := p["parent"].(map[string]any); ok {
			delete(pp, "name")
			delete(pp, "executable")
		}
	}
	b, _ = json.MarshalIndent(c, "", " ")
	return string(b)
}

// rawEvents maps the events of a gzip-compressed audit.log by id.
func rawEvents(t *testing.T, path string) map[string]Group {
	j := NewJoiner(JoinerConfig{})
	var groups []Group
	for i, l := range gzLines(t, path) {
		groups = append(groups, j.Add(l, int64(i))...)
	}
	raw := map[string]Group{}
	for _, g := range append(groups, j.Flush()...) {
		raw[g.ID] = g
	}
	return raw
}

// TestLaurelMatchesAuditLog maps every event of LAUREL's output and the same
// events from the audit.log auditd wrote beside it (testdata/laurel/
// SOURCES.md) and wants the same ECS documents, but for event.original and
// the parent's name and executable, which LAUREL adds:
//   - a live capture of auditd 3.0.9 with LAUREL 0.8.2 as its plug-in;
//   - the same audit.log through LAUREL 0.8.2 with translate.drop-raw, which
//     keeps arch, syscall, ids and socket addresses by name only: the
//     documents lack the numeric ids, which no name gives back;
//   - the same audit.log through LAUREL 0.8.2 with execve-argv = ["string"]
//     (ARGV_STR: the arguments joined by spaces), and with enrich.prefix;
//   - the same audit.log without its ENRICHED part (auditd's RAW format)
//     through LAUREL with translate.universal, user-db and enrich.prefix:
//     the names LAUREL adds (enriched_uid) give the documents auditd's
//     ENRICHED names give;
//   - a live capture of a web shell in a Docker container (nginx +
//     php-fpm), LAUREL 0.8.2 on the host naming its container;
//   - a live capture with Debian 12's LAUREL 0.5.1 and its default
//     configuration (PPID with comm and exe, no SPAWNED_BY), with PHP sites
//     and with Apache's mod_cgi.
func TestLaurelMatchesAuditLog(t *testing.T) {
	for _, c := range []struct {
		laurel, audit          string
		dropRaw                bool
		events, execs, parents int
	}{
		// All but nine of 0.8.2's events name their parent: not auditd's
		// start, nor an mv whose parent LAUREL did not find, nor seven rm's
		// that a bash subshell exec'd, whose SPAWNED_BY is that subshell (the
		// rm's own pid), not the parent.
		{"laurel/laurel.log.gz", "laurel/audit.log.gz", false, 168, 133, 159},
		// Read offline: SPAWNED_BY names only the parents still running then
		// (the capturing session's shells).
		{"laurel/laurel-drop-raw.log.gz", "laurel/audit.log.gz", true, 169, 134, 40},
		{"laurel/debian-0.5.1/laurel.log.gz", "laurel/debian-0.5.1/audit.log.gz", false, 78, 44, 75},
		{"laurel/laurel-argv-string.log.gz", "laurel/audit.log.gz", false, 169, 134, 40},
		{"laurel/laurel-prefix.log.gz", "laurel/audit.log.gz", false, 169, 134, 40},
		{"laurel/laurel-raw-prefix.log.gz", "laurel/audit.log.gz", false, 169, 134, 40},
		{"laurel/debian-0.5.1-cgi/laurel.log.gz", "laurel/debian-0.5.1-cgi/audit.log.gz", false, 40, 15, 37},
		{"laurel/docker/laurel.log.gz", "laurel/docker/audit.log.gz", false, 11, 7, 9},
	} {
		t.Run(c.laurel, func(t *testing.T) {
			raw := rawEvents(t, "testdata/"+c.audit)
			var events, parents, execs int
			for n, line := range gzLines(t, "testdata/"+c.laurel) {
				if !IsLaurel(line) {
					t.Fatalf("line %d not taken for LAUREL: %.80s", n+1, line)
				}
				doc, err := MapLaurel(line)
				if err != nil {
					t.Errorf("line %d: %v", n+1, err)
					continue
				}
				var head struct{ ID string }
				_ = json.Unmarshal([]byte(line), &head)
				g, ok := raw[head.ID]
				if !ok {
					t.Errorf("line %d: event %s is not in audit.log", n+1, head.ID)
					continue
				}
				want, err := MapGroup(g)
				if err != nil {
					t.Errorf("audit.log event %s: %v", head.ID, err)
					continue
				}
				hasArgs := get(doc, "process", "args") != nil
				if c.dropRaw {
					withoutIDs(want)
				}
				if strings.Contains(c.laurel, "argv-string") {
					// Split again from one string, an argument before the last
					// that held a space is two (curl -w "%{http_code} " url);
					// the command line is the same.
					for _, d := range []map[string]any{doc, want} {
						if p, ok := d["process"].(map[string]any); ok {
							delete(p, "args")
						}
					}
				}
				if got, w := comparable(doc), comparable(want); got != w {
					t.Errorf("event %s differs:\nlaurel:   %s\naudit.log: %s", head.ID, got, w)
				}
				if doc["event"].(map[string]any)["original"] != line {
					t.Errorf("event %s: event.original is not the LAUREL line", head.ID)
				}
				events++
				if get(doc, "process", "parent", "executable") != nil {
					parents++
				}
				if hasArgs {
					execs++
				}
			}
			if events != c.events || execs != c.execs || parents != c.parents {
				t.Errorf("%d events, %d with arguments, %d with a parent executable; want %d, %d, %d", events, execs, parents, c.events, c.execs, c.parents)
			}
		})
	}
}

// withoutIDs drops from an audit.log document what drop-raw loses: the
// numeric user, group and file owner ids, and the audit user (auid), of
// which LAUREL keeps only the name.
func withoutIDs(doc map[string]any) {
	if f, ok := doc["file"].(map[string]any); ok {
		delete(f, "uid")
		delete(f, "gid")
	}
	for _, k := range []string{"user", "group"} {
		if m, ok := doc[k].(map[string]any); ok {
			delete(m, "id")
			for _, v := range m {
				if sub, ok := v.(map[string]any); ok {
					delete(sub, "id")
				}
			}
		}
	}
	if d, ok := get(doc, "auditd", "data").(map[string]any); ok {
		for _, k := range []string{"auid", "uid", "gid", "euid", "suid", "fsuid", "egid", "sgid", "fsgid", "ouid", "ogid"} {
			delete(d, k)
		}
	}
	if s, ok := get(doc, "auditd", "summary").(map[string]any); ok {
		delete(s, "actor")
	}
	if paths, ok := get(doc, "auditd", "paths").([]any); ok {
		for _, p := range paths {
			if m, ok := p.(map[string]any); ok {
				delete(m, "ouid")
				delete(m, "ogid")
			}
		}
	}
}

// TestLaurelWebShellChain checks what the capture's web shell command gives:
// the php-fpm worker that started sh -c whoami was started before auditd, so
// only LAUREL's SPAWNED_BY names it.
func TestLaurelWebShellChain(t *testing.T) {
	var found bool
	for _, line := range gzLines(t, "testdata/laurel/laurel.log.gz") {
		if !strings.Contains(line, `"ARGV":["sh","-c","whoami"]`) || !strings.Contains(line, "php-fpm") {
			continue
		}
		doc, err := MapLaurel(line)
		if err != nil {
			t.Fatal(err)
		}
		found = true
		for path, want := range map[string]any{
			"process.command_line":      "sh -c whoami",
			"process.executable":        "/usr/bin/dash",
			"process.parent.name":       "php-fpm8.2",
			"process.parent.executable": "/usr/sbin/php-fpm8.2",
			"user.name":                 "www-data",
			"process.working_directory": "/var/www/wsb-nginx/uploads",
		} {
			if got := get(doc, strings.Split(path, ".")...); !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %v, want %v", path, got, want)
			}
		}
	}
	if !found {
		t.Fatal("no php-fpm sh -c whoami in the capture")
	}
}

// TestLaurelEncodings covers what the capture does not hold: percent-encoded
// bytes, the ARGV_STR-only form, a verbose PPID, a plain exec's SPAWNED_BY
// (the process's own earlier image, not its parent), and broken lines.
func TestLaurelEncodings(t *testing.T) {
	const head = `{"ID":"1700000000.100:42","SYSCALL":{"arch":"0xc000003e","syscall":59,"success":"yes","exit":0,"items":1,"ppid":10,"pid":11,"auid":4294967295,"uid":33,"gid":33,"euid":33,"suid":33,"fsuid":33,"egid":33,"sgid":33,"fsgid":33,"tty":"(none)","ses":4294967295,"comm":"sh","exe":"/usr/bin/dash","key":"exec","ARCH":"x86_64","SYSCALL":"execve","UID":"www-data",`
	t.Run("percent-encoded argument", func(t *testing.T) {
		line := head + `"SPAWNED_BY":{"pid":10,"comm":"apache2","exe":"/usr/sbin/apache2"}},"EXECVE":{"argc":3,"ARGV":["sh","-c","printf 100%25%0a | tee /tmp/x%2by"]},"CWD":{"cwd":"/var/www/a b"}}`
		doc, err := MapLaurel(line)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(doc, "process", "args"); !reflect.DeepEqual(got, []string{"sh", "-c", "printf 100%\n | tee /tmp/x+y"}) {
			t.Errorf("args = %#v", got)
		}
		if got := get(doc, "process", "working_directory"); got != "/var/www/a b" {
			t.Errorf("working_directory = %v", got)
		}
		if got := get(doc, "process", "parent", "name"); got != "apache2" {
			t.Errorf("parent.name = %v", got)
		}
	})
	t.Run("arguments cut out", func(t *testing.T) {
		// The shape LAUREL 0.8.2 wrote with execve-argv-limit-bytes = 40 for
		// the capture's auditctl.
		doc, err := MapLaurel(head + `"SPAWNED_BY":{"pid":10}},"EXECVE":{"argc":11,"ARGV":["auditctl","-a",{"skipped_args":6,"skipped_bytes":37},"euid=33","-k","webconn"]}}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(doc, "process", "command_line"); got != "auditctl -a [6 arguments (37 bytes) skipped by LAUREL] euid=33 -k webconn" {
			t.Errorf("command_line = %v", got)
		}
		if got := get(doc, "process", "args_count"); got != int64(11) {
			t.Errorf("args_count = %v, want the 11 the process was started with", got)
		}
	})
	t.Run("ARGV_STR only", func(t *testing.T) {
		doc, err := MapLaurel(head + `"SPAWNED_BY":{"pid":10}},"EXECVE":{"argc":3,"ARGV_STR":"sh -c id"}}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(doc, "process", "command_line"); got != "sh -c id" {
			t.Errorf("command_line = %v", got)
		}
	})
	t.Run("verbose PPID", func(t *testing.T) {
		doc, err := MapLaurel(head + `"PPID":{"EVENT_ID":"1700000000.050:40","comm":"php-fpm8.2","exe":"/usr/sbin/php-fpm8.2","ppid":1}},"EXECVE":{"argc":1,"ARGV":["id"]}}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(doc, "process", "parent", "executable"); got != "/usr/sbin/php-fpm8.2" {
			t.Errorf("parent.executable = %v", got)
		}
	})
	t.Run("plain exec", func(t *testing.T) {
		doc, err := MapLaurel(head + `"SPAWNED_BY":{"EVENT_ID":"1700000000.050:40","pid":11,"comm":"bash","exe":"/usr/bin/bash"}},"EXECVE":{"argc":1,"ARGV":["id"]}}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(doc, "process", "parent", "name"); got != nil {
			t.Errorf("parent.name = %v from the process's own earlier image", got)
		}
	})
	for name, line := range map[string]string{
		"not JSON":     `{"ID":"1700000000.100:42","SYSCALL":{`,
		"no records":   `{"ID":"1700000000.100:42","PARENT_INFO":{}}`,
		"bad ID":       `{"ID":"yesterday","SYSCALL":{}}`,
		"not a object": `["ID"]`,
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := MapLaurel(line)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "laurel: ") || get(doc, "error", "message") != err.Error() || get(doc, "event", "original") != line {
				t.Errorf("err %v; doc %v", err, doc)
			}
		})
	}
}

func FuzzMapLaurel(f *testing.F) {
	f.Add(`{"ID":"1700000000.100:42","SYSCALL":{"arch":"0xc000003e","syscall":59,"pid":11,"ppid":10,"comm":"sh","SPAWNED_BY":{"pid":10,"comm":"x"}},"EXECVE":{"argc":1,"ARGV":["%41"]},"PATH":[{"name":"/x","mode":"0o100755"}],"SOCKADDR":[{"saddr":"%02%00"}]}`)
	f.Add(`{"ID":"1700000000.100:43","SYSCALL":{"success":"yes","pid":11,"comm":"bash","ARCH":"x86_64","SYSCALL":"connect","UID":"www-data"},"SOCKADDR":[{"SADDR":{"saddr_fam":"inet6","addr":"::1","port":9}}]}`)
	f.Add(`{"ID":"1700000000.100:44","SYSCALL":{"ARCH":"x86_64","SYSCALL":"sendto"},"SOCKADDR":[{"SADDR":{"saddr_fam":"netlink","pid":0,"groups":"0x0"}}]}`)
	f.Fuzz(func(t *testing.T, line string) {
		doc, err := MapLaurel(line)
		if err != nil && get(doc, "error", "message") == nil {
			t.Fatalf("error %v without error.message", err)
		}
	})
}
