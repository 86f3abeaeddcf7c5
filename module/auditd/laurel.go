package auditd

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// LAUREL (github.com/threathunters-io/laurel), an auditd plug-in that many
// Linux hunters install, writes each audit event as one JSON line instead of
// the kernel's records:
//
//	{"ID":"1795724220.725:88","SYSCALL":{"arch":"0xc000003e","syscall":59,
//	 ...,"comm":"sh","exe":"/usr/bin/dash","key":"exec","ARCH":"x86_64",...,
//	 "SPAWNED_BY":{"START_TIME":"1795724215.010","pid":23564,"comm":"apache2",
//	 "exe":"/usr/sbin/apache2"}},"EXECVE":{"argc":3,"ARGV":["sh","-c","whoami"]},
//	 "CWD":{"cwd":"/var/www/site/uploads"},"PATH":[{...},{...}],"PROCTITLE":{...}}
//
// MapLaurel writes the line again as the audit.log records it came from and
// maps them with Map, as MapAUOMS does for auoms: a LAUREL event is the same
// ECS document as the kernel's own records of it (TestLaurelMatchesAuditLog
// holds that over eight of LAUREL's outputs, each beside auditd's log of
// the same events). Its lowercase keys are the kernel's fields, its
// uppercase string values the names auditd's ENRICHED format gives them;
// LAUREL's own additions (objects and lists: PID, UID_GROUPS, ENV, LABELS)
// are no record fields and are left out, except SPAWNED_BY (PPID in 0.5,
// and in 0.8 with ppid-verbose): the parent process's name and executable,
// which LAUREL read from /proc when the parent's own exec was never logged
// (a php-fpm master started before auditd), and which raw audit logs never
// give. What LAUREL's settings change (drop-raw, execve-argv, its limit,
// enrich.prefix) is undone where it can be; see the functions below.

// stamp is an event's id, "seconds.millis:serial".
const stamp = `[0-9]+\.[0-9]+:[0-9]+`

var (
	// laurelID matches the start of a LAUREL line: its ID comes first.
	laurelID   = regexp.MustCompile(`^\{"ID":"` + stamp + `"`)
	auditStamp = regexp.MustCompile(`^` + stamp + `$`)
)

// IsLaurel reports whether line is a LAUREL event line. decode_auditd asks
// it of every event it decodes (raw records read with filestream, too), so
// text that does not open with {"ID": is answered without a copy or the
// regexp.
func IsLaurel(line string) bool {
	line = strings.TrimLeftFunc(line, unicode.IsSpace)
	return strings.HasPrefix(line, `{"ID":"`) && laurelID.MatchString(line)
}

// MapLaurel maps one LAUREL line to ECS, with event.original the line.
func MapLaurel(line string) (map[string]any, error) {
	lines, more, err := laurelEvent(line)
	if err != nil {
		err = fmt.Errorf("laurel: %w", err)
		return errorDoc(line, err), err
	}
	doc, err := Map(lines)
	if doc == nil {
		return doc, err
	}
	if ev, ok := doc["event"].(map[string]any); ok {
		ev["original"] = line
	}
	if err != nil {
		// Map names the records of the lines written back, in LAUREL's order.
		err = fmt.Errorf("laurel: %w", err)
		doc["error"] = map[string]any{"message": err.Error()}
	}
	more.addTo(doc)
	return doc, err
}

// LaurelLines writes a LAUREL line as the raw audit.log lines (ENRICHED
// format) it came from.
func LaurelLines(line string) ([]string, error) {
	lines, _, err := laurelEvent(line)
	return lines, err
}

// laurelMore is what a LAUREL line tells beyond its records.
type laurelMore struct {
	parent    laurelParent
	argc      int64  // EXECVE's argc, when LAUREL cut arguments out (see argvFields)
	container string // SYSCALL.PID.container.id: the process runs in a container
}

// laurelParent is what SPAWNED_BY (or a verbose PPID) tells of the parent.
type laurelParent struct {
	pid       int64
	comm, exe string
}

