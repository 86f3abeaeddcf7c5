package auditd

import (
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/aucoalesce"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// Map turns the records of one audit event (raw audit.log lines, raw or
// ENRICHED format, in any order) into a nested ECS document.
//
// Map returns a document whenever lines holds at least one line. A non-nil
// error means some record could not be used; the document then carries the
// same text in error.message (naming the record, "record 2 (line 2 of the
// event)"), plus event.original, so the caller can still publish it.
func Map(lines []string) (map[string]any, error) {
	return mapLines(lines, nil)
}

// MapGroup maps a Joiner group. Errors name file line numbers. A group that
// carries a line error becomes an error document.
func MapGroup(g Group) (map[string]any, error) {
	if g.Err != nil {
		return errorDoc(g.Raw(), g.Err), g.Err
	}
	return mapLines(g.Lines, g.LineNumbers)
}

type parsedRecord struct {
	no   int // 1-based position to report (file line or record index)
	line string
	h    header
	msg  *auparse.AuditMessage
	rich map[string]string
}

type problems []string

func (p *problems) add(where int, lineNos []int, format string, args ...any) {
	loc := fmt.Sprintf("record %d", where)
	if lineNos != nil {
		loc = fmt.Sprintf("line %d", where)
	}
	*p = append(*p, loc+": "+fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "; "))
}

// auxiliary record types describe a syscall and follow its SYSCALL record.
// When one of them comes first (out-of-order logs), the SYSCALL is moved to
// the front so aucoalesce does not take the auxiliary record as the event's
// primary record.
var auxiliary = map[auparse.AuditMessageType]bool{
	auparse.AUDIT_EXECVE:     true,
	auparse.AUDIT_PATH:       true,
	auparse.AUDIT_CWD:        true,
	auparse.AUDIT_PROCTITLE:  true,
	auparse.AUDIT_SOCKADDR:   true,
	auparse.AUDIT_BPRM_FCAPS: true,
	auparse.AUDIT_MMAP:       true,
	auparse.AUDIT_FD_PAIR:    true,
	auparse.AUDIT_OBJ_PID:    true,
	auparse.AUDIT_IPC:        true,
	auparse.AUDIT_SOCKETCALL: true,
	auparse.AUDIT_CAPSET:     true,
}

func mapLines(lines []string, lineNos []int) (map[string]any, error) {
	var probs problems
	original := strings.Join(lines, "\n")
	recs := make([]parsedRecord, 0, len(lines))
	for i, line := range lines {
		no := i + 1
		if lineNos != nil && i < len(lineNos) {
			no = lineNos[i]
		}
		h, msg, err := parseHeader(line)
		if err != nil {
			if errors.Is(err, ErrEmptyLine) {
				continue
			}
			probs.add(no, lineNos, "%v", err)
			continue
		}
		if len(recs) > 0 && h.id != recs[0].h.id {
			probs.add(no, lineNos, "record of event audit(%s) mixed into event audit(%s); ignored", h.id, recs[0].h.id)
			continue
		}
		if h.typ == auparse.AUDIT_EOE {
			continue
		}
		recs = append(recs, parsedRecord{no: no, line: line, h: h, msg: msg, rich: parseEnriched(h.rich)})
	}
	if len(recs) == 0 {
		if len(probs) == 0 {
			return nil, ErrNoRecords
		}
		err := probs.err()
		return errorDoc(original, err), err
	}

	// SYSCALL first when the first record only describes a syscall.
	if auxiliary[recs[0].h.typ] {
		if k := slices.IndexFunc(recs, func(r parsedRecord) bool { return r.h.typ == auparse.AUDIT_SYSCALL }); k > 0 {
			sc := recs[k]
			copy(recs[1:k+1], recs[:k])
			recs[0] = sc
		}
	}

	msgs := make([]*auparse.AuditMessage, len(recs))
	// The kernel writes the arguments in EXECVE records of at most 7.5 KB:
	// many or long arguments take several, read as one.
	var execBodies []string
	execAt := -1
	for i := range recs {
		if r := &recs[i]; r.h.typ == auparse.AUDIT_EXECVE {
			execBodies = append(execBodies, r.h.body)
			if execAt < 0 {
				execAt = r.no
			}
		}
	}
	var execArgs []string
	haveExecArgs := false
	if len(execBodies) > 0 {
		args, aerr := execveArgs(execBodies)
		if aerr != nil {
			probs.add(execAt, lineNos, "EXECVE arguments: %v", aerr)
		}
		execArgs, haveExecArgs = args, len(args) > 0
	}
	for i := range recs {
		r := &recs[i]
		msgs[i] = r.msg
		if _, derr := r.msg.Data(); derr != nil {
			if r.h.typ == auparse.AUDIT_EXECVE && haveExecArgs {
				continue // recovered by execveArgs
			}
			probs.add(r.no, lineNos, "type=%s: %v%s", r.h.typ, derr, interpretedHint(r.h.body))
		}
	}

	ev, err := aucoalesce.CoalesceMessages(msgs)
	if err != nil || ev == nil {
		if err == nil {
			err = errors.New("no event")
		}
		probs.add(recs[0].no, lineNos, "cannot coalesce event audit(%s): %v", recs[0].h.id, err)
		doc := errorDoc(original, probs.err())
		doc["@timestamp"] = recs[0].h.stamp.UTC()
		doc["auditd"] = map[string]any{
			"sequence":     int64(recs[0].h.seq),
			"message_type": strings.ToLower(recs[0].h.typ.String()),
		}
		return doc, probs.err()
	}
	if haveExecArgs {
		ev.Process.Args = execArgs
	}

	doc := build(ev, recs, original)
	if e := probs.err(); e != nil {
		doc["error"] = map[string]any{"message": e.Error()}
		return doc, e
	}
	return doc, nil
}

