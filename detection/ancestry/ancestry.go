// Package ancestry keeps a process table per host, fed by every process
// event, so that an event can be told its ancestry: the chain of processes
// from its parent up to the web server it descends from, at any depth
// (w3wp.exe -> cmd.exe -> net.exe -> net1.exe; apache2 -> sh -> sh -> curl).
//
// Processes are keyed by Sysmon's ProcessGuid where the source has one, else
// by pid and start time, so a reused pid is a new process. The table is
// bounded (a maximum of processes per host, a maximum of hosts, an idle
// expiry) and all its times are event times, never the wall clock, so a
// replay gives the same answers as the live run. It is safe for concurrent
// use: each host has its own lock.
//
// The package does not import libbeat; it knows nothing of documents either
// (the detector maps ECS fields to Process).
package ancestry

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"webshellbeat/detection"
)

// Process is what the table knows about one process.
type Process struct {
	EntityID       string    // Sysmon ProcessGuid; empty when the source has none
	PID            int       // 0 when unknown
	PPID           int       // parent pid, 0 when unknown
	ParentEntityID string    // Sysmon ParentProcessGuid
	Start          time.Time // process start (event time); zero when unknown
	Executable     string
	Name           string
	CommandLine    string
	User           string
	// Cwd is the working directory the process started in: for a shell a
	// PHP page started, the page's folder (see the detector's sessions).
	Cwd string
	// WebServer says the process matched the web-server list (set by the table).
	WebServer bool
	// Inferred says the table never saw the process: it was inferred from a
	// child (an unknown parent of a process run by a web-server account).
	Inferred bool
}

// ID returns the process's entity id: the ProcessGuid, or a synthetic
// "pid-<pid>-<start unix ms>" for sources without one.
func (p Process) ID() string {
	if p.EntityID != "" {
		return p.EntityID
	}
	ms := int64(0)
	if !p.Start.IsZero() {
		ms = p.Start.UnixMilli()
	}
	return "pid-" + strconv.Itoa(p.PID) + "-" + strconv.FormatInt(ms, 10)
}

// Kind says what an observation is.
type Kind uint8

const (
	// Start is a process creation (Sysmon 1, 4688, auditd execve). An execve
	// by a pid the table knows with the same parent is an exec in the same
	// process: its image is updated, its identity kept.
	Start Kind = iota
	// Seen is any other event of a process (a file write, a connection): it
	// teaches the table the process exists and fills what it lacked.
	Seen
	// Exit is a process end (Sysmon 5).
	Exit
)

// WebServer is one entry of the web-server list: a process whose name (or
// executable base name) matches Name, a glob ("php-fpm*"), case-insensitive,
// and, when CommandLine is not empty, whose command line contains one of
// its words ("java" with "catalina").
type WebServer struct {
	Name        string   `config:"name" json:"name"`
	CommandLine []string `config:"command_line" json:"command_line,omitempty"`
}

// javaServers are the command-line words of a Java process that is a web
// server: Tomcat, the Java EE servers, Jetty, and ColdFusion (whose Linux
// server is java with -Dcoldfusion.home; on Windows it is coldfusion.exe,
// or jrun.exe before ColdFusion 10).
func javaServers() []string {
	return []string{"catalina", "tomcat", "jboss", "wildfly", "jetty", "weblogic", "websphere", "coldfusion"}
}

// nodeServers are the command-line words of a Node.js process that is a web
// server (a framework's server or start script).
func nodeServers() []string {
	return []string{"next", "nuxt", "server", "express", "react-scripts", "npm-cli.js start"}
}

