package auditd

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// auoms, Microsoft's audit agent on Azure Linux machines (OMS agent, Azure
// Monitor agent), sends each process start to Log Analytics' Syslog table as
// one AUOMS_EXECVE record: the kernel's SYSCALL, EXECVE, CWD and PATH
// records of the event in one line of key=value pairs, with names resolved:
//
//	type=AUOMS_EXECVE audit(1652292621.990:84143): SchemaVersion="1" ... success=yes
//	exit=0 ... ppid=1340 pid=17790 ... user=tomcat uid=1001 ... comm="bash"
//	exe="/bin/bash" ... cwd="/" name="/bin/bash" ... path_name=["/bin/bash",...]
//	... argc=3 cmdline="bash -c "{echo,...}|{base64,-d}|{bash,-i}"" redactors= containerid=
//
// MapAUOMS writes the record again as the audit.log lines it stands for and
// maps them with Map, so that an auoms process start is the same ECS
// document as the kernel's own records give.

// auomsIDs are the id fields of a SYSCALL record, with the name fields auoms
// resolves them to, which go to the ENRICHED part of the line.
var auomsIDs = []struct{ id, name string }{
	{"auid", "audit_user"}, {"uid", "user"}, {"gid", "group"}, {"euid", "effective_user"}, {"suid", "set_user"},
	{"fsuid", "filesystem_user"}, {"egid", "effective_group"}, {"sgid", "set_group"}, {"fsgid", "filesystem_group"},
}

// MapAUOMS maps one AUOMS_EXECVE record (the Syslog table's SyslogMessage)
// to ECS, with event.original the record itself.
func MapAUOMS(msg string) (map[string]any, error) {
	lines, err := AUOMSLines(msg)
	if err != nil {
		return errorDoc(msg, err), err
	}
	doc, err := Map(lines)
	if doc != nil {
		if ev, ok := doc["event"].(map[string]any); ok {
			ev["original"] = msg
		}
	}
	return doc, err
}

// AUOMSLines writes an AUOMS_EXECVE record as raw audit.log lines: SYSCALL
// (with the resolved names as its ENRICHED part), EXECVE when the exec
// succeeded (the kernel logs none otherwise), CWD, one PATH per path_name,
// and PROCTITLE.
func AUOMSLines(msg string) ([]string, error) {
	typ, stamp, body, err := auomsHeader(msg)
	if err != nil {
		return nil, err
	}
	if typ != "AUOMS_EXECVE" {
		return nil, fmt.Errorf("auoms %s records are not read (only AUOMS_EXECVE, a process start)", typ)
	}
	kv := auomsFields(body)
	if kv["pid"] == "" || kv["exe"] == "" {
		return nil, fmt.Errorf("auoms AUOMS_EXECVE record without pid or exe")
	}
	for _, k := range []string{"pid", "ppid"} {
		if v, ok := kv[k]; ok {
			if _, err := strconv.ParseUint(v, 10, 32); err != nil {
				return nil, fmt.Errorf("auoms AUOMS_EXECVE record: %s %q is not a process id", k, v)
			}
		}
	}
	node := ""
	if n := kv["node"]; n != "" && !strings.ContainsAny(n, " \"") {
		node = "node=" + n + " "
	}
	at := func(typ string) string { return node + "type=" + typ + " msg=audit(" + stamp + "): " }
	lines := []string{at("SYSCALL") + auomsSyscall(kv)}
	if kv["success"] == "yes" {
		args := splitAUOMSCmdline(kv["cmdline"])
		ex := at("EXECVE") + "argc=" + strconv.Itoa(len(args))
		for i, a := range args {
			ex += " a" + strconv.Itoa(i) + "=" + hexOrQuote(a)
		}
		lines = append(lines, ex)
	}
	if cwd := kv["cwd"]; cwd != "" {
		lines = append(lines, at("CWD")+"cwd="+hexOrQuote(cwd))
	}
	nametypes := auomsList(kv["path_nametype"])
	for i, name := range auomsList(kv["path_name"]) {
		p := at("PATH") + "item=" + strconv.Itoa(i) + " name=" + hexOrQuote(name)
		if i < len(nametypes) && nametypes[i] != "" && isBare(nametypes[i]) {
			p += " nametype=" + nametypes[i]
		}
		lines = append(lines, p)
	}
	title := kv["proctitle"]
	if title == "" {
		title = kv["cmdline"]
	}
	if title != "" {
		lines = append(lines, at("PROCTITLE")+"proctitle="+hexOrQuote(title))
	}
	return lines, nil
}

