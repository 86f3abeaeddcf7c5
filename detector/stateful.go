package detector

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/ancestry"
	"webshellbeat/detection/correlate"
	"webshellbeat/detection/session"
)

// Derived is a document the detector makes beside the one it was given: a
// correlation alert (upload then execute), an updated copy of an earlier
// document that a later event linked (webshell.update_of names it), or a
// session summary. It goes to the data stream its Verdict says.
type Derived struct {
	Doc     map[string]any
	Verdict Verdict
}

// state is the detector's memory across events: the process table, the
// correlation windows, sessions and tuning. Each part is safe for
// concurrent use; held guards the document copies kept for updates.
type state struct {
	table    *ancestry.Table
	corr     *correlate.Correlator
	sessions *session.Tracker
	baseline *session.Baseline
	dups     *session.Duplicates
	bursts   *session.Bursts
	cfg      config.Detection
	exts     map[string]bool

	refs       atomic.Int64
	heldMu     sync.Mutex
	held       map[int64]*heldDoc
	heldBy     map[string]*heldHost // by host name, for the bounds
	heldTick   int64
	maxPending int // per host and kind, as the correlator bounds what it holds
	// unchanged: the caller changes no document after the detector is done
	// with it (AssumeUnchanged), so held documents need no copy.
	unchanged bool
}

// heldHost is the refs held for one host, oldest first, its requests and
// its processes apart, and when the host last held one (heldTick).
type heldHost struct {
	reqs, procs, quiet []int64
	touched            int64
}

// heldKind is what a held document is, for the bound it counts against.
type heldKind int

const (
	heldRequest heldKind = iota
	heldAlert            // a process that raised an alert
	heldQuiet            // a process under a web server that raised none, held without its document
)

// maxHeldHosts bounds the hosts whose documents are held, as the
// correlator bounds its hosts (correlate.Options.MaxHosts' default).
const maxHeldHosts = 1024

type heldDoc struct {
	doc     map[string]any
	verdict Verdict
	id      string
	shell   ancestry.Process
	procs   []ancestry.Process // for a request: the shells linked to it
}

// Rule ids of the detector's own correlation alerts (not Sigma rules).
const (
	ruleUploadExecute = "2f6c1a4e-8d3b-4f7a-9c2e-5b1d0e7a3c91"
	ruleSessionSum    = "7a9e3c2d-1b4f-4e6a-8d5c-0f2b9e1a6d43"
)

func newState(cfg config.Detection) (*state, error) {
	s := &state{cfg: cfg, exts: map[string]bool{}, held: map[int64]*heldDoc{}, heldBy: map[string]*heldHost{},
		maxPending: cfg.Correlation.MaxPending,
		dups:       session.NewDuplicates(0), bursts: session.NewBursts(0)}
	for _, e := range cfg.Correlation.ScriptExtensions {
		s.exts[strings.ToLower(e)] = true
	}
	if cfg.Ancestry.Enabled {
		s.table = ancestry.New(ancestry.Options{
			MaxProcesses: cfg.Ancestry.MaxProcesses, MaxHosts: cfg.Ancestry.MaxHosts, IdleTimeout: cfg.Ancestry.IdleTimeout,
			MaxCommandLine: cfg.Ancestry.MaxCommandLine, WebServers: cfg.Ancestry.WebServers, WebAccounts: cfg.Ancestry.WebAccounts,
		})
	}
	if cfg.Correlation.Enabled {
		s.corr = correlate.New(correlate.Options{After: cfg.Correlation.Window, Reorder: cfg.Correlation.Reorder, LongRequest: cfg.Correlation.LongRequest,
			MaxPending: cfg.Correlation.MaxPending, UploadTTL: cfg.Correlation.UploadTTL, MaxHosts: cfg.Ancestry.MaxHosts,
			InOrder: cfg.Correlation.InOrder})
	}
	if cfg.Sessions.Enabled {
		s.sessions = session.NewTracker(session.Options{Mode: session.Mode(cfg.Sessions.Mode), Interval: cfg.Sessions.Interval, Idle: cfg.Sessions.Idle})
	}
	if cfg.Baseline.Enabled {
		file := ""
		if cfg.State.Path != "" {
			file = filepath.Join(cfg.State.Path, "baseline.json")
		}
		b, err := session.NewBaseline(cfg.Baseline.LearningPeriod, cfg.Baseline.MaxShapes, file)
		if err != nil {
			return nil, err
		}
		s.baseline = b
	}
	if cfg.State.Path != "" && s.table != nil {
		if err := s.table.Restore(filepath.Join(cfg.State.Path, "processes.json")); err != nil && !errors.Is(err, ancestry.ErrVersion) {
			return nil, err
		}
	}
	return s, nil
}