// DefaultWebServers is the built-in web-server list.
func DefaultWebServers() []WebServer {
	return []WebServer{
		{Name: "w3wp.exe"}, {Name: "umworkerprocess.exe"}, {Name: "httpd"}, {Name: "httpd.exe"},
		{Name: "apache"}, {Name: "apache2"}, {Name: "apache.exe"}, {Name: "nginx"}, {Name: "nginx.exe"},
		{Name: "lighttpd"}, {Name: "caddy"}, {Name: "caddy.exe"}, {Name: "frankenphp"}, {Name: "php-fpm*"}, {Name: "php-cgi*"},
		{Name: "php*-cgi*"}, {Name: "tomcat*"}, {Name: "coldfusion.exe"}, {Name: "jrun.exe"}, {Name: "uwsgi"}, {Name: "gunicorn"}, {Name: "uvicorn"}, {Name: "puma"},
		{Name: "java", CommandLine: javaServers()},
		{Name: "java.exe", CommandLine: javaServers()},
		{Name: "node", CommandLine: nodeServers()},
		{Name: "node.exe", CommandLine: nodeServers()},
	}
}

// DefaultWebAccounts are the accounts web servers run as on Linux.
func DefaultWebAccounts() []string {
	return []string{"www-data", "apache", "nginx", "httpd", "wwwrun", "lighttpd", "tomcat", "33", "48"}
}

// Options bound and tune a Table. Zero fields take the defaults.
type Options struct {
	MaxProcesses   int           // per host; default 100000
	MaxHosts       int           // default 1024
	IdleTimeout    time.Duration // forget a process not seen for this long (event time); default 24h
	ExitLinger     time.Duration // keep an exited process this long for late children; default 5m
	MaxCommandLine int           // bytes of command line kept; default 1024
	MaxDepth       int           // ancestry walk limit; default 32
	WebServers     []WebServer   // default DefaultWebServers()
	// WebAccounts: a process run by one of these users whose parent the
	// table does not know gets an inferred web-server parent (Linux: a
	// forked apache2/php-fpm worker never execs, so audit shows only its
	// pid). Empty disables the inference.
	WebAccounts []string
}

func (o Options) withDefaults() Options {
	if o.MaxProcesses <= 0 {
		o.MaxProcesses = 100000
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = 1024
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 24 * time.Hour
	}
	if o.ExitLinger <= 0 {
		o.ExitLinger = 5 * time.Minute
	}
	if o.MaxCommandLine <= 0 {
		o.MaxCommandLine = 1024
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	if o.WebServers == nil {
		o.WebServers = DefaultWebServers()
	}
	return o
}

// Stats are the table's counters.
type Stats struct {
	Processes int   // in the table now, all hosts
	Hosts     int   // hosts in the table
	Evicted   int64 // processes dropped because a host's table was full
	Expired   int64 // processes dropped after IdleTimeout or ExitLinger
	HostsDrop int64 // hosts dropped because MaxHosts was reached
	Inferred  int64 // parents inferred for web-server accounts
	Lookups   int64 // parents looked up through the lookup hook
}

// Add adds o to s, for a sum over several tables.
func (s *Stats) Add(o Stats) {
	s.Processes += o.Processes
	s.Hosts += o.Hosts
	s.Evicted += o.Evicted
	s.Expired += o.Expired
	s.HostsDrop += o.HostsDrop
	s.Inferred += o.Inferred
	s.Lookups += o.Lookups
}

// Table is the process table of every host.
type Table struct {
	opt      Options
	accounts map[string]bool
	mu       sync.Mutex // guards hosts
	hosts    map[string]*hostTable
	lookup   atomic.Pointer[func(pid int) (Process, bool)]

	evicted, expired, hostsDrop, inferred, lookups atomic.Int64
}

// New returns an empty table.
func New(opt Options) *Table {
	opt = opt.withDefaults()
	t := &Table{opt: opt, hosts: map[string]*hostTable{}, accounts: map[string]bool{}}
	for _, a := range opt.WebAccounts {
		t.accounts[strings.ToLower(a)] = true
	}
	return t
}

// SetLookup installs the hook the live Linux input provides: a parent pid the
// table does not know is looked up with it (in /proc) before any inference.
// It applies to the host named "" or to the host the local events carry;
// fn must be safe for concurrent use. nil removes it.
func (t *Table) SetLookup(fn func(pid int) (Process, bool)) {
	if fn == nil {
		t.lookup.Store(nil)
		return
	}
	t.lookup.Store(&fn)
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	hosts := make([]*hostTable, 0, len(t.hosts))
	for _, h := range t.hosts {
		hosts = append(hosts, h)
	}
	t.mu.Unlock()
	s := Stats{Hosts: len(hosts), Evicted: t.evicted.Load(), Expired: t.expired.Load(),
		HostsDrop: t.hostsDrop.Load(), Inferred: t.inferred.Load(), Lookups: t.lookups.Load()}
	for _, h := range hosts {
		h.mu.Lock()
		s.Processes += len(h.byID)
		h.mu.Unlock()
	}
	return s
}

// flags of an entry.
const (
	fGUID       uint8 = 1 << iota // id is a parsed ProcessGuid
	fHashedID                     // id is a hash of an entity id that is not a GUID
	fParent                       // parent holds the parent's id
	fWeb                          // matches the web-server list
	fInferred                     // never seen, inferred from a child
	fExited                       // an exit was seen
	fStartKnown                   // start is a real start time
)

// entry is one process, kept small: about 130 bytes plus the command line
// (executables, names and users are interned).
type entry struct {
	id, parent  [16]byte
	start, last int64 // unix nanoseconds, event time
	pid, ppid   int32
	exe, name   string
	cmd, user   string
	cwd         string
	flags       uint8
}

type hostTable struct {
	mu      sync.Mutex
	entries []entry
	free    []int32
	byID    map[[16]byte]int32
	byPID   map[int32]int32 // the newest process with that pid
	intern  map[string]string
	now     int64 // newest event time seen on this host
	swept   int64 // event time of the last expiry sweep
	touched int64 // for dropping the least recently used host
}

const maxInterned = 1 << 16

func (t *Table) host(name string, now int64) *hostTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[name]
	if h == nil {
		if len(t.hosts) >= t.opt.MaxHosts {
			var oldest string
			first := true
			for n, ht := range t.hosts {
				if first || ht.touched < t.hosts[oldest].touched {
					oldest, first = n, false
				}
			}
			delete(t.hosts, oldest)
			t.hostsDrop.Add(1)
		}
		h = &hostTable{byID: map[[16]byte]int32{}, byPID: map[int32]int32{}, intern: map[string]string{}}
		t.hosts[name] = h
	}
	if now > h.touched {
		h.touched = now
	}
	return h
}