// auomsSyscall writes the fields of the SYSCALL record, then, after the
// ENRICHED separator, the names auoms resolved. A value that cannot be
// written bare (a damaged record's) is left out rather than let it shift
// the fields after it.
func auomsSyscall(kv map[string]string) string {
	var sc strings.Builder
	syscall := kv["syscall_r"] // the number; auoms's syscall= is the name
	if !isBare(syscall) || syscall == "" {
		syscall = "59" // execve on x86_64
	}
	sc.WriteString("arch=" + auomsArch(kv["arch"]) + " syscall=" + syscall)
	for _, k := range []string{"success", "exit", "a0", "a1", "a2", "a3", "ppid", "pid"} {
		if v := kv[k]; v != "" && isBare(v) {
			sc.WriteString(" " + k + "=" + v)
		}
	}
	for _, id := range auomsIDs {
		if v := kv[id.id]; v != "" && isBare(v) {
			sc.WriteString(" " + id.id + "=" + v)
		}
	}
	for _, k := range []string{"tty", "ses", "comm", "exe", "key"} {
		if v, ok := kv[k]; ok && v != "" && (isBare(v) || auditQuote(k, v) != v) {
			sc.WriteString(" " + k + "=" + auditQuote(k, v))
		}
	}
	var rich []string
	for _, id := range auomsIDs {
		if v := kv[id.name]; v != "" && isPrintable(v) {
			rich = append(rich, strings.ToUpper(id.id)+"="+strconv.Quote(v))
		}
	}
	return sc.String() + "\x1d" + strings.Join(rich, " ")
}

// auomsHeader splits "type=T audit(S): body".
func auomsHeader(msg string) (typ, stamp, body string, err error) {
	msg = strings.TrimSpace(msg)
	rest, ok := strings.CutPrefix(msg, "type=")
	if !ok {
		return "", "", "", fmt.Errorf("auoms record does not start with type=")
	}
	typ, rest, _ = strings.Cut(rest, " ")
	rest, ok = strings.CutPrefix(rest, "audit(")
	end := strings.Index(rest, "): ")
	if !ok || end < 0 {
		return "", "", "", fmt.Errorf("auoms %s record without audit(time:serial): header", typ)
	}
	return typ, rest[:end], rest[end+3:], nil
}

// auomsFields reads the key=value pairs. Values are bare, "quoted" (not
// escaped: a quoted value ends at a quote followed by a space or the end),
// or ["lists"]. cmdline and proctitle, the last values before auoms's
// trailing redactors= and containerid=, hold spaces and quotes unescaped,
// so they run to " redactors=" (or the end).
func auomsFields(body string) map[string]string {
	kv := map[string]string{}
	for body != "" {
		body = strings.TrimLeft(body, " ")
		eq := strings.IndexByte(body, '=')
		if eq <= 0 || strings.IndexByte(body[:eq], ' ') >= 0 {
			break
		}
		key, rest := body[:eq], body[eq+1:]
		var val string
		switch {
		case key == "cmdline" || key == "proctitle":
			end := strings.LastIndex(rest, " redactors=")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
		case strings.HasPrefix(rest, `"`):
			end := closingAUOMS(rest, 1, '"')
			val, rest = rest[1:end], rest[min(end+1, len(rest)):]
		case strings.HasPrefix(rest, "["):
			end := closingAUOMS(rest, 1, ']')
			val, rest = rest[:min(end+1, len(rest))], rest[min(end+1, len(rest)):]
		default:
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				sp = len(rest)
			}
			val, rest = rest[:sp], rest[sp:]
		}
		kv[key] = val
		body = rest
	}
	return kv
}

// closingAUOMS returns the index of the delimiter that ends a value: the
// first c from i followed by a space or the end (len(s) if none).
func closingAUOMS(s string, i int, c byte) int {
	for ; i < len(s); i++ {
		if s[i] == c && (i+1 == len(s) || s[i+1] == ' ') {
			return i
		}
	}
	return len(s)
}

// auomsList reads ["a","b"].
func auomsList(v string) []string {
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if v == "" {
		return nil
	}
	var out []string
	for _, e := range strings.Split(v, `","`) {
		out = append(out, strings.Trim(e, `"`))
	}
	return out
}

// splitAUOMSCmdline splits auoms's cmdline into the arguments: auoms joins
// them with spaces and puts double quotes around one that holds characters
// a shell would read (bash -c "{echo,...}|{base64,-d}").
func splitAUOMSCmdline(s string) []string {
	var args []string
	var cur strings.Builder
	quoted, started := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && (quoted || cur.Len() == 0):
			quoted, started = !quoted, true
		case c == ' ' && !quoted:
			if cur.Len() > 0 || started {
				args = append(args, cur.String())
			}
			cur.Reset()
			started = false
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if cur.Len() > 0 || started {
		args = append(args, cur.String())
	}
	return args
}

// auditQuote writes a SYSCALL value as auditd does: comm, exe and key quoted
// (hex when they hold a quote or a space), the rest bare.
func auditQuote(key, v string) string {
	switch key {
	case "comm", "exe", "key":
		return hexOrQuote(v)
	}
	return v
}

func hexOrQuote(v string) string {
	if strings.ContainsAny(v, "\" \t\x1d") || !isPrintable(v) {
		return strings.ToUpper(hex.EncodeToString([]byte(v)))
	}
	return `"` + v + `"`
}

// isBare reports whether v can be written unquoted in an audit record: a
// value that cannot (a damaged record's) is left out rather than let it
// shift the fields after it.
func isBare(v string) bool { return isPrintable(v) && !strings.ContainsAny(v, `"=`) }

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// auomsArch gives the audit arch code of auoms's arch name.
func auomsArch(name string) string {
	switch name {
	case "x86_64":
		return "c000003e"
	case "i386", "i686":
		return "40000003"
	case "aarch64":
		return "c00000b7"
	}
	return "c000003e"
}