// SetProcLookup installs the live input's /proc lookup on the process table.
func (d *Detector) SetProcLookup(fn func(pid int) (ancestry.Process, bool)) {
	if d.st != nil && d.st.table != nil {
		d.st.table.SetLookup(fn)
	}
}

// Save writes the process table, the baseline and the correlation windows
// under cfg.State.Path.
func (d *Detector) Save() error {
	if d.st == nil || d.cfg.State.Path == "" {
		return nil
	}
	var errs []error
	if d.st.table != nil {
		errs = append(errs, d.st.table.Save(filepath.Join(d.cfg.State.Path, "processes.json")))
	}
	errs = append(errs, d.st.baseline.Save())
	errs = append(errs, saveCorrelations(d.cfg.State.Path, d.rules.Load()))
	return errors.Join(errs...)
}

// Table returns the process table (nil when ancestry is disabled).
func (d *Detector) Table() *ancestry.Table {
	if d.st == nil {
		return nil
	}
	return d.st.table
}

// event is what the stateful steps read from one document.
type event struct {
	doc     map[string]any
	host    string
	t       time.Time
	ref     int64
	lin     ancestry.Lineage
	hasLin  bool
	kind    ancestry.Kind
	request *correlate.Request
	link    *correlate.Link
	script  string // the script the event belongs to (file path or URL path)
	// sessionScript, when set, keys the session instead of script: the
	// first file of a writer's burst of script writes (session.Bursts).
	sessionScript string
	site          string // the web site of script when it is a URL path (siteOf)
	reqProcs      []ancestry.Process
	// otherLinks are the links this process's own made for processes seen
	// before it (correlate.AddProcessAll): its shell's and its elders'.
	otherLinks []correlate.Link
	command    string // the command key for sessions
	// noCommand marks the upload alert: about a file, not a command, so
	// it neither takes a session's first-command place nor is lowered.
	noCommand bool
}

func str(doc map[string]any, p string) string { return detection.LookupString(doc, p) }

// siteOf names the web site of a request, for its session: the virtual
// host the log names (url.domain: Apache's vhost_combined, IIS's cs-host),
// else IIS's site name (s-sitename), else the W3SVC<n> folder IIS keeps
// each site's logs in, as its logs name no site by default.
func siteOf(doc map[string]any) string {
	if d := str(doc, "url.domain"); d != "" {
		return d
	}
	if n := str(doc, "iis.site_name"); n != "" {
		return n
	}
	return w3svc.FindString(strings.ToUpper(str(doc, "log.file.path")))
}

// w3svc is IIS's log folder of one site, W3SVC<site id>.
var w3svc = regexp.MustCompile(`\bW3SVC\d+\b`)

func num(doc map[string]any, p string) int {
	v, _ := detection.Lookup(doc, p)
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case int32:
		return int(n)
	case uint32:
		return int(n)
	case uint64:
		return int(n)
	case float64:
		return int(n)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}

// fieldText returns the values of field p of doc as text, for exception
// field conditions: each element of a list, scalars as rules see them
// (detection.ScalarString), times in RFC 3339, other named types by their
// String method. Maps and absent fields give nil.
func fieldText(doc map[string]any, p string) []string {
	v, _ := detection.Lookup(doc, p)
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		var out []string
		for _, x := range l {
			if s, ok := valueText(x); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if s, ok := valueText(v); ok {
		return []string{s}
	}
	return nil
}

func valueText(v any) (string, bool) {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano), true
	}
	if s, ok := detection.ScalarString(v); ok {
		return s, true
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String(), true
	}
	return "", false
}