// addTo sets what the records could not give: the parent's name and
// executable, the count of the arguments the process was started with, and
// its container's id (container.id, as the container modules give a
// container's log lines: the request and the command it ran meet there).
func (m laurelMore) addTo(doc map[string]any) {
	addSpawnedBy(doc, m.parent)
	if proc, ok := doc["process"].(map[string]any); ok && m.argc > 0 {
		proc["args_count"] = m.argc
	}
	if m.container != "" {
		doc["container"] = map[string]any{"id": m.container}
	}
}

func laurelEvent(line string) ([]string, laurelMore, error) {
	var more laurelMore
	obj, err := decodeEvent(line)
	if err != nil {
		return nil, more, fmt.Errorf("not a JSON object: %w", err)
	}
	id, _ := obj.get("ID").(string)
	if !auditStamp.MatchString(id) {
		return nil, more, fmt.Errorf("no ID of the form time:serial (%q)", id)
	}
	node := ""
	if n, ok := obj.get("NODE").(string); ok && isBare(n) {
		node = "node=" + n + " "
	}
	var lines []string
	for _, f := range obj {
		var typ auparse.AuditMessageType
		if f.key == "ID" || f.key == "NODE" || typ.UnmarshalText([]byte(f.key)) != nil {
			continue // LAUREL's own top-level additions (PARENT_INFO, CONTAINER_INFO)
		}
		var recs []object
		switch r := f.val.(type) {
		case object:
			recs = []object{r}
		case []any:
			for _, e := range r {
				if o, ok := e.(object); ok {
					recs = append(recs, o)
				}
			}
		}
		for _, r := range recs {
			switch f.key {
			case "SYSCALL":
				more.parent = spawnedBy(r)
				more.container = containerID(r)
			case "EXECVE":
				if argc, ok := jsonInt(r.get("argc")); ok && skipsArgs(r.get("ARGV")) {
					more.argc = argc
				}
			}
			if body := laurelRecord(f.key, r); body != "" {
				lines = append(lines, node+"type="+f.key+" msg=audit("+id+"): "+body)
			}
		}
	}
	if len(lines) == 0 {
		return nil, more, fmt.Errorf("event %s holds no audit record", id)
	}
	return lines, more, nil
}

// laurelRecord writes one record's fields as the kernel wrote them.
func laurelRecord(typ string, r object) string {
	var kv, rich []string
	for _, f := range r {
		switch {
		case f.key == "ARGV":
			args := argvFields(typ, f.val)
			if typ == "EXECVE" {
				// argc counts the arguments written (see argvFields).
				args = append([]string{"argc=" + strconv.Itoa(len(args))}, args...)
			}
			kv = append(kv, args...)
			continue
		case f.key == "argc" && typ == "EXECVE" && r.get("ARGV") != nil:
			continue
		case f.key == "ARGV_STR":
			// execve-argv = ["string"]: the arguments joined by spaces, split
			// again into argc: only the last may hold spaces, which is right
			// for sh -c "cmd; cmd", a web shell's shape.
			if s, ok := f.val.(string); ok && r.get("ARGV") == nil {
				argc, ok := jsonInt(r.get("argc"))
				if !ok || argc < 1 {
					argc = -1
				}
				var args []any
				for _, a := range strings.SplitN(s, " ", int(min(argc, 1<<16))) {
					args = append(args, a)
				}
				kv = append(kv, argvFields(typ, args)...)
			}
			continue
		}
		if isUpper(f.key) {
			// The ENRICHED names (UID="root", ARCH=x86_64) are strings; LAUREL's
			// additions are objects and lists, or in laurelOwn.
			if s, ok := f.val.(string); ok && quotable(s) && !laurelOwn[f.key] {
				if !strings.HasPrefix(s, "{") { // SADDR={ fam=inet ... } is written bare
					s = `"` + s + `"`
				}
				rich = append(rich, f.key+"="+s)
			}
			continue
		}
		if name, ok := prefixedName(r, f); ok {
			if s, ok := f.val.(string); ok && isPrintable(s) && !strings.Contains(s, `"`) {
				rich = append(rich, strings.ToUpper(name)+`="`+s+`"`)
			}
			continue
		}
		if v, ok := laurelValue(f.key, f.val); ok {
			kv = append(kv, f.key+"="+v)
		}
	}
	if typ == "SYSCALL" {
		kv = append(droppedRaw(r), kv...)
	}
	if typ == "SOCKADDR" && r.get("saddr") == nil {
		sa, ok := sockaddr(r.get("SADDR"))
		if !ok {
			return "" // no address to write: the record is left out
		}
		kv = append(kv, "saddr="+sa)
	}
	out := strings.Join(kv, " ")
	if len(rich) > 0 {
		out += "\x1d" + strings.Join(rich, " ")
	}
	return out
}