// Observe feeds one process event to the table and returns what the table
// knows of the process's lineage after it. parent holds what the event
// itself says of the parent (Sysmon's ParentImage and ParentCommandLine,
// 4688's ParentProcessName); its PID and EntityID default to p's PPID and
// ParentEntityID. Observe is the only write path.
func (t *Table) Observe(host string, p, parent Process, kind Kind, at time.Time) Lineage {
	now := at.UnixNano()
	if parent.PID == 0 {
		parent.PID = p.PPID
	}
	if parent.EntityID == "" {
		parent.EntityID = p.ParentEntityID
	}
	if p.PPID == 0 {
		p.PPID = parent.PID
	}
	if p.ParentEntityID == "" {
		p.ParentEntityID = parent.EntityID
	}
	h := t.host(host, now)
	var hook func(int) (Process, bool)
	if f := t.lookup.Load(); f != nil {
		hook = *f
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if now > h.now {
		h.now = now
	}
	t.maybeSweep(h)
	// The parent first, so that the child can point at it.
	if kind != Exit && (parent.EntityID != "" || parent.PID > 0) {
		t.ensureParent(h, p, parent, now, hook)
	}
	i := t.upsert(h, p, kind, now)
	return t.lineage(h, i)
}

// Lookup returns the lineage of a process without changing the table.
func (t *Table) Lookup(host string, p Process) (Lineage, bool) {
	t.mu.Lock()
	h := t.hosts[host]
	t.mu.Unlock()
	if h == nil {
		return Lineage{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.find(p)
	if !ok {
		return Lineage{}, false
	}
	return t.lineage(h, i), true
}

// idOf returns the table key of a process: its parsed GUID, or pid and start.
func idOf(entityID string, pid int32, start int64) ([16]byte, uint8) {
	var id [16]byte
	if entityID != "" {
		s := strings.Trim(entityID, "{}")
		s = strings.ReplaceAll(s, "-", "")
		if len(s) == 32 {
			if _, err := hex.Decode(id[:], []byte(s)); err == nil {
				return id, fGUID
			}
		}
		h := fnv.New128a()
		h.Write([]byte(entityID))
		h.Sum(id[:0])
		return id, fHashedID
	}
	binary.BigEndian.PutUint64(id[0:8], uint64(start))
	binary.BigEndian.PutUint32(id[8:12], uint32(pid))
	binary.BigEndian.PutUint32(id[12:16], 0x9e3779b9) // marks a pid key
	return id, 0
}

// find returns the entry of p: by entity id, else the newest process with
// its pid that started no later than p (pid reuse).
func (h *hostTable) find(p Process) (int32, bool) {
	if p.EntityID != "" {
		id, _ := idOf(p.EntityID, 0, 0)
		i, ok := h.byID[id]
		return i, ok
	}
	if p.PID <= 0 {
		return 0, false
	}
	i, ok := h.byPID[int32(p.PID)]
	if !ok {
		return 0, false
	}
	e := &h.entries[i]
	if !p.Start.IsZero() && e.flags&fStartKnown != 0 && e.start > p.Start.UnixNano() {
		return 0, false // a newer process reuses the pid
	}
	return i, true
}

func (t *Table) ensureParent(h *hostTable, child, par Process, now int64, hook func(int) (Process, bool)) {
	par.Start = time.Time{}
	par.PPID, par.ParentEntityID = 0, ""
	known := par.Executable != "" || par.Name != "" || par.CommandLine != ""
	if i, ok := h.find(par); ok {
		e := &h.entries[i]
		// Pid reuse: the process that holds the pid now started after
		// the child, so it cannot be its parent.
		if par.EntityID == "" && e.flags&fStartKnown != 0 && !child.Start.IsZero() && e.start > child.Start.UnixNano() {
			delete(h.byPID, e.pid)
		} else {
			if known {
				t.upsert(h, par, Seen, now) // fill what the table lacked
			} else if e.last < now {
				e.last = now
			}
			return
		}
	}
	if known {
		t.upsert(h, par, Seen, now)
		return
	}
	if par.PID > 0 && hook != nil {
		if lp, ok := hook(par.PID); ok {
			// The worker and the unknown ancestors above it (its master).
			for depth := 0; ok && depth < t.opt.MaxDepth; depth++ {
				t.lookups.Add(1)
				t.upsert(h, lp, Seen, now)
				if lp.PPID <= 1 {
					break
				}
				if _, known := h.find(Process{PID: lp.PPID}); known {
					break
				}
				lp, ok = hook(lp.PPID)
			}
			return
		}
	}
	if par.EntityID != "" || len(t.accounts) == 0 || par.PID <= 1 || !t.accounts[strings.ToLower(child.User)] {
		return
	}
	// A process of a web-server account whose parent is unknown: the
	// parent is taken for a web-server worker (forked, never exec'd).
	t.inferred.Add(1)
	i := t.upsert(h, Process{PID: par.PID}, Seen, now)
	h.entries[i].flags |= fInferred | fWeb
}

// webName says whether a process is a web server, and for one run by its
// interpreter (gunicorn, puma), the script's name to show it by; "" keeps
// the process's own.
func (t *Table) webName(name, exe, cmd string) (string, bool) {
	n := strings.ToLower(name)
	if n == "" {
		n = strings.ToLower(baseName(exe))
	}
	if n == "" {
		return "", false
	}
	b := strings.ToLower(baseName(exe))
	scripts := scriptNames(n, cmd)
	for _, w := range t.opt.WebServers {
		pat := strings.ToLower(w.Name)
		ok, _ := path.Match(pat, n)
		if !ok && b != "" && b != n {
			ok, _ = path.Match(pat, b)
		}
		script := ""
		for _, s := range scripts {
			if !ok && s != "" {
				if ok, _ = path.Match(pat, s); ok {
					script = s
				}
			}
		}
		if !ok {
			continue
		}
		if len(w.CommandLine) == 0 {
			return script, true
		}
		lc := strings.ToLower(cmd)
		for _, word := range w.CommandLine {
			if strings.Contains(lc, strings.ToLower(word)) {
				return script, true
			}
		}
	}
	return "", false
}

// scriptNames are the names a process run by a Python, Ruby or Perl
// interpreter goes by. A script server runs as its interpreter (exe
// python3.11, ruby3.1), so its name is the interpreter's; its command line
// names the script ("/usr/bin/python3 /usr/bin/gunicorn app:app", "python3
// -m uvicorn main:app") or was rewritten by it ("puma 5.6.5 (tcp://...)",
// "puma: cluster worker 0: 812"), and its comm, which ps shows, is the
// script's. Checked on Debian 12's gunicorn and puma.
func scriptNames(name, cmd string) [2]string {
	var out [2]string
	if !strings.HasPrefix(name, "python") && !strings.HasPrefix(name, "ruby") && !strings.HasPrefix(name, "perl") {
		return out
	}
	rest := strings.TrimLeft(cmd, " ")
	first, rest, _ := strings.Cut(rest, " ")
	out[0] = strings.ToLower(strings.TrimSuffix(baseName(first), ":"))
	for tok := range strings.FieldsSeq(rest) {
		if tok == "-m" {
			continue // the next word is the module: python3 -m uvicorn
		}
		if !strings.HasPrefix(tok, "-") {
			out[1] = strings.ToLower(baseName(tok))
			break
		}
	}
	return out
}

func baseName(exe string) string {
	if i := strings.LastIndexAny(exe, `/\`); i >= 0 {
		return exe[i+1:]
	}
	return exe
}

func (h *hostTable) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := h.intern[s]; ok {
		return v
	}
	c := strings.Clone(s)
	if len(h.intern) < maxInterned {
		h.intern[c] = c
	}
	return c
}

func (t *Table) clip(s string) string {
	return strings.Clone(detection.Truncate(s, t.opt.MaxCommandLine))
}

// upsert adds or updates the entry of p and returns its index.
func (t *Table) upsert(h *hostTable, p Process, kind Kind, now int64) int32 {
	start := int64(0)
	if !p.Start.IsZero() {
		start = p.Start.UnixNano()
	} else if kind == Start {
		start = now
	}
	i, ok := h.find(p)
	if ok && p.EntityID == "" && kind == Start {
		e := &h.entries[i]
		// An execve by a known pid: the same process when the parent
		// agrees (fork then exec, or exec of exec), else the pid was reused.
		samePPID := p.PPID == 0 || e.ppid == 0 || int32(p.PPID) == e.ppid
		if !samePPID {
			ok = false
		} else if e.flags&fGUID != 0 && e.flags&fStartKnown != 0 && abs(e.start-start) > int64(2*time.Second) {
			ok = false // a 4688 of a later process with a pid Sysmon used before
		}
	}
	if !ok {
		if kind == Exit {
			return -1
		}
		id, f := idOf(p.EntityID, int32(p.PID), start)
		if j, dup := h.byID[id]; dup { // the same pid and start twice
			i, ok = j, true
		} else {
			if len(h.byID) >= t.opt.MaxProcesses {
				t.evict(h)
			}
			e := entry{id: id, start: start, last: now, pid: int32(p.PID), flags: f}
			if kind == Start || !p.Start.IsZero() {
				e.flags |= fStartKnown
			}
			if n := len(h.free); n > 0 {
				i = h.free[n-1]
				h.free = h.free[:n-1]
				h.entries[i] = e
			} else {
				i = int32(len(h.entries))
				h.entries = append(h.entries, e)
			}
			h.byID[id] = i
			if p.PID > 0 {
				if j, had := h.byPID[int32(p.PID)]; !had || h.entries[j].start <= start || h.entries[j].flags&fStartKnown == 0 {
					h.byPID[int32(p.PID)] = i
				}
			}
		}
	}
	if i < 0 {
		return i
	}
	e := &h.entries[i]
	if now > e.last {
		e.last = now
	}
	if kind == Exit {
		e.flags |= fExited
		return i
	}
	if p.PPID > 0 && e.ppid == 0 {
		e.ppid = int32(p.PPID)
	}
	if p.ParentEntityID != "" && e.flags&fParent == 0 {
		e.parent, _ = idOf(p.ParentEntityID, 0, 0)
		e.flags |= fParent
	} else if e.flags&fParent == 0 && e.ppid > 0 {
		// Resolve the parent now, while the pid still names it.
		if j, ok := h.byPID[e.ppid]; ok && j != i {
			pe := &h.entries[j]
			if pe.flags&fStartKnown == 0 || e.flags&fStartKnown == 0 || pe.start <= e.start {
				e.parent = pe.id
				e.flags |= fParent
			}
		}
	}
	// A Start replaces the image (exec); a sighting only fills blanks.
	replace := kind == Start
	if p.Executable != "" && (replace || e.exe == "") {
		e.exe = h.str(p.Executable)
	}
	if p.Name != "" && (replace || e.name == "") {
		e.name = h.str(p.Name)
	} else if p.Executable != "" && (replace || e.name == "") {
		e.name = h.str(baseName(p.Executable))
	}
	if p.CommandLine != "" && (replace || e.cmd == "") {
		e.cmd = t.clip(p.CommandLine)
	}
	if p.User != "" && (replace || e.user == "") {
		e.user = h.str(p.User)
	}
	if p.Cwd != "" && (replace || e.cwd == "") {
		e.cwd = h.str(p.Cwd)
	}
	if e.exe != "" || e.name != "" {
		e.flags &^= fInferred | fWeb
		if script, ok := t.webName(e.name, e.exe, e.cmd); ok {
			e.flags |= fWeb
			if script != "" {
				e.name = h.str(script) // gunicorn, not python3.11
			}
		}
	}
	return i
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (h *hostTable) remove(i int32) {
	e := &h.entries[i]
	delete(h.byID, e.id)
	if j, ok := h.byPID[e.pid]; ok && j == i {
		delete(h.byPID, e.pid)
	}
	h.entries[i] = entry{}
	h.free = append(h.free, i)
}

// maybeSweep expires idle and exited processes, at most every tenth of
// the idle timeout (event time).
func (t *Table) maybeSweep(h *hostTable) {
	step := int64(t.opt.ExitLinger)
	if step > int64(t.opt.IdleTimeout)/10 {
		step = int64(t.opt.IdleTimeout) / 10
	}
	if h.now-h.swept < step {
		return
	}
	h.swept = h.now
	t.expire(h)
}

func (t *Table) expire(h *hostTable) {
	idle, linger := int64(t.opt.IdleTimeout), int64(t.opt.ExitLinger)
	for _, i := range h.byID {
		e := &h.entries[i]
		age := h.now - e.last
		if age > idle || (e.flags&fExited != 0 && age > linger) {
			h.remove(i)
			t.expired.Add(1)
		}
	}
}

// evict makes room in a full host table: the expired first, then about a
// tenth of the table, least recently seen first, web servers last.
func (t *Table) evict(h *hostTable) {
	t.expire(h)
	if len(h.byID) < t.opt.MaxProcesses {
		return
	}
	// Estimate the 10th percentile of last-seen times from a sample.
	sample := make([]int64, 0, 256)
	for _, i := range h.byID {
		if h.entries[i].flags&fWeb == 0 {
			sample = append(sample, h.entries[i].last)
			if len(sample) == cap(sample) {
				break
			}
		}
	}
	cut := int64(1<<63 - 1)
	if len(sample) > 0 {
		slices.Sort(sample)
		cut = sample[len(sample)/10]
	}
	target := len(h.byID) - t.opt.MaxProcesses + 1 + t.opt.MaxProcesses/10
	n := 0
	// Pass 0: old non-web processes; 1: any non-web; 2: anything.
	for pass := 0; pass < 3 && n < target; pass++ {
		for _, i := range h.byID {
			if n >= target {
				break
			}
			e := &h.entries[i]
			web := e.flags&fWeb != 0
			if (pass < 2 && web) || (pass == 0 && e.last > cut) {
				continue
			}
			h.remove(i)
			t.evicted.Add(1)
			n++
		}
	}
}

// Lineage is what the table knows of a process's family.
type Lineage struct {
	Self      Process
	Parent    Process // zero when unknown
	HasParent bool
	// Chain lists the ancestors from the parent up to the root web server,
	// when the process descends from one; empty otherwise.
	Chain []Process
	// Root is the topmost web server of an unbroken run of web-server
	// processes above the process (the apache2 master above its worker).
	Root Process
	// Web says the process descends from a web server at some depth.
	Web bool
}

func (t *Table) proc(h *hostTable, i int32) Process {
	e := &h.entries[i]
	p := Process{PID: int(e.pid), PPID: int(e.ppid), Executable: e.exe, Name: e.name,
		CommandLine: e.cmd, User: e.user, Cwd: e.cwd, WebServer: e.flags&fWeb != 0, Inferred: e.flags&fInferred != 0}
	if e.flags&fStartKnown != 0 {
		p.Start = time.Unix(0, e.start).UTC()
	}
	switch {
	case e.flags&fGUID != 0:
		p.EntityID = guidString(e.id)
	case e.flags&fHashedID != 0:
		p.EntityID = hex.EncodeToString(e.id[:])
	}
	if e.flags&fParent != 0 {
		if j, ok := h.byID[e.parent]; ok && h.entries[j].flags&fGUID != 0 {
			p.ParentEntityID = guidString(e.parent)
		}
	}
	return p
}

func guidString(id [16]byte) string {
	s := strings.ToUpper(hex.EncodeToString(id[:]))
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

func (h *hostTable) parentOf(i int32) (int32, bool) {
	e := &h.entries[i]
	if e.flags&fParent != 0 {
		if j, ok := h.byID[e.parent]; ok && j != i {
			return j, true
		}
		if e.flags&(fGUID|fHashedID) != 0 {
			return 0, false
		}
	}
	if e.ppid <= 0 {
		return 0, false
	}
	j, ok := h.byPID[e.ppid]
	if !ok || j == i {
		return 0, false
	}
	pe := &h.entries[j]
	if pe.flags&fStartKnown != 0 && e.flags&fStartKnown != 0 && pe.start > e.start {
		return 0, false
	}
	return j, true
}

func (t *Table) lineage(h *hostTable, i int32) Lineage {
	if i < 0 {
		return Lineage{}
	}
	l := Lineage{Self: t.proc(h, i)}
	j, ok := h.parentOf(i)
	if !ok {
		return l
	}
	l.Parent, l.HasParent = t.proc(h, j), true
	// Walk up to the first web server, then on through the run of web
	// servers above it (workers under their master).
	var chain []int32
	found := -1
	for cur := j; len(chain) < t.opt.MaxDepth; {
		if cur == i || slices.Contains(chain, cur) {
			break // a cycle (pid reuse in stale entries)
		}
		isWeb := h.entries[cur].flags&fWeb != 0
		if found >= 0 && !isWeb {
			break
		}
		chain = append(chain, cur)
		if isWeb {
			found = len(chain) - 1
		}
		next, ok := h.parentOf(cur)
		if !ok {
			break
		}
		cur = next
	}
	if found < 0 {
		return l
	}
	l.Web = true
	// Refresh the whole chain: the web server stays while it has children.
	for _, c := range chain {
		if h.entries[c].last < h.now {
			h.entries[c].last = h.now
		}
	}
	l.Chain = make([]Process, 0, found+1)
	for _, c := range chain[:found+1] {
		l.Chain = append(l.Chain, t.proc(h, c))
	}
	// chain[found] is the topmost web server of the run (the walk stopped
	// at the first non-web ancestor after it, or at the top).
	l.Root = l.Chain[len(l.Chain)-1]
	return l
}