func has(doc map[string]any, p, v string) bool {
	return slices.Contains(detection.LookupStrings(doc, p), v)
}

// requestServer names the web server that logged a request, for matching
// it with that server's processes: event.module, but for ModSecurity's
// audit log, which runs inside Apache, nginx or IIS alike ("": any).
func requestServer(doc map[string]any) string {
	if m := str(doc, "event.module"); m != "modsecurity" {
		return m
	}
	return ""
}

// before runs the stateful steps that come before rule matching, so that
// rules can test what they add: ancestry, parent fields, the request link.
func (s *state) before(doc map[string]any) *event {
	ev := &event{doc: doc, host: strings.ToLower(str(doc, "host.name")), ref: s.refs.Add(1)}
	ev.t, _ = doc["@timestamp"].(time.Time)
	if s.baseline != nil {
		s.baseline.Seen(ev.t)
	}
	if s.table != nil && (str(doc, "process.entity_id") != "" || num(doc, "process.pid") > 0) {
		s.observeProcess(ev)
	}
	if s.corr == nil {
		return ev
	}
	if u := str(doc, "url.path"); u != "" && str(doc, "process.command_line") == "" {
		// The query's values and a POST form's (ModSecurity's audit log):
		// either may be the command the request's shell runs.
		params := slices.Concat(detection.LookupStrings(doc, "webshell.url.param_values"), detection.LookupStrings(doc, "webshell.body.param_values"))
		r := &correlate.Request{Ref: ev.ref, Time: ev.t, Path: u, Params: params,
			Worker: num(doc, "process.pid"), Script: s.exts[strings.ToLower(path.Ext(u))], Server: requestServer(doc)}
		if n := num(doc, "event.duration"); n > 0 {
			r.Duration = time.Duration(n)
		}
		ev.request = r
	}
	if ev.hasLin && ev.lin.Web && ev.kind == ancestry.Start && !jdkLauncher(str(doc, "process.executable")) {
		p := correlate.Process{Ref: ev.ref, Time: ev.t, ID: ev.lin.Self.ID(), Shell: shellOf(ev.lin).ID(),
			CommandLine: str(doc, "process.command_line"), Cwd: str(doc, "process.working_directory")}
		for _, a := range ev.lin.Chain {
			if a.WebServer {
				p.WebPIDs = append(p.WebPIDs, a.PID)
				p.WebNames = append(p.WebNames, a.Name)
				p.Inferred = p.Inferred || a.Inferred
			}
		}
		ev.command = p.Shell
		if links := s.corr.AddProcessAll(ev.host, p); len(links) > 0 {
			l := links[0]
			ev.link, ev.otherLinks = &l, links[1:]
			ev.command = "request:" + strconv.FormatInt(l.Request, 10)
			s.heldMu.Lock()
			if r := s.held[l.Request]; r != nil && r.doc != nil {
				putRequest(doc, r.doc, l)
				ev.script, ev.site = str(r.doc, "url.path"), siteOf(r.doc)
				if f := str(r.doc, "webshell.script.path"); f != "" {
					detection.Put(doc, "webshell.script.path", f)
				}
			}
			s.heldMu.Unlock()
		}
		if ev.script == "" {
			var pids []int
			for _, a := range ev.lin.Chain {
				if a.WebServer {
					pids = append(pids, a.PID)
				}
			}
			if sc, ok := s.corr.ServedScript(ev.host, pids, ev.t); ok {
				ev.script = sc
			}
		}
		if ev.script != "" && str(doc, "webshell.script.path") == "" {
			detection.Put(doc, "webshell.script.path", ev.script)
		}
	}
	return ev
}

// shellOf is the process the web server started: the topmost process of
// the chain that is not a web server.
func shellOf(l ancestry.Lineage) ancestry.Process {
	shell := l.Self
	for _, a := range l.Chain {
		if a.WebServer {
			break
		}
		shell = a
	}
	return shell
}