// recordTypes lists the types of an event's records, lowercase, each once,
// in the order of the records (syscall, execve, cwd, path, proctitle).
// message_type names the first only; Sigma's auditd rules read each record
// alone (type: EXECVE with a0, type: PATH with name), so the pipeline maps
// their type to this list.
func recordTypes(recs []parsedRecord) []string {
	var out []string
	for _, r := range recs {
		if t := strings.ToLower(r.h.typ.String()); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func errorDoc(original string, err error) map[string]any {
	return map[string]any{
		"event": map[string]any{
			"kind":     "event",
			"module":   "auditd",
			"dataset":  "auditd.log",
			"original": original,
		},
		"error": map[string]any{"message": err.Error()},
	}
}

const unset = "unset"

func build(ev *aucoalesce.Event, recs []parsedRecord, original string) map[string]any {
	primary := recs[0]
	// Enriched interpretations of the subject: the SYSCALL record's, else
	// the first record's.
	subj := primary.rich
	for _, r := range recs {
		if r.h.typ == auparse.AUDIT_SYSCALL && r.rich != nil {
			subj = r.rich
			break
		}
	}

	event := map[string]any{
		"kind":     "event",
		"module":   "auditd",
		"dataset":  "auditd.log",
		"original": original,
	}
	if ev.Summary.Action != "" {
		event["action"] = ev.Summary.Action
	}
	outcome := ev.ECS.Event.Outcome
	if outcome == "" {
		switch ev.Result {
		case "success":
			outcome = "success"
		case "fail":
			outcome = "failure"
		}
	}
	if outcome != "" {
		event["outcome"] = outcome
	}
	doc := map[string]any{
		"@timestamp": ev.Timestamp.UTC(),
		"event":      event,
		"host":       map[string]any{"os": map[string]any{"type": "linux"}},
	}
	if primary.h.node != "" {
		doc["host"].(map[string]any)["name"] = primary.h.node
	}

	// process.*
	if p := buildProcess(ev); p != nil {
		doc["process"] = p
	}

	// user.* and group.*
	if u := buildUser(ev.User.IDs, subj); len(u) > 0 {
		doc["user"] = u
	}
	if g := entity(ev.User.IDs["gid"], subj["GID"]); g != nil {
		doc["group"] = g
	}

	// file.* and PATH records
	paths, file, pathType := buildPaths(ev, recs)
	isExec := ev.Data["syscall"] == "execve" || ev.Data["syscall"] == "execveat"
	if file != nil && !isExec {
		doc["file"] = file
	}

	category := slices.Clone(ev.ECS.Event.Category)
	typ := slices.Clone(ev.ECS.Event.Type)
	if slices.Contains(category, "file") && file != nil && !isExec {
		switch {
		case pathType == "CREATE":
			typ = []string{"creation"}
		case pathType == "DELETE" && len(typ) == 0:
			typ = []string{"deletion"}
		case (len(typ) == 0 || slices.Equal(typ, []string{"info"})) && opensForWrite(ev.Data):
			typ = []string{"change"}
		}
	}
	if len(category) > 0 {
		event["category"] = category
	}
	if len(typ) > 0 {
		event["type"] = typ
	}

	// source/destination for socket syscalls
	if a := address(ev.Source); a != nil {
		doc["source"] = a
	}
	if a := address(ev.Dest); a != nil {
		doc["destination"] = a
	}
	if ev.Net != nil {
		doc["network"] = map[string]any{"direction": ev.Net.Direction.String()}
	}

	if len(ev.Tags) > 0 {
		doc["tags"] = slices.Clone(ev.Tags)
	}

	// auditd.*
	au := map[string]any{
		"sequence":     int64(ev.Sequence),
		"message_type": strings.ToLower(ev.Type.String()),
		"record_types": recordTypes(recs),
	}
	if ev.Result != "" {
		au["result"] = ev.Result
	}
	if ev.Session != "" && ev.Session != unset {
		au["session"] = ev.Session
	}
	if s := summary(ev.Summary); len(s) > 0 {
		au["summary"] = s
	}
	data := make(map[string]any, len(ev.Data)+1)
	for k, v := range ev.Data {
		k = strings.ToLower(k)
		if strings.HasPrefix(k, "socket_") {
			sock, _ := data["socket"].(map[string]any)
			if sock == nil {
				sock = map[string]any{}
				data["socket"] = sock
			}
			sock[k[len("socket_"):]] = v
			continue
		}
		data[k] = v
	}
	if len(ev.Tags) > 0 {
		data["key"] = strings.Join(ev.Tags, ",")
	}
	if len(data) > 0 {
		au["data"] = data
	}
	if len(paths) > 0 {
		au["paths"] = paths
	}
	if len(subj) > 0 {
		en := make(map[string]any, len(subj))
		for k, v := range subj {
			en[strings.ToLower(k)] = v
		}
		au["enriched"] = en
	}
	if len(ev.Warnings) > 0 {
		ws := make([]string, 0, len(ev.Warnings))
		for _, w := range ev.Warnings {
			ws = append(ws, w.Error())
		}
		// go-libaudit gives the warnings of one record in map order: sorted,
		// the same record maps to the same document every time.
		slices.Sort(ws)
		au["warnings"] = ws
	}
	doc["auditd"] = au
	return doc
}

func buildProcess(ev *aucoalesce.Event) map[string]any {
	p := ev.Process
	if p.IsEmpty() {
		return nil
	}
	out := map[string]any{}
	if p.Exe != "" {
		out["executable"] = p.Exe
		out["name"] = path.Base(p.Exe)
	} else if p.Name != "" {
		out["name"] = p.Name
	}
	if len(p.Args) > 0 {
		out["args"] = slices.Clone(p.Args)
		out["args_count"] = int64(len(p.Args))
		out["command_line"] = strings.Join(p.Args, " ")
	}
	if p.Title != "" {
		out["title"] = p.Title
	}
	if pid, err := strconv.ParseInt(p.PID, 10, 64); err == nil {
		out["pid"] = pid
	}
	if ppid, err := strconv.ParseInt(p.PPID, 10, 64); err == nil {
		out["parent"] = map[string]any{"pid": ppid}
	}
	if p.CWD != "" {
		out["working_directory"] = p.CWD
	}
	return out
}

// entity builds {id, name}; "unset" ids and names are left out.
func entity(id, name string) map[string]any {
	m := map[string]any{}
	if id != "" && id != unset {
		m["id"] = id
	}
	if name != "" && name != unset {
		m["name"] = name
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func buildUser(ids map[string]string, rich map[string]string) map[string]any {
	u := map[string]any{}
	if e := entity(ids["uid"], rich["UID"]); e != nil {
		for k, v := range e {
			u[k] = v
		}
	}
	if e := entity(ids["euid"], rich["EUID"]); e != nil {
		u["effective"] = e
	}
	if e := entity(ids["auid"], rich["AUID"]); e != nil {
		u["audit"] = e
	}
	return u
}

// pathRank orders PATH records for file.path: the created file first, then a
// plain (written) file, then a deleted one, then the rest; parents last.
func pathRank(nametype string) int {
	switch nametype {
	case "CREATE":
		return 5
	case "NORMAL":
		return 4
	case "DELETE":
		return 3
	case "PARENT":
		return 1
	default:
		return 2
	}
}

func buildPaths(ev *aucoalesce.Event, recs []parsedRecord) (paths []any, file map[string]any, nametype string) {
	cwd := ev.Process.CWD
	bestRank := 0
	var best map[string]string
	var bestRich map[string]string
	for _, r := range recs {
		if r.h.typ != auparse.AUDIT_PATH {
			continue
		}
		data, err := r.msg.Data()
		if err != nil {
			continue
		}
		entry := make(map[string]any, len(data)+1)
		for k, v := range data {
			entry[k] = v
		}
		if len(r.rich) > 0 {
			en := make(map[string]any, len(r.rich))
			for k, v := range r.rich {
				en[strings.ToLower(k)] = v
			}
			entry["enriched"] = en
		}
		paths = append(paths, entry)
		if data["name"] == "" {
			continue
		}
		if rank := pathRank(data["nametype"]); rank >= bestRank {
			bestRank, best, bestRich = rank, data, r.rich
		}
	}
	if best == nil {
		return paths, nil, ""
	}
	name := best["name"]
	if !strings.HasPrefix(name, "/") && cwd != "" {
		name = path.Join(cwd, name)
	}
	file = map[string]any{"path": name}
	if b := path.Base(name); b != "/" && b != "." && !strings.HasSuffix(name, "/") {
		file["name"] = b
		if ext := path.Ext(b); len(ext) > 1 {
			file["extension"] = strings.ToLower(ext[1:])
		}
	}
	file["directory"] = path.Dir(strings.TrimSuffix(name, "/"))
	for k, dst := range map[string]string{"inode": "inode", "dev": "device", "mode": "mode", "ouid": "uid", "ogid": "gid"} {
		if v := best[k]; v != "" {
			file[dst] = v
		}
	}
	if v := bestRich["OUID"]; v != "" {
		file["owner"] = v
	}
	if v := bestRich["OGID"]; v != "" {
		file["group"] = v
	}
	return paths, file, best["nametype"]
}

// opensForWrite reports an open/openat/creat whose flags ask for writing.
func opensForWrite(data map[string]string) bool {
	var flags string
	switch data["syscall"] {
	case "open":
		flags = data["a1"]
	case "openat", "openat2":
		flags = data["a2"]
	case "creat":
		return true
	default:
		return false
	}
	f, err := strconv.ParseUint(flags, 16, 64)
	if err != nil {
		return false
	}
	const oWronly, oRdwr, oCreat, oTrunc, oAppend = 0o1, 0o2, 0o100, 0o1000, 0o2000
	return f&(oWronly|oRdwr|oCreat|oTrunc|oAppend) != 0
}

func address(a *aucoalesce.Address) map[string]any {
	if a == nil {
		return nil
	}
	m := map[string]any{}
	if a.Hostname != "" {
		m["domain"] = a.Hostname
	}
	if a.IP != "" {
		m["ip"] = a.IP
	}
	if p, err := strconv.ParseInt(a.Port, 10, 64); err == nil {
		m["port"] = p
	}
	if a.Path != "" {
		m["path"] = a.Path
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func summary(s aucoalesce.Summary) map[string]any {
	m := map[string]any{}
	actor := map[string]any{}
	if s.Actor.Primary != "" {
		actor["primary"] = s.Actor.Primary
	}
	if s.Actor.Secondary != "" {
		actor["secondary"] = s.Actor.Secondary
	}
	if len(actor) > 0 {
		m["actor"] = actor
	}
	obj := map[string]any{}
	if s.Object.Type != "" {
		obj["type"] = s.Object.Type
	}
	if s.Object.Primary != "" {
		obj["primary"] = s.Object.Primary
	}
	if s.Object.Secondary != "" {
		obj["secondary"] = s.Object.Secondary
	}
	if len(obj) > 0 {
		m["object"] = obj
	}
	if s.Action != "" {
		m["action"] = s.Action
	}
	if s.How != "" {
		m["how"] = s.How
	}
	return m
}

// execveArgs reads the arguments of an event's EXECVE records (their
// bodies, in order) itself, so that records auparse rejects (argc
// disagreeing with the a<N> present), arguments continued in the next record
// and long arguments split as a<N>_len=... a<N>[0]=... a<N>[1]=... still
// give args. Hex-encoded values (unquoted, even length, upper-case hex
// digits) are decoded; quoted values are kept as written, quotes removed.
func execveArgs(bodies []string) ([]string, error) {
	fields := make([]string, len(bodies))
	for i, b := range bodies {
		if j := strings.Index(b, "):"); j >= 0 { // the end of msg=audit(...):
			b = b[j+2:]
		}
		fields[i] = b
	}
	kv := scanKV(strings.Join(fields, " "))
	var args []string
	var problem error
	argc := -1
	if v, ok := kv["argc"]; ok {
		n, err := strconv.Atoi(v.val)
		if err != nil || n < 0 {
			problem = fmt.Errorf("argc=%q is not a count", v.val)
		} else {
			argc = n
		}
	}
	const maxArgs = 1 << 16
	for i := 0; i < maxArgs; i++ {
		key := "a" + strconv.Itoa(i)
		v, ok := kv[key]
		if !ok {
			// split argument: a<N>[0], a<N>[1], ... (each hex-encoded or
			// each quoted, as the whole argument needs)
			var sb strings.Builder
			quoted := true
			for k := 0; ; k++ {
				part, ok := kv[key+"["+strconv.Itoa(k)+"]"]
				if !ok {
					break
				}
				sb.WriteString(part.val)
				quoted = quoted && part.quoted
			}
			if sb.Len() == 0 {
				if _, hasLen := kv[key+"_len"]; !hasLen {
					break
				}
			}
			v = kvValue{val: sb.String(), quoted: quoted && sb.Len() > 0}
		}
		args = append(args, decodeArg(v))
	}
	if argc >= 0 && argc != len(args) && problem == nil {
		problem = fmt.Errorf("argc=%d but %d arguments (a0..a%d) present", argc, len(args), len(args)-1)
	}
	return args, problem
}

func decodeArg(v kvValue) string {
	if v.quoted {
		return v.val
	}
	if s := v.val; len(s) > 0 && len(s)%2 == 0 && isUpperHex(s) {
		if b, err := hex.DecodeString(s); err == nil {
			if i := strings.IndexByte(string(b), 0); i >= 0 {
				b = b[:i]
			}
			return string(b)
		}
	}
	return v.val
}

func isUpperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

type kvValue struct {
	val    string
	quoted bool
}

// scanKV splits key=value pairs separated by spaces; values may be "quoted"
// or 'quoted' (audit never escapes inside quotes; it hex-encodes instead).
func scanKV(s string) map[string]kvValue {
	out := map[string]kvValue{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexByte(s, ' ')
		if eq < 0 || (sp >= 0 && sp < eq) {
			if sp < 0 {
				return out
			}
			s = s[sp:]
			continue
		}
		key := s[:eq]
		s = s[eq+1:]
		var v kvValue
		if len(s) > 0 && (s[0] == '"' || s[0] == '\'') {
			q := s[0]
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				v, s = kvValue{val: s[1:], quoted: true}, ""
			} else {
				v, s = kvValue{val: s[1 : 1+end], quoted: true}, s[2+end:]
			}
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				v, s = kvValue{val: s}, ""
			} else {
				v, s = kvValue{val: s[:end]}, s[end:]
			}
		}
		out[key] = v
	}
}

// interpreted matches the fields that `ausearch -i` writes by name where the
// kernel writes numbers (arch=x86_64, syscall=execve).
var interpreted = regexp.MustCompile(`(?:^|\s)(?:arch|syscall)=[a-z_]`)

// interpretedHint says why a record of `ausearch -i` output does not parse:
// go-libaudit reads the kernel's raw form only.
func interpretedHint(body string) string {
	if !interpreted.MatchString(body) {
		return ""
	}
	return "; the record is interpreted (ausearch -i output: names where the kernel writes numbers), which is not read: give the raw audit.log, or ausearch --raw output"
}