// argvFields gives a0, a1, ... of SYSCALL (numbers, written in hex) or
// EXECVE (the arguments). PROCTITLE's ARGV is its proctitle, the arguments
// joined by NUL bytes. Where LAUREL cut arguments out of a long list
// (execve-argv-limit-bytes: {"skipped_args":6,"skipped_bytes":37} in their
// place), one argument says so, so that the command line shows the gap.
func argvFields(typ string, v any) []string {
	list, _ := v.([]any)
	if typ == "PROCTITLE" {
		var parts []string
		for _, e := range list {
			s, _ := e.(string)
			parts = append(parts, percentDecode(s))
		}
		return []string{"proctitle=" + strings.ToUpper(hex.EncodeToString([]byte(strings.Join(parts, "\x00"))))}
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		var val string
		switch x := e.(type) {
		case string:
			if typ == "EXECVE" {
				val = hexOrQuote(percentDecode(x))
			} else {
				val = strings.TrimPrefix(x, "0x")
			}
		case json.Number:
			val = x.String()
		case object:
			n, _ := jsonInt(x.get("skipped_args"))
			b, _ := jsonInt(x.get("skipped_bytes"))
			val = hexOrQuote(fmt.Sprintf("[%d arguments (%d bytes) skipped by LAUREL]", n, b))
		default:
			continue
		}
		out = append(out, "a"+strconv.Itoa(len(out))+"="+val)
	}
	return out
}

// skipsArgs reports whether LAUREL cut arguments out of an ARGV list.
func skipsArgs(v any) bool {
	list, _ := v.([]any)
	return slices.ContainsFunc(list, func(e any) bool { _, ok := e.(object); return ok })
}

// droppedRaw gives back a SYSCALL record's arch and syscall numbers from
// their names when LAUREL dropped them (translate.drop-raw, with universal):
// the record cannot be read without them. The ids it drops (uid, gid, ...)
// cannot be had from their names; user.name still comes from UID.
func droppedRaw(r object) []string {
	var out []string
	archName, _ := r.get("ARCH").(string)
	if r.get("arch") == nil && archName != "" {
		for code, name := range auparse.AuditArchNames {
			if name == archName {
				out = append(out, "arch="+strconv.FormatUint(uint64(code), 16))
				break
			}
		}
	}
	if name, _ := r.get("SYSCALL").(string); r.get("syscall") == nil && name != "" {
		for n, sc := range auparse.AuditSyscalls[archName] {
			if sc == name {
				out = append(out, "syscall="+strconv.Itoa(n))
				break
			}
		}
	}
	return out
}