var appPool = regexp.MustCompile(`(?i)-ap\s+"?([^"]+?)"?(?:\s+-|$)`)

// AppPool returns the IIS application pool of a w3wp command line.
func AppPool(cmd string) string {
	if m := appPool.FindStringSubmatch(cmd); m != nil {
		return m[1]
	}
	return ""
}

func (s *state) observeProcess(ev *event) {
	doc := ev.doc
	p := ancestry.Process{
		EntityID: str(doc, "process.entity_id"), PID: num(doc, "process.pid"), PPID: num(doc, "process.parent.pid"),
		ParentEntityID: str(doc, "process.parent.entity_id"), Executable: str(doc, "process.executable"),
		Name: str(doc, "process.name"), CommandLine: str(doc, "process.command_line"), User: str(doc, "user.name"),
		Cwd: str(doc, "process.working_directory"),
	}
	if p.User == "" {
		p.User = str(doc, "user.id")
	}
	parent := ancestry.Process{Executable: str(doc, "process.parent.executable"), Name: str(doc, "process.parent.name"),
		CommandLine: str(doc, "process.parent.command_line")}
	ev.kind = ancestry.Seen
	switch {
	case detection.IsProcessStart(doc):
		ev.kind = ancestry.Start
		p.Start = ev.t
	case has(doc, "event.category", "process") && has(doc, "event.type", "end"):
		ev.kind = ancestry.Exit
	}
	ev.lin = s.table.Observe(ev.host, p, parent, ev.kind, ev.t)
	ev.hasLin = true
	l := ev.lin
	if l.HasParent {
		fill := func(field, v string) {
			if v != "" && str(doc, field) == "" {
				detection.Put(doc, field, v)
			}
		}
		fill("process.parent.executable", l.Parent.Executable)
		fill("process.parent.name", l.Parent.Name)
		fill("process.parent.command_line", l.Parent.CommandLine)
		fill("process.parent.entity_id", l.Parent.EntityID)
		if num(doc, "process.parent.pid") == 0 && l.Parent.PID > 0 {
			detection.Put(doc, "process.parent.pid", l.Parent.PID)
		}
	}
	if l.Self.WebServer {
		// A worker under its master (apache2, php-fpm, nginx, httpd.exe,
		// php-cgi.exe under w3wp.exe) descends from a web server too: rules
		// about descendants leave out the servers' own events with this,
		// and rules about the servers themselves (a tunnel) read it.
		detection.Put(doc, "webshell.web_server_process", true)
	}
	if !l.Web {
		return
	}
	n := len(l.Chain)
	names, exes, pids := make([]string, n), make([]string, n), make([]int, n)
	for i, a := range l.Chain {
		names[i], exes[i], pids[i] = a.Name, a.Executable, a.PID
	}
	anc := map[string]any{"name": names, "executable": exes, "pid": pids, "depth": n}
	if slices.ContainsFunc(l.Chain, func(a ancestry.Process) bool { return a.Inferred }) {
		anc["inferred"] = true
	}
	detection.Put(doc, "webshell.ancestry", anc)
	root := map[string]any{"pid": l.Root.PID, "entity_id": l.Root.ID()}
	for k, v := range map[string]string{"name": l.Root.Name, "executable": l.Root.Executable, "command_line": l.Root.CommandLine, "app_pool": AppPool(l.Root.CommandLine)} {
		if v != "" {
			root[k] = v
		}
	}
	if l.Root.Inferred {
		root["inferred"] = true
	}
	detection.Put(doc, "webshell.webserver", root)
}

func putRequest(doc, req map[string]any, l correlate.Link) {
	r := map[string]any{"time": req["@timestamp"], "evidence": l.Evidence}
	for _, f := range []string{"url.original", "url.path", "http.request.method", "source.ip", "user_agent.original", "http.response.status_code"} {
		if v, ok := detection.Lookup(req, f); ok {
			detection.Put(r, f, v)
		}
	}
	if id := str(req, "webshell.doc_id"); id != "" {
		r["doc_id"] = id
	}
	detection.Put(doc, "webshell.request", r)
}

