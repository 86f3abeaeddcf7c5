package conformance

import (
	"bufio"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/elastic/go-libaudit/v2/auparse"
	"webshellbeat/module/auditd"
)

// auditSamples are the audit logs of the shared data that the reference
// compares SigmaHQ's auditd rules on: a web shell's commands under Apache
// and php-fpm, the founding document's sample, and go-libaudit's and
// filebeat's test logs (RHEL 6 and 7, Ubuntu, SELinux denials, account
// changes, hex-encoded names).
var auditSamples = []string{
	"linux-capture/audit.log",
	"seed/audit.log",
	"elastic-go-libaudit/testdata/normal.log",
	"elastic-go-libaudit/auparse/testdata/audit-rhel6.log",
	"elastic-go-libaudit/auparse/testdata/audit-rhel7.log",
	"elastic-go-libaudit/auparse/testdata/audit-ubuntu17.log",
	"elastic-go-libaudit/auparse/testdata/test2.log",
	"elastic-go-libaudit/auparse/testdata/test3.log",
	"elastic-beats/filebeat/module/auditd/log/test/test.log",
	"elastic-beats/filebeat/module/auditd/log/test/execve-hex-arg.log",
}

// auditID finds a record's event: audit(time:serial).
var auditID = regexp.MustCompile(`msg=audit\(([0-9.]+:[0-9]+)\)`)

// auditReferenceSamples reads the audit logs: for each event (the records
// of one audit id, in file order), webshellbeat's document (module/auditd
// joins the records, as the beat does) and the reference's rows, one per
// record, as a tool that reads audit.log one record at a time sees them
// (Zircolite, Chainsaw, pySigma's SQL).
func auditReferenceSamples(t *testing.T, data string) []refEvent {
	t.Helper()
	var out []refEvent
	for _, name := range auditSamples {
		f, err := os.Open(data + name)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		groups := map[string][]string{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			m := auditID.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			if groups[m[1]] == nil {
				order = append(order, m[1])
			}
			groups[m[1]] = append(groups[m[1]], sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		for _, id := range order {
			doc, err := auditd.Map(groups[id])
			if doc == nil {
				t.Fatalf("%s audit(%s): %v", name, id, err)
			}
			ev := refEvent{key: "audit/" + name + "#" + id, ecs: doc}
			for _, line := range groups[id] {
				ev.rows = append(ev.rows, recordRow(line))
			}
			out = append(out, ev)
		}
	}
	return out
}

// recordRow is one audit record as the reference reads it: its type and its
// fields as written, with what the rules' authors read interpreted, as
// ausearch -i does: the syscall by name, and the strings the kernel writes
// in hex when they hold a space or a quote (an EXECVE argument, exe, comm,
// name, cwd) decoded. Numbers (uid=33) stay numbers. What ENRICHED logs add
// after the record (UID="www-data") is left out, since SQLite's column
// names ignore case and uid=33 is what rules compare. A user-space
// record's msg='...' is read as fields too.
func recordRow(line string) map[string]string {
	row := map[string]string{"_log": "audit"}
	typ, _, _ := strings.Cut(strings.TrimPrefix(line, "type="), " ")
	row["type"] = typ
	_, body, _ := strings.Cut(line, "): ")
	body, _, _ = strings.Cut(body, "\x1d")
	if inner := innerMsg.FindStringSubmatch(body); inner != nil {
		body = strings.Replace(body, inner[0], inner[1], 1)
	}
	for _, kv := range recordField.FindAllStringSubmatch(body, -1) {
		key, val := kv[1], kv[2]
		quoted := strings.HasPrefix(val, `"`)
		val = strings.Trim(val, `"`)
		if !quoted && untrusted(typ, key) {
			if b, err := hex.DecodeString(val); err == nil && strings.ToUpper(val) == val {
				val = string(b)
			}
		}
		row[key] = val
	}
	if typ == "SYSCALL" {
		if msg, err := auparse.ParseLogLine(line); err == nil {
			if d, err := msg.Data(); err == nil && d["syscall"] != "" {
				row["syscall"] = d["syscall"]
			}
		}
	}
	return row
}

// innerMsg is a user-space record's msg='...', whose fields are the record's.
var innerMsg = regexp.MustCompile(`msg='([^']*)'`)

// recordField is one key=value of a record: a quoted value or a word.
var recordField = regexp.MustCompile(`(?:^|\s)([A-Za-z_][A-Za-z0-9_-]*)=("[^"]*"|\S*)`)

// untrusted reports whether the kernel writes field key of a record of
// type typ in hex when it holds a space, a quote or a control character.
func untrusted(typ, key string) bool {
	switch key {
	case "exe", "comm", "name", "cwd":
		return true
	}
	return typ == "EXECVE" && len(key) > 1 && key[0] == 'a' && strings.Trim(key[1:], "0123456789") == ""
}
