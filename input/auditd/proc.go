package auditd

// Process context that audit records lack, read from /proc while the
// process still exists: the parent's executable, name, command line and start
// time, and the ancestry. A forked web-server worker never calls execve, so
// /proc/<ppid> (or what was read from it earlier) is the only source of its
// name. Every process seen (in /proc at start, in an exec event, in a
// lookup) is kept in a bounded table so a parent that exited before its
// child's event was read is still known.

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's start time: 100 on
// every Linux architecture's user ABI.
const clockTicks = 100

// startSlack absorbs the rounding of boot time (whole seconds in /proc/stat).
const startSlack = 2 * time.Second

// procInfo is what is known about one process.
type procInfo struct {
	pid     int64
	ppid    int64
	exe     string
	name    string
	args    []string
	start   time.Time // zero when unknown
	fromExe bool      // image from an exec event rather than /proc
}

// procTable reads /proc (under root, "/proc" in production) and remembers.
type procTable struct {
	root     string
	bootTime time.Time
	max      int

	mu    sync.Mutex
	known map[int64]procInfo
}

func newProcTable(root string, max int) *procTable {
	t := &procTable{root: root, max: max, known: map[int64]procInfo{}}
	t.bootTime = readBootTime(filepath.Join(root, "stat"))
	return t
}

func readBootTime(statPath string) time.Time {
	b, err := os.ReadFile(statPath)
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(s, 0).UTC()
			}
		}
	}
	return time.Time{}
}

// snapshot reads every process in /proc into the table: the web-server
// processes already running when the beat starts are then known from the
// first event on, even if they exit before it.
func (t *procTable) snapshot() int {
	ents, err := os.ReadDir(t.root)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		if _, ok := t.read(pid); ok {
			n++
		}
	}
	return n
}

// read reads /proc/<pid> and stores the result.
func (t *procTable) read(pid int64) (procInfo, bool) {
	dir := filepath.Join(t.root, strconv.FormatInt(pid, 10))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return procInfo{}, false
	}
	p := procInfo{pid: pid}
	comm, ppid, startTicks, ok := parseStat(string(stat))
	if !ok {
		return procInfo{}, false
	}
	p.ppid = ppid
	if !t.bootTime.IsZero() {
		p.start = t.bootTime.Add(time.Duration(startTicks) * time.Second / clockTicks)
	}
	if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		p.exe = strings.TrimSuffix(exe, " (deleted)")
	}
	if cl, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		p.args = splitCmdline(cl)
	}
	switch {
	case p.exe != "":
		p.name = path.Base(p.exe)
	default:
		p.name = comm
	}
	t.put(p)
	return p, true
}