// sockaddr writes the socket address LAUREL translated (SADDR: {saddr_fam,
// addr, port} or {saddr_fam: local, path}) as the kernel's saddr bytes, in
// hex, when translate.drop-raw left out the raw ones: inet, inet6, local
// (Unix) and netlink addresses. Another family's record is left out.
func sockaddr(v any) (string, bool) {
	o, _ := v.(object)
	fam, _ := o.get("saddr_fam").(string)
	var b []byte
	switch fam {
	case "local":
		path, _ := o.get("path").(string)
		b = append([]byte{1, 0}, append([]byte(percentDecode(path)), 0)...)
	case "inet", "inet6":
		addr, _ := o.get("addr").(string)
		ip, err := netip.ParseAddr(addr)
		port, pok := jsonInt(o.get("port"))
		if err != nil || !pok || port < 0 || port > 65535 || ip.Is4() != (fam == "inet") {
			return "", false
		}
		b = []byte{2, 0, byte(port >> 8), byte(port)}
		if fam == "inet6" {
			b[0] = 10
			b = append(b, 0, 0, 0, 0) // flowinfo
		}
		b = append(b, ip.AsSlice()...)
		if fam == "inet" {
			b = append(b, make([]byte, 8)...)
		} else {
			b = append(b, 0, 0, 0, 0) // scope id
		}
	case "netlink": // the audit rules' own socket (auditctl's)
		pid, pok := jsonInt(o.get("pid"))
		groups, gok := radixNumber(fmt.Sprint(o.get("groups")))
		g, gerr := strconv.ParseUint(groups, 16, 32)
		if !pok || !gok || gerr != nil || pid < 0 || pid > 1<<32-1 {
			return "", false
		}
		b = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32([]byte{16, 0, 0, 0}, uint32(pid)), uint32(g))
	default:
		return "", false
	}
	return strings.ToUpper(hex.EncodeToString(b)), true
}

// jsonInt reads a JSON integer.
func jsonInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// untrusted are the fields the kernel writes quoted, or in hex when they hold
// a space, a quote or a control character: strings a user can choose.
var untrusted = map[string]bool{
	"comm": true, "exe": true, "cwd": true, "name": true, "cmd": true, "data": true, "acct": true,
	"key": true, "ocomm": true, "path": true, "dir": true, "watch": true, "proctitle": true,
}

// laurelValue writes a value back: numbers as they are, LAUREL's "0x..." and
// "0o..." numbers without the prefix (the kernel's hex and octal), null as
// (null), and percent-encoded strings decoded, then quoted or hex-encoded.
func laurelValue(key string, v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "(null)", true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case string:
		if key == "saddr" { // the socket address's bytes
			return strings.ToUpper(hex.EncodeToString([]byte(percentDecode(x)))), true
		}
		if n, ok := radixNumber(x); ok {
			return n, true
		}
		s := percentDecode(x)
		if untrusted[key] {
			return hexOrQuote(s), true
		}
		if s != "" && isPrintable(s) && !strings.Contains(s, `"`) {
			return s, true
		}
		if quotable(s) {
			return `"` + s + `"`, true
		}
		return strings.ToUpper(hex.EncodeToString([]byte(s))), true
	}
	return "", false // an object or list: LAUREL's own
}

// radixNumber takes LAUREL's "0xc000003e" and "0o100755" back to the
// kernel's c000003e and 0100755.
func radixNumber(s string) (string, bool) {
	digits := "0123456789abcdefABCDEF"
	rest, ok := strings.CutPrefix(s, "0x")
	if !ok {
		rest, ok = strings.CutPrefix(s, "0o")
		digits, s = "01234567", "0"+rest
	} else {
		s = rest
	}
	if !ok || rest == "" || strings.Trim(rest, digits) != "" {
		return "", false
	}
	return s, true
}

// percentDecode undoes LAUREL's encoding of bytes that are not printable
// ASCII, and of % and +, as %XX. A % not followed by two hex digits stays.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// translated are the fields whose names LAUREL's translate settings add
// (UID="www-data"), longest first: with enrich.prefix they are written in
// lowercase after the prefix (enriched_fsuid), beside the number (fsuid).
var translated = []string{"syscall", "fsuid", "fsgid", "arch", "auid", "euid", "suid", "egid", "sgid", "ouid", "ogid", "uid", "gid"}

// prefixedName reports whether f is the prefixed name of a field of r
// (enriched_uid beside uid), and which.
func prefixedName(r object, f field) (string, bool) {
	if _, num := f.val.(json.Number); num {
		return "", false
	}
	for _, n := range translated {
		if len(f.key) > len(n) && strings.HasSuffix(f.key, n) && r.get(n) != nil {
			return n, true
		}
	}
	return "", false
}

// quotable reports whether s can be written "quoted": printable but for
// spaces, and no quote in it.
func quotable(s string) bool {
	return isPrintable(strings.ReplaceAll(s, " ", "_")) && !strings.Contains(s, `"`)
}