func putProcesses(doc map[string]any, procs []ancestry.Process) {
	pids, names, cmds, ids := []int{}, []string{}, []string{}, []string{}
	for _, p := range procs {
		pids, names, cmds, ids = append(pids, p.PID), append(names, p.Name), append(cmds, p.CommandLine), append(ids, p.ID())
	}
	detection.Put(doc, "webshell.processes", map[string]any{"pid": pids, "name": names, "command_line": cmds, "entity_id": ids, "count": len(procs)})
}

// docID is a stable id for a document that may be updated later.
func docID(doc map[string]any, host string, t time.Time) string {
	h := sha256.New()
	h.Write([]byte(host + "\x00" + t.UTC().Format(time.RFC3339Nano) + "\x00"))
	for _, f := range []string{"event.original", "url.original", "process.entity_id", "process.command_line", "file.path"} {
		h.Write([]byte(str(doc, f) + "\x00"))
	}
	if n := num(doc, "process.pid"); n > 0 {
		h.Write([]byte(strconv.Itoa(n)))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// hold keeps h for ref, a request or a process of host, so that a later
// link can update its document. Each host keeps as many as the correlator
// may still link: its last max_pending requests, and twice as many
// processes of each kind, alerts and quiet ones (those waiting for a
// request, and the long-running shells kept for minutes). One bound for all
// would let a busy site's requests, or its quiet processes, push out a
// reverse shell's alert, or another host's request, while the correlator
// still links them, and the link would show in no document. The least
// recently active host is forgotten past maxHeldHosts.
func (s *state) hold(host string, ref int64, h *heldDoc, kind heldKind) {
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	hh := s.heldBy[host]
	if hh == nil {
		if len(s.heldBy) >= maxHeldHosts {
			s.forgetIdlestHost()
		}
		hh = &heldHost{}
		s.heldBy[host] = hh
	}
	s.heldTick++
	hh.touched = s.heldTick
	s.held[ref] = h
	switch kind {
	case heldRequest:
		hh.reqs = s.keepLast(append(hh.reqs, ref), s.maxPending)
	case heldAlert:
		hh.procs = s.keepLast(append(hh.procs, ref), 2*s.maxPending)
	default:
		hh.quiet = s.keepLast(append(hh.quiet, ref), 2*s.maxPending)
	}
}

// keepLast forgets the oldest refs of fifo past n.
func (s *state) keepLast(fifo []int64, n int) []int64 {
	for len(fifo) > n {
		delete(s.held, fifo[0])
		fifo = fifo[1:]
	}
	return fifo
}

func (s *state) forgetIdlestHost() {
	idlest := ""
	for name, hh := range s.heldBy {
		if idlest == "" || hh.touched < s.heldBy[idlest].touched {
			idlest = name
		}
	}
	hh := s.heldBy[idlest]
	s.keepLast(hh.reqs, 0)
	s.keepLast(hh.procs, 0)
	s.keepLast(hh.quiet, 0)
	delete(s.heldBy, idlest)
}

// clone copies a document deeply enough that later changes to either do
// not show in the other.
func clone(v any) any {
	if m, ok := detection.AsMap(v); ok {
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = clone(x)
		}
		return out
	}
	switch l := v.(type) {
	case []any:
		out := make([]any, len(l))
		for i, x := range l {
			out[i] = clone(x)
		}
		return out
	case []string:
		return slices.Clone(l)
	case []int:
		return slices.Clone(l)
	case []map[string]any:
		out := make([]any, len(l))
		for i, x := range l {
			out[i] = clone(x)
		}
		return out
	}
	return v
}

func cloneDoc(doc map[string]any) map[string]any { return clone(doc).(map[string]any) }

// jdkLauncher says whether exe is the JDK's jspawnhelper, through which Java
// 13+ on Linux starts every Runtime.exec child: it execs the program asked
// for in the same process at once. It is no command of its own, and a
// request linked by time alone went to it, not to the shell after it (a
// JSP web shell's POST on a live Tomcat 10).
func jdkLauncher(exe string) bool {
	return strings.HasSuffix(exe, "/jspawnhelper")
}