// parseStat reads comm, ppid and starttime (field 22) of /proc/<pid>/stat.
// comm is in parentheses and may hold spaces and parentheses itself.
func parseStat(s string) (comm string, ppid int64, start uint64, ok bool) {
	open := strings.IndexByte(s, '(')
	closeAt := strings.LastIndexByte(s, ')')
	if open < 0 || closeAt < open {
		return "", 0, 0, false
	}
	comm = s[open+1 : closeAt]
	fields := strings.Fields(s[closeAt+1:])
	// fields[0] is state (field 3), so field N is fields[N-3].
	if len(fields) < 20 {
		return "", 0, 0, false
	}
	pp, err1 := strconv.ParseInt(fields[1], 10, 64)
	st, err2 := strconv.ParseUint(fields[19], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return comm, pp, st, true
}

func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

func (t *procTable) put(p procInfo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.known[p.pid]; !ok && t.max > 0 && len(t.known) >= t.max {
		// Bounded: forget the oldest quarter (by start time; unknown first).
		t.evictLocked(t.max / 4)
	}
	t.known[p.pid] = p
}

func (t *procTable) evictLocked(n int) {
	type aged struct {
		pid   int64
		start time.Time
	}
	all := make([]aged, 0, len(t.known))
	for pid, p := range t.known {
		all = append(all, aged{pid, p.start})
	}
	// Partial selection is enough; sort is simple and rare.
	for i := 0; i < n && i < len(all); i++ {
		k := i
		for j := i + 1; j < len(all); j++ {
			if all[j].start.Before(all[k].start) {
				k = j
			}
		}
		all[i], all[k] = all[k], all[i]
		delete(t.known, all[i].pid)
	}
}

func (t *procTable) remembered(pid int64) (procInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.known[pid]
	return p, ok
}

// lookup returns what is known of pid as it was at time at: /proc when the
// process there started before at (so not a newer process that reused the
// pid), else what was remembered.
func (t *procTable) lookup(pid int64, at time.Time) (procInfo, bool) {
	if pid <= 0 {
		return procInfo{}, false
	}
	old, hadOld := t.remembered(pid)
	if p, ok := t.read(pid); ok {
		if at.IsZero() || p.start.IsZero() || !p.start.After(at.Add(startSlack)) {
			if hadOld && old.fromExe && p.exe == "" {
				// A zombie or an unreadable exe: keep the exec event's image.
				p.exe, p.name, p.fromExe = old.exe, old.name, true
				if len(p.args) == 0 {
					p.args = old.args
				}
				t.put(p)
			}
			return p, true
		}
		// pid reused by a newer process: the remembered one is the right one.
		if hadOld {
			t.put(old)
			return old, true
		}
		return procInfo{}, false
	}
	return old, hadOld
}

// observeExec remembers the image an exec event gave pid.
func (t *procTable) observeExec(pid, ppid int64, exe string, args []string, at time.Time) {
	if pid <= 0 {
		return
	}
	p := procInfo{pid: pid, ppid: ppid, exe: exe, args: args, fromExe: true}
	if exe != "" {
		p.name = path.Base(exe)
	}
	if old, ok := t.remembered(pid); ok && !old.start.IsZero() && !old.start.After(at.Add(startSlack)) {
		p.start = old.start // the same process: exec keeps the start time
	}
	t.put(p)
}

// enrich adds process.start, process.parent.{executable,name,command_line,
// args,start} and auditd.ancestry (parents up to maxDepth, nearest first)
// to a mapped document, for the fields the audit records left empty.
func (t *procTable) enrich(doc map[string]any) {
	proc, _ := doc["process"].(map[string]any)
	if proc == nil {
		return
	}
	at, _ := doc["@timestamp"].(time.Time)
	pid := toInt64(proc["pid"])
	parent, _ := proc["parent"].(map[string]any)
	ppid := toInt64(parent["pid"])

	// The event's own process: its image comes from the records; /proc adds
	// the start time. Remember the image for its children's events.
	exe, _ := proc["executable"].(string)
	var args []string
	if a, ok := proc["args"].([]string); ok {
		args = a
	}
	if action := lookupString(doc, "event", "action"); exe != "" && (action == "executed" || isExecSyscall(doc)) {
		t.observeExec(pid, ppid, exe, args, at)
	}
	if self, ok := t.lookup(pid, at); ok && !self.start.IsZero() {
		if _, has := proc["start"]; !has {
			proc["start"] = self.start
		}
	}

	if ppid <= 0 {
		return
	}
	if parent == nil {
		parent = map[string]any{"pid": ppid}
		proc["parent"] = parent
	}
	pp, ok := t.lookup(ppid, at)
	if !ok {
		return
	}
	fillProcess(parent, pp)

	var ancestry []any
	seen := map[int64]bool{pid: true}
	cur := pp
	for depth := 0; depth < maxDepth && cur.pid > 0 && !seen[cur.pid]; depth++ {
		seen[cur.pid] = true
		a := map[string]any{"pid": cur.pid}
		if cur.name != "" {
			a["name"] = cur.name
		}
		if cur.exe != "" {
			a["executable"] = cur.exe
		}
		ancestry = append(ancestry, a)
		if cur.ppid <= 0 {
			break
		}
		next, ok := t.lookup(cur.ppid, at)
		if !ok {
			break
		}
		cur = next
	}
	if len(ancestry) > 0 {
		au, _ := doc["auditd"].(map[string]any)
		if au == nil {
			au = map[string]any{}
			doc["auditd"] = au
		}
		au["ancestry"] = ancestry
	}
}

const maxDepth = 8

func fillProcess(m map[string]any, p procInfo) {
	setIfEmpty := func(k string, v any) {
		if _, has := m[k]; !has {
			m[k] = v
		}
	}
	if p.exe != "" {
		setIfEmpty("executable", p.exe)
	}
	if p.name != "" {
		setIfEmpty("name", p.name)
	}
	if len(p.args) > 0 {
		setIfEmpty("args", p.args)
		setIfEmpty("command_line", strings.Join(p.args, " "))
	}
	if !p.start.IsZero() {
		setIfEmpty("start", p.start)
	}
	if p.ppid > 0 {
		setIfEmpty("parent", map[string]any{"pid": p.ppid})
	}
}

func isExecSyscall(doc map[string]any) bool {
	au, _ := doc["auditd"].(map[string]any)
	data, _ := au["data"].(map[string]any)
	s, _ := data["syscall"].(string)
	return s == "execve" || s == "execveat"
}

func lookupString(doc map[string]any, keys ...string) string {
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}

// --- user and group names -------------------------------------------------

// idNames resolves ids from passwd and group files (re-read at most every
// minute when an id is unknown, so users added later are found).
type idNames struct {
	passwd, groupFile string

	mu       sync.Mutex
	users    map[string]string
	groups   map[string]string
	loadedAt time.Time
}

func newIDNames(passwd, group string) *idNames {
	n := &idNames{passwd: passwd, groupFile: group}
	n.load()
	return n
}

func (n *idNames) load() {
	n.users = readIDFile(n.passwd)
	n.groups = readIDFile(n.groupFile)
	n.loadedAt = time.Now()
}

// readIDFile maps field 3 (the id) to field 1 (the name) of passwd/group.
func readIDFile(p string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(p)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) < 3 || strings.HasPrefix(parts[0], "#") {
			continue
		}
		if _, dup := out[parts[2]]; !dup {
			out[parts[2]] = parts[0]
		}
	}
	return out
}

func (n *idNames) resolve(m func() map[string]string, id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if v, ok := m()[id]; ok {
		return v
	}
	if time.Since(n.loadedAt) > time.Minute {
		n.load()
		return m()[id]
	}
	return ""
}

func (n *idNames) user(id string) string {
	return n.resolve(func() map[string]string { return n.users }, id)
}

func (n *idNames) group(id string) string {
	return n.resolve(func() map[string]string { return n.groups }, id)
}