// laurelOwn are the string-valued keys LAUREL adds to a record beside the
// names auditd's ENRICHED format gives: the script an exec ran, the
// executable's hash.
var laurelOwn = map[string]bool{"SCRIPT": true, "EXE_HASH": true}

func isUpper(k string) bool { return k != "" && 'A' <= k[0] && k[0] <= 'Z' }

// spawnedBy reads SYSCALL.SPAWNED_BY, else a verbose SYSCALL.PPID, when it
// names the parent (ppid): after a plain exec it names the process's own
// earlier image instead.
func spawnedBy(sc object) laurelParent {
	ppid, _ := sc.get("ppid").(json.Number)
	for _, k := range []string{"spawned_by", "ppid"} {
		o, ok := enrichment(sc, k)
		if !ok {
			continue
		}
		pid, _ := o.get("pid").(json.Number)
		if k == "ppid" {
			pid = ppid // PPID always describes the parent
		}
		if pid == "" || pid != ppid {
			continue
		}
		n, err := pid.Int64()
		if err != nil {
			continue
		}
		comm, _ := o.get("comm").(string)
		exe, _ := o.get("exe").(string)
		if comm != "" || exe != "" {
			return laurelParent{pid: n, comm: percentDecode(comm), exe: percentDecode(exe)}
		}
	}
	return laurelParent{}
}

// enrichment returns LAUREL's object named name in a record: SPAWNED_BY, or
// enriched_spawned_by with the enrich.prefix option (a field of the kernel's
// by that name, ppid, is a number).
func enrichment(r object, name string) (object, bool) {
	for _, f := range r {
		if o, ok := f.val.(object); ok && strings.HasSuffix(strings.ToLower(f.key), name) {
			return o, true
		}
	}
	return nil, false
}

// containerID reads SYSCALL.PID.container.id (PID under enrich.prefix:
// enriched_pid; not PPID).
func containerID(sc object) string {
	for _, f := range sc {
		k := strings.ToLower(f.key)
		if o, ok := f.val.(object); ok && strings.HasSuffix(k, "pid") && !strings.HasSuffix(k, "ppid") {
			c, _ := o.get("container").(object)
			id, _ := c.get("id").(string)
			if id != "" && strings.Trim(id, "0123456789abcdef") == "" {
				return id
			}
		}
	}
	return ""
}

// addSpawnedBy fills process.parent.name and .executable from SPAWNED_BY
// where the records left them out (they always do: audit records name the
// parent only by pid).
func addSpawnedBy(doc map[string]any, p laurelParent) {
	proc, _ := doc["process"].(map[string]any)
	if proc == nil || p.pid == 0 {
		return
	}
	parent, _ := proc["parent"].(map[string]any)
	if parent == nil {
		return
	}
	if pid, _ := parent["pid"].(int64); pid != p.pid {
		return
	}
	if _, ok := parent["name"]; !ok && p.comm != "" {
		parent["name"] = p.comm
	}
	if _, ok := parent["executable"]; !ok && p.exe != "" {
		parent["executable"] = p.exe
	}
}

// object is a JSON object with its keys in order (see decodeEvent).
type object []field

type field struct {
	key string
	val any
}

func (o object) get(k string) any {
	for _, f := range o {
		if f.key == k {
			return f.val
		}
	}
	return nil
}

// decodeEvent reads a LAUREL line: its records in the line's order, which
// is the kernel's (the first record is the event's primary), and each
// record's fields sorted by name, their order being of no meaning. Token
// is called for the top-level keys only: per value it is several times
// slower than Decode.
func decodeEvent(line string) (object, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("it does not open with {")
	}
	var o object
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o = append(o, field{key: k.(string), val: sortedObjects(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return o, nil
}

// sortedObjects turns the maps of a decoded value into objects, fields
// sorted by name.
func sortedObjects(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := make(object, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			o = append(o, field{key: k, val: sortedObjects(x[k])})
		}
		return o
	case []any:
		for i, e := range x {
			x[i] = sortedObjects(e)
		}
	}
	return v
}
