// Package correlate links events of different sources on one host: the
// access-log request and the processes its web server started while serving
// it (request -> process, either arriving first), and a script file written
// under a web root and then used (upload -> execute).
//
// Links are made on event time inside bounded windows (a number of entries
// per host, and a reorder window of event time after which an unmatched
// entry is forgotten); the wall clock is never read. The package takes plain
// values, never documents, and does not import libbeat. A Correlator is safe
// for concurrent use.
package correlate

import (
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options bound and tune a Correlator. Zero fields take the defaults.
type Options struct {
	// Before and After widen a request's time span [start, start +
	// resolution + duration] on each side: a process may be logged up to
	// Before earlier (nginx logs a request when it ends) and After later.
	Before, After time.Duration // defaults 1s and 2s
	// Resolution of request times (access logs have whole seconds); default 1s.
	Resolution time.Duration
	// Reorder is how long (event time) an unmatched request or process
	// waits for its partner; default 30s.
	Reorder time.Duration
	// LongRequest is how long a shell that no request has explained yet is
	// kept for one whose parameter is its exact command; default 5m. A
	// command that runs for minutes (a reverse shell) is logged when it
	// ends: nginx, IIS and Caddy time the line then, and Apache, which
	// times it when it arrived, writes it then, after Reorder has passed.
	LongRequest time.Duration
	// MaxPending bounds the requests, the processes and the long-running
	// shells held per host; default 10000 each.
	MaxPending int
	// UploadTTL is how long (event time) a script written under a web root
	// waits for its first use; default 7 days. MaxUploads bounds them per host (default 10000).
	UploadTTL  time.Duration
	MaxUploads int
	MaxHosts   int // default 1024
	// InOrder says events arrive in event-time order, as in a hunt: a
	// request (timed to the second it arrived or ended) comes before the
	// shells it started, and a shell may be linked by time alone when it
	// arrives (AddProcess). Live, a request's line is written and read after
	// its shells, and a request held when a shell arrives is usually an
	// earlier one.
	InOrder bool
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Before, time.Second)
	def(&o.After, 2*time.Second)
	def(&o.Resolution, time.Second)
	def(&o.Reorder, 30*time.Second)
	def(&o.LongRequest, 5*time.Minute)
	def(&o.UploadTTL, 7*24*time.Hour)
	if o.MaxPending <= 0 {
		o.MaxPending = 10000
	}
	if o.MaxUploads <= 0 {
		o.MaxUploads = 10000
	}
	if o.MaxHosts <= 0 {
		o.MaxHosts = 1024
	}
	return o
}

// Request is an access-log request.
type Request struct {
	Ref      int64 // the caller's handle for the request's document
	Time     time.Time
	Duration time.Duration // 0 when the log has none
	Path     string        // url.path
	Params   []string      // decoded parameter values
	Worker   int           // the serving process's pid, when logged
	Script   bool          // the path names a script (.php, .aspx, ...)
	Server   string        // the logging server: apache, nginx, iis ("" unknown)
}

// Process is a process started under a web server: Shell is the id of the
// topmost non-web-server process of its chain (the process the web server
// started); its descendants inherit the shell's request.
type Process struct {
	Ref         int64
	Time        time.Time
	ID, Shell   string
	CommandLine string
	Cwd         string
	WebPIDs     []int    // pids of the web-server processes above it
	Inferred    bool     // the web-server pids are inferred, not seen
	WebNames    []string // names of those web-server processes (apache2, php-fpm8.2, w3wp.exe)
}

// Link is a request -> process link and why it was made.
type Link struct {
	Request  int64    // Ref of the request
	Process  int64    // Ref of the process
	Evidence []string // param_in_command_line, param_in_descendant, worker_pid, working_directory, time, parent_linked, long_running
	Score    int
}

// Correlator holds the windows of every host.
type Correlator struct {
	opt   Options
	mu    sync.Mutex
	hosts map[string]*host
	// Dropped counts entries dropped because a window was full.
	Dropped int64
}

type heldReq struct {
	Request
	shells []string
}

type heldProc struct {
	Process
	key string // commandKey of the command line
}

type host struct {
	now   time.Time
	reqs  []*heldReq
	procs []*heldProc // unlinked shells
	// long are the unlinked shells older than Reorder, by their command
	// (commandKey), until LongRequest: only a request whose parameter is
	// the command links them. longCount bounds them (MaxPending).
	long      map[string][]*heldProc
	longCount int
	linked    map[string]int64 // shell id -> request ref
	// linkAt is when each link was last made or passed on to a child
	// (event time): a shell that keeps starting children keeps its link,
	// and ten reorder windows after its last one the link is forgotten.
	linkAt map[string]time.Time
	// kids are the descendants of shells not linked yet, by shell id: a
	// long-running shell's commands run before its request is logged, and
	// take its link when it comes (see kidLinks).
	kids map[string]*shellKids
	// weak are the shells linked by weak evidence, with its rank
	// (weakRank): such a shell stays held (procs, then long), a request with
	// strong evidence or weak evidence of a higher rank that arrives later
	// takes it over, and its children are noted as kids for that request.
	weak    map[string]int
	uploads map[string]*Upload // by lowercased path
	served  map[int]servedScript
	touched time.Time
}

// shellKids are the refs of an unlinked shell's first descendants
// (maxKids), the time and command line of the first few (maxCarriers: see
// descendantScore) and the time of its last.
type shellKids struct {
	refs     []int64
	carriers []carrier
	last     time.Time
}

type carrier struct {
	ref         int64
	id          string
	time        time.Time
	commandLine string
}

// maxKids bounds the descendants noted per unlinked shell: an interactive
// reverse shell's first commands are what an analyst reads first.
const maxKids = 64

// maxCarriers bounds the descendants per unlinked shell whose command line
// is kept to be searched for a request's parameter: the command of a
// mail() bypass runs in the sendmail shell's first child or grandchild.
const maxCarriers = 8

type servedScript struct {
	path string
	at   time.Time
}

// New returns an empty Correlator.
func New(opt Options) *Correlator {
	return &Correlator{opt: opt.withDefaults(), hosts: map[string]*host{}}
}

func (c *Correlator) host(name string, t time.Time) *host {
	h := c.hosts[name]
	if h == nil {
		if len(c.hosts) >= c.opt.MaxHosts {
			var old string
			for n, x := range c.hosts {
				if old == "" || x.touched.Before(c.hosts[old].touched) {
					old = n
				}
			}
			delete(c.hosts, old)
			c.Dropped++
		}
		h = &host{linked: map[string]int64{}, linkAt: map[string]time.Time{}, uploads: map[string]*Upload{}, served: map[int]servedScript{}, long: map[string][]*heldProc{},
			kids: map[string]*shellKids{}, weak: map[string]int{}}
		c.hosts[name] = h
	}
	if t.After(h.now) {
		h.now = t
		h.touched = t
		c.expire(h)
	}
	return h
}

func (c *Correlator) expire(h *host) {
	cut := h.now.Add(-c.opt.Reorder)
	h.reqs = slices.DeleteFunc(h.reqs, func(r *heldReq) bool { return r.Time.Add(r.Duration + c.opt.Resolution).Before(cut) })
	h.procs = slices.DeleteFunc(h.procs, func(p *heldProc) bool {
		if !p.Time.Before(cut) {
			return false
		}
		// A weakly linked shell is kept too: its real request, logged when
		// it ends, takes it over (linkLong).
		if p.key != "" && h.longCount < c.opt.MaxPending {
			h.long[p.key] = append(h.long[p.key], p)
			h.longCount++
		}
		return true
	})
	longCut := h.now.Add(-c.opt.LongRequest)
	for k, ps := range h.long {
		kept := slices.DeleteFunc(ps, func(p *heldProc) bool { return p.Time.Before(longCut) })
		h.longCount -= len(ps) - len(kept)
		if len(kept) == 0 {
			delete(h.long, k)
		} else {
			h.long[k] = kept
		}
	}
	for id, t := range h.linkAt {
		if t.Before(h.now.Add(-10 * c.opt.Reorder)) {
			delete(h.linkAt, id)
			delete(h.linked, id)
			delete(h.weak, id)
		}
	}
	for shell, k := range h.kids { // past LongRequest their shell can no longer be linked
		if k.last.Before(longCut) {
			delete(h.kids, shell)
		}
	}
	for k, u := range h.uploads {
		if u.Time.Before(h.now.Add(-c.opt.UploadTTL)) {
			delete(h.uploads, k)
		}
	}
	for pid, s := range h.served {
		if s.at.Before(cut) {
			delete(h.served, pid)
		}
	}
}

// score rates how well a request explains a process; 0 means no link.
// A decoded parameter found in the command line or the logged worker pid
// is strong evidence; time and working directory alone are weak.
func (c *Correlator) score(r *Request, p *Process) (int, []string) {
	lo, hi, open := c.span(r)
	if p.Time.Before(lo) || p.Time.After(hi) || !servedBy(r.Server, p.WebNames) {
		return 0, nil
	}
	// The far part of an open span (a command that ran longer than the
	// narrow window) takes the best evidence, the command itself or the
	// worker pid: time alone does not reach there, nor a value that only
	// appears among the command's words (?q=php and a php cron job).
	far := open && p.Time.Before(r.Time.Add(-c.opt.Before))
	s, ev := 0, []string(nil)
	if r.Worker > 0 && len(p.WebPIDs) > 0 && !p.Inferred {
		if !slices.Contains(p.WebPIDs, r.Worker) {
			return 0, nil // another worker served it
		}
		s += 80
		ev = append(ev, "worker_pid")
	} else if r.Worker > 0 && slices.Contains(p.WebPIDs, r.Worker) {
		s += 80
		ev = append(ev, "worker_pid")
	}
	// A descendant's (see descendantScore) must carry a value of 3 bytes
	// or more: a shell's grandchildren include the short commands every
	// tree runs, and the id under php-fpm's sendmail shell took Apache's
	// request for ?cmd=id from the id under Apache's (TestLiveMailBypass).
	minLen := 2
	if p.ID != p.Shell {
		minLen = 3
	}
	if cs := paramScore(r.Params, p.CommandLine, minLen); cs > 0 {
		s += cs
		ev = append(ev, "param_in_command_line")
	} else if len(r.Params) > 0 && s == 0 {
		// The request carried values and none is in the command line:
		// another request's command (or an encoded one) - no time-only link.
		return 0, nil
	}
	if far && s < farEvidence {
		return 0, nil
	}
	if d := path.Dir(r.Path); p.Cwd != "" && d != "/" && d != "." && strings.HasSuffix(strings.TrimSuffix(p.Cwd, "/"), d) {
		s += 20
		ev = append(ev, "working_directory")
	}
	if r.Script {
		s += 5 // a script page rather than a static file
	}
	// Time: a small bonus that prefers the closest request. The log has
	// whole seconds: anywhere in the logged second is as near as can be
	// told, and a shell late in one second is not taken for the next
	// second's request.
	st := c.start(r)
	dt := time.Duration(0)
	if p.Time.Before(st) {
		dt = st.Sub(p.Time)
	} else if end := st.Add(c.opt.Resolution); p.Time.After(end) {
		dt = p.Time.Sub(end)
	}
	bonus := 10 - int(dt/(300*time.Millisecond))
	if bonus < 1 {
		bonus = 1
	}
	s += bonus
	ev = append(ev, "time")
	if ownServer(r.Server, p.WebNames) {
		s += 2 // before a php-fpm shell of the same command: it may serve another server
	}
	return s, ev
}

// endStamped are the servers whose access logs time a request when it
// ended: nginx ($time_local is when the line is written), IIS (HTTP.sys
// logs at the last send, time-taken before it), Caddy (ts), lighttpd (its
// %t is the end of the request, measured live) and Tomcat (AccessLogValve
// logs the start plus the time taken unless the pattern says %{begin:...}t;
// measured live on Tomcat 10). Apache's %t is when the request arrived, as
// is Traefik's StartUTC. A switch, not a map: every score asks it, for
// every held process.
func endStamped(server string) bool {
	switch server {
	case "nginx", "iis", "caddy", "lighttpd", "tomcat":
		return true
	}
	return false
}

// span is when a process started by r may have started. A request timed at
// its start runs from then for its duration (unknown: 0). One timed at its
// end ran for its duration before that; without one, for as long as a
// process waits for its request (Reorder): the span is open, and its far
// part takes evidence (score). A command that runs for seconds (a sleep, a
// download, a scan) starts that long before nginx or IIS logs its request.
func (c *Correlator) span(r *Request) (lo, hi time.Time, open bool) {
	return c.spanBack(r, c.opt.Reorder)
}

// spanBack is span with an open span reaching back reach: Reorder for the
// held shells, LongRequest for the long-running ones (longSpan).
func (c *Correlator) spanBack(r *Request, reach time.Duration) (lo, hi time.Time, open bool) {
	if !endStamped(r.Server) {
		return r.Time.Add(-c.opt.Before), r.Time.Add(c.opt.Resolution + r.Duration + c.opt.After), false
	}
	hi = r.Time.Add(c.opt.Resolution + c.opt.After)
	if r.Duration > 0 {
		return r.Time.Add(-r.Duration - c.opt.Before), hi, false
	}
	return r.Time.Add(-reach), hi, true
}

// start is when r began, as near as its log tells.
func (c *Correlator) start(r *Request) time.Time {
	if endStamped(r.Server) {
		return r.Time.Add(-r.Duration)
	}
	return r.Time
}

// servedBy says whether a request logged by server can have been served by
// web-server processes of these names: two servers on one host (Apache on one
// port, nginx on another) then never share requests. php-fpm and php-cgi
// serve behind Apache, nginx, Caddy or lighttpd; Traefik only proxies, so
// it serves behind nothing and fronts anything; an unknown server or process
// name matches anything.
func servedBy(server string, names []string) bool {
	if server == "" || server == "traefik" || len(names) == 0 {
		return true
	}
	for _, n := range names {
		switch own := serverOf(n); own {
		case "php":
			switch server {
			case "apache", "nginx", "caddy", "lighttpd":
				return true
			}
		case "":
			return true // tomcat, node, caddy...: no access-log server to compare
		default:
			if own == server {
				return true
			}
		}
	}
	return false
}

// ownServer says whether names include the logging server's own process
// (apache2 or httpd for apache, nginx, w3wp for iis), not only a php-fpm
// that may serve behind another server on the host.
func ownServer(server string, names []string) bool {
	for _, n := range names {
		if own := serverOf(n); own != "" && own == server {
			return true
		}
	}
	return false
}

// serverOf is the access-log server whose own process a web-server process
// name is (apache, nginx, iis, caddy), "php" for php-fpm and php-cgi, which
// serve behind another server, and "" for any other (tomcat, node...).
func serverOf(name string) string {
	n := strings.TrimSuffix(strings.ToLower(name), ".exe")
	switch {
	case n == "apache2" || n == "httpd" || n == "apache":
		return "apache"
	case n == "nginx":
		return "nginx"
	case n == "caddy" || n == "frankenphp": // FrankenPHP is Caddy, and logs as Caddy
		return "caddy"
	case n == "w3wp" || n == "umworkerprocess":
		return "iis"
	case strings.HasPrefix(n, "php-fpm") || strings.HasPrefix(n, "php-cgi"):
		return "php"
	}
	return ""
}

// paramScore: 100 when a parameter value is the whole command (or the
// argument of sh -c / cmd /c), 60 when it is in it at word boundaries.
func paramScore(params []string, cmd string, minLen int) int {
	if len(params) == 0 {
		return 0 // most requests, before the command line is lowered
	}
	best := 0
	lc := paramKey(cmd)
	for _, v := range params {
		v = paramKey(v)
		if len(v) < minLen {
			continue
		}
		if lc == v || strings.HasSuffix(lc, " -c "+v) || strings.HasSuffix(lc, " /c "+v) || strings.HasSuffix(lc, " /c \""+v+"\"") {
			return 100
		}
		if len(v) >= 3 && containsWord(lc, v) {
			best = 60
		}
	}
	return best
}

func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isWordByte(s[j-1])
		after := j+len(w) == len(s) || !isWordByte(s[j+len(w)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isWordByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// strong is the score from which a link needs no other candidate to be
// absent: a parameter in the command line or the worker pid.
const strong = 50

// farEvidence is the score a link beyond a request's narrow span takes: a
// parameter that is the command (100) or the worker pid (80).
const farEvidence = 80

// AddRequest records a request and returns the links to shells that arrived
// before it and match it.
func (c *Correlator) AddRequest(hostName string, r Request) []Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.host(hostName, r.Time)
	hr := &heldReq{Request: r}
	// One request starts one shell (PHP's system(), cmd /c): link the held
	// shell it explains best, so that two requests with the same command
	// (a web shell and a backdoored page, on two servers) each get their own.
	// The shell's descendants follow it through AddProcess.
	best, bestScore, bestEv, bestKid := -1, 0, []string(nil), int64(0)
	for i, p := range h.procs {
		s, ev := c.score(&r, &p.Process)
		kid := int64(0)
		if s < strong && len(r.Params) > 0 && len(h.kids) > 0 {
			if ks, kev, ref := c.descendantScore(h, &r, &p.Process); ks > s {
				s, ev, kid = ks, kev, ref
			}
		}
		if s == 0 || s < strong && (weakRank(ev) <= h.weak[p.Shell] || !c.weakCandidate(h, &p.Process, &r, ev)) {
			continue
		}
		if s > bestScore || s == bestScore && best >= 0 && closer(p.Time, h.procs[best].Time, c.start(&r)) {
			best, bestScore, bestEv, bestKid = i, s, ev, kid
		}
	}
	var links []Link
	kept := h.procs[:0]
	for i, p := range h.procs {
		if i == best {
			if h.weak[p.Shell] > 0 {
				c.unlink(h, p.Shell)
			}
			links = append(links, Link{Request: r.Ref, Process: p.Ref, Evidence: bestEv, Score: bestScore})
			h.linked[p.Shell] = r.Ref
			h.touchLink(p.Shell, h.now)
			hr.shells = append(hr.shells, p.Shell)
			links = append(links, carrierEvidence(h.kidLinks(p.Shell, r.Ref, bestScore >= strong), bestKid)...)
			delete(h.weak, p.Shell)
			if bestScore < strong {
				h.weak[p.Shell] = weakRank(bestEv)
				kept = append(kept, p)
			}
			continue
		}
		kept = append(kept, p)
	}
	h.procs = kept
	if best < 0 {
		if l, ok := c.linkLong(h, &r); ok {
			links = append(links, l.Link)
			links = append(links, h.kidLinks(l.shell, r.Ref, true)...)
			hr.shells = append(hr.shells, l.shell)
		}
	}
	if len(h.reqs) >= c.opt.MaxPending {
		h.reqs = h.reqs[1:]
		c.Dropped++
	}
	h.reqs = append(h.reqs, hr)
	return links
}

// commandKey is what a parameter must equal (lowered, paramKey) for a
// long-running shell to be linked by it: the command after sh -c or cmd /c
// (unquoted), or the whole command line, lowered; "" for none.
func commandKey(cmd string) string {
	lc := paramKey(cmd)
	for _, sep := range []string{" -c ", " /c "} {
		if i := strings.Index(lc, sep); i >= 0 {
			lc = strings.TrimSpace(lc[i+len(sep):])
			if len(lc) >= 2 && lc[0] == '"' && lc[len(lc)-1] == '"' {
				lc = lc[1 : len(lc)-1]
			}
			break
		}
	}
	return lc
}

// paramKey is a parameter value or a command line as they are compared
// (paramScore, commandKey): lowered, without surrounding space.
func paramKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// longLink is a link to a long-running shell, with the shell's id.
type longLink struct {
	Link
	shell string
}

// linkLong links r to the long-running shell whose command one of its
// parameters is, the one that started nearest r's start, if any: among the
// long ones, and among those still held that r's span does not reach (event
// time has not moved on past them yet).
func (c *Correlator) linkLong(h *host, r *Request) (longLink, bool) {
	var best *heldProc
	own := func(p *heldProc) bool { return ownServer(r.Server, p.WebNames) }
	consider := func(p *heldProc) {
		if !servedBy(r.Server, p.WebNames) || !c.longSpan(r, p.Time) {
			return
		}
		if best == nil || own(p) && !own(best) || own(p) == own(best) && closer(p.Time, best.Time, c.start(r)) {
			best = p
		}
	}
	var keys []string
	for _, v := range r.Params {
		if k := paramKey(v); len(k) >= 2 {
			keys = append(keys, k)
			for _, p := range h.long[k] {
				consider(p)
			}
		}
	}
	if len(keys) == 0 {
		return longLink{}, false
	}
	for _, p := range h.procs {
		if slices.Contains(keys, p.key) {
			consider(p)
		}
	}
	if best == nil {
		return longLink{}, false
	}
	drop := func(p *heldProc) bool { return p == best }
	if k := best.key; slices.Contains(h.long[k], best) {
		h.long[k] = slices.DeleteFunc(h.long[k], drop)
		h.longCount--
	} else {
		h.procs = slices.DeleteFunc(h.procs, drop)
	}
	if h.weak[best.Shell] > 0 { // linked by weak evidence to another request: this one names its command
		c.unlink(h, best.Shell)
		delete(h.weak, best.Shell)
	}
	h.linked[best.Shell] = r.Ref
	h.touchLink(best.Shell, h.now)
	return longLink{Link{Request: r.Ref, Process: best.Ref, Evidence: []string{"param_in_command_line", "long_running"}, Score: 100}, best.Shell}, true
}

// longSpan says whether a process started at t can be one r started and
// that ran for up to LongRequest.
func (c *Correlator) longSpan(r *Request, t time.Time) bool {
	lo, hi, _ := c.spanBack(r, c.opt.LongRequest)
	return !t.Before(lo) && !t.After(hi)
}

// noteKid notes p, a descendant of a shell not linked yet, so that the
// shell's link reaches it (kidLinks). At most maxShells shells are noted.
func (h *host) noteKid(p Process, maxShells int) {
	k := h.kids[p.Shell]
	if k == nil {
		if len(h.kids) >= maxShells {
			return
		}
		k = &shellKids{}
		h.kids[p.Shell] = k
	}
	if len(k.refs) < maxKids {
		k.refs = append(k.refs, p.Ref)
	}
	if len(k.carriers) < maxCarriers {
		k.carriers = append(k.carriers, carrier{p.Ref, p.ID, p.Time, p.CommandLine})
	}
	if p.Time.After(k.last) {
		k.last = p.Time
	}
}

// kidLinks links the descendants noted of shell to request ref, with the
// evidence of a descendant that follows its shell (parent_linked). After a
// strong link they are forgotten; after a weak one they are kept for the
// request that may take the shell over.
func (h *host) kidLinks(shell string, ref int64, strongLink bool) []Link {
	k := h.kids[shell]
	if k == nil {
		return nil
	}
	links := make([]Link, 0, len(k.refs))
	for _, p := range k.refs {
		links = append(links, Link{Request: ref, Process: p, Evidence: []string{"parent_linked"}})
	}
	if strongLink {
		delete(h.kids, shell)
	}
	return links
}

// touchLink notes that shell's link was made or used at t (see linkAt).
func (h *host) touchLink(shell string, t time.Time) {
	if t.After(h.linkAt[shell]) {
		h.linkAt[shell] = t
	}
}

// unlink drops a weak link of shell from the request that held it.
func (c *Correlator) unlink(h *host, shell string) {
	ref := h.linked[shell]
	for _, r := range h.reqs {
		if r.Ref == ref {
			r.shells = slices.DeleteFunc(r.shells, func(s string) bool { return s == shell })
		}
	}
}

// closer reports whether a is nearer to t than b.
func closer(a, b, t time.Time) bool {
	da, db := a.Sub(t), b.Sub(t)
	return max(da, -da) < max(db, -db)
}

// weakRank ranks the evidence of a weak link: the working directory (2)
// above time alone (1). A weak link is taken over only by better evidence,
// not by a nearer time: in whole seconds, a shell that started late for
// its request is as near the next request for the same page, and the
// shells of three POSTs to one page would go round by one
// (TestPostShellsStartLate).
func weakRank(ev []string) int {
	if slices.Contains(ev, "working_directory") {
		return 2
	}
	return 1
}

// weakCandidate says a weak link of p to r (score evidence ev) may be made:
// r is a script request, and no other script page explains p as well. A
// request that already started a shell does not compete (one request starts
// one shell), nor one without r's working-directory evidence, nor one for
// the same script: a POST web shell (China Chopper's eval of the request
// body, which no access log records, and the tools built on it) runs its
// commands in its own folder while the site's other pages are requested in
// the same seconds, and is sent many POSTs, not all of which start a shell.
// Among requests for the same script, the best score wins (the nearest in
// time), and the first of equals.
func (c *Correlator) weakCandidate(h *host, p *Process, r *Request, ev []string) bool {
	if !r.Script || len(ev) == 0 {
		return false
	}
	cwd := slices.Contains(ev, "working_directory")
	// Newest first: a competitor, when there is one, is usually among the
	// last requests, and the search stops there. From the oldest, a busy
	// site's (1,000 requests a second, a command of its own every 50 ms)
	// took a millisecond an event (BenchmarkBusySite).
	for _, o := range slices.Backward(h.reqs) {
		if &o.Request == r || !o.Script || o.Ref == r.Ref || len(o.shells) > 0 || o.Path == r.Path {
			continue
		}
		if s, oev := c.score(&o.Request, p); s > 0 && (!cwd || slices.Contains(oev, "working_directory")) {
			return false
		}
	}
	return true
}

// AddProcess records a process under a web server and returns its link:
// inherited from its shell when the shell is linked, else the best request
// held. ok is false when no request explains it yet; the shell is then held
// for a request that arrives later.
func (c *Correlator) AddProcess(hostName string, p Process) (Link, bool) {
	links := c.AddProcessAll(hostName, p)
	if len(links) == 0 {
		return Link{}, false
	}
	return links[0], true
}

// AddProcessAll is AddProcess with the links that p's own makes for
// others: when p, a descendant of a shell not linked yet, carries its
// request's parameter, the shell and the descendants noted before p are
// linked too, after p's link.
func (c *Correlator) AddProcessAll(hostName string, p Process) []Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.host(hostName, p.Time)
	if ref, ok := h.linked[p.Shell]; ok {
		h.touchLink(p.Shell, p.Time)
		if h.weak[p.Shell] > 0 { // a request may take its shell over
			h.noteKid(p, c.opt.MaxPending)
		}
		return []Link{{Request: ref, Process: p.Ref, Evidence: []string{"parent_linked"}}}
	}
	if p.ID != p.Shell { // a descendant of an unlinked shell
		if links := c.linkByDescendant(h, p); links != nil {
			return links
		}
		h.noteKid(p, c.opt.MaxPending)
		return nil
	}
	best, bestScore, bestEv := c.bestRequest(h, &p)
	// A strong link is made now. A weak one is made on the working
	// directory (the held request is for a script in the shell's folder:
	// the access log writes a request when it completes, after its shells,
	// but the beat's two inputs do not keep that order: TestLivePostShell
	// saw a POST web shell's request before its shell), and in a hunt
	// (InOrder), where the request comes first, on time too. Live, a
	// time-only candidate held here is usually an earlier request; the
	// process waits for AddRequest instead. Requests are held in the order
	// they came, and the first of equal candidates is taken: the shells of
	// a page sent many POSTs are linked to them in turn. A later request
	// that explains the shell better takes it over (AddRequest).
	if best != nil && bestScore >= strong {
		h.linked[p.Shell] = best.Ref
		h.touchLink(p.Shell, h.now)
		best.shells = append(best.shells, p.Shell)
		return []Link{{Request: best.Ref, Process: p.Ref, Evidence: bestEv, Score: bestScore}}
	}
	weak := best != nil && (c.opt.InOrder || slices.Contains(bestEv, "working_directory")) && c.weakCandidate(h, &p, &best.Request, bestEv)
	if len(h.procs) >= c.opt.MaxPending {
		h.procs = h.procs[1:]
		c.Dropped++
	}
	h.procs = append(h.procs, &heldProc{Process: p, key: commandKey(p.CommandLine)})
	if !weak {
		return nil
	}
	h.linked[p.Shell] = best.Ref
	h.weak[p.Shell] = weakRank(bestEv)
	h.touchLink(p.Shell, h.now)
	best.shells = append(best.shells, p.Shell)
	return []Link{{Request: best.Ref, Process: p.Ref, Evidence: bestEv, Score: bestScore}}
}

// bestRequest returns the held request that explains p best, among those
// that started no shell yet (one request starts one shell, see AddRequest).
func (c *Correlator) bestRequest(h *host, p *Process) (best *heldReq, bestScore int, bestEv []string) {
	for _, r := range h.reqs {
		if len(r.shells) > 0 {
			continue
		}
		if s, ev := c.score(&r.Request, p); s > bestScore {
			best, bestScore, bestEv = r, s, ev
		}
	}
	return best, bestScore, bestEv
}

// The command of a request does not always run in the shell the web server
// started. PHP's mail() runs its sendmail_path through sh -c, and the
// disable_functions bypass of Chankro, AntSword's plugin and
// bypass_disablefunc.php sets LD_PRELOAD before calling it: the library's
// constructor runs the request's command in a child of that sendmail shell.
// The shell's own command line then holds no parameter of the request (and
// is ruled out by that, see score), but its child's does. So a parameter
// found in a descendant's command line links the shell too, as strongly as
// its own would, with evidence param_in_descendant; the descendant carries
// param_in_command_line beside parent_linked, its siblings parent_linked.

// descendantScore rates how well r explains the held shell by the first
// noted descendant that carries one of r's parameters, and returns that
// descendant's ref: only strong evidence counts, since time and the working
// directory are the shell's own to give. The first, not the best: had the
// request come first, that descendant would have linked it (AddProcessAll),
// and the request lists the same process in either order (sh -c 'id > out'
// rather than the id it runs).
func (c *Correlator) descendantScore(h *host, r *Request, shell *Process) (int, []string, int64) {
	k := h.kids[shell.Shell]
	if k == nil {
		return 0, nil, 0
	}
	kid := *shell // the web-server pids and names are the shell's
	for _, d := range k.carriers {
		kid.Ref, kid.ID, kid.Time, kid.CommandLine = d.ref, d.id, d.time, d.commandLine
		if s, ev := c.score(r, &kid); s >= strong && slices.Contains(ev, "param_in_command_line") {
			return s, descendantEvidence(ev), d.ref
		}
	}
	return 0, nil, 0
}

// descendantEvidence is the evidence of a shell linked by its descendant's
// command line (ev): param_in_descendant for param_in_command_line.
func descendantEvidence(ev []string) []string {
	out := make([]string, len(ev))
	for i, e := range ev {
		if e == "param_in_command_line" {
			e = "param_in_descendant"
		}
		out[i] = e
	}
	return out
}

// carrierEvidence marks, among a shell's kid links, the descendant whose
// command line carried the parameter (ref; 0 for none).
func carrierEvidence(links []Link, ref int64) []Link {
	if ref == 0 {
		return links
	}
	for i := range links {
		if links[i].Process == ref {
			links[i].Evidence = carried()
		}
	}
	return links
}

// carried is the evidence of the descendant whose command line carried its
// shell's request parameter: it follows its shell, and it is why the shell
// was linked (the detector lists it in the request, see listed).
func carried() []string { return []string{"parent_linked", "param_in_command_line"} }

// linkByDescendant links p's shell, not linked yet, to the held request
// whose parameter is in p's command line, if any: p's link first, then
// the shell's (when it is held) and those of the descendants noted before
// p; nil when no request has strong evidence.
func (c *Correlator) linkByDescendant(h *host, p Process) []Link {
	best, s, ev := c.bestRequest(h, &p)
	if best == nil || s < strong || !slices.Contains(ev, "param_in_command_line") {
		return nil
	}
	links := []Link{{Request: best.Ref, Process: p.Ref, Evidence: carried(), Score: s}}
	if i := slices.IndexFunc(h.procs, func(q *heldProc) bool { return q.Shell == p.Shell }); i >= 0 {
		links = append(links, Link{Request: best.Ref, Process: h.procs[i].Ref, Evidence: descendantEvidence(ev), Score: s})
		h.procs = slices.Delete(h.procs, i, i+1)
	}
	h.linked[p.Shell] = best.Ref
	h.touchLink(p.Shell, h.now)
	best.shells = append(best.shells, p.Shell)
	return append(links, h.kidLinks(p.Shell, best.Ref, true)...)
}

// Upload is a script file written under a web root.
type Upload struct {
	Time      time.Time
	Path      string
	Writer    string // the writing process's name
	WriterPID int
	ByWeb     bool // written by a web server or one of its descendants
	Used      bool
	Ref       int64
}

// Use is the first use of an upload.
type Use struct {
	Upload  Upload
	Kind    string // request | compiled | command_line
	Time    time.Time
	Request int64 // Ref of the request, for Kind request
	Process int64 // Ref of the process, for Kind compiled or command_line
}

func norm(p string) string {
	return strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
}

// virtualDirs are URL folders that a server serves from a folder whose path
// does not end with them: SharePoint serves its hive's TEMPLATE\LAYOUTS as
// /_layouts/ (/_layouts/15/ since SharePoint 2013, in every site, so
// /sites/hr/_layouts/15/ too) and its ISAPI folder as /_vti_bin/. Where a
// web shell lands there (ToolShell's spinstall0.aspx), its request names
// the file by the virtual path. The longer prefix of a folder comes first.
var virtualDirs = []struct{ url, dir string }{
	{"/_layouts/15/", "/template/layouts/"},
	{"/_layouts/16/", "/template/layouts/"},
	{"/_layouts/", "/template/layouts/"},
	{"/_vti_bin/", "/isapi/"},
}

// servesFile reports whether a request for urlPath asks for the file at
// key (both normalized): the file's path ends with the request's, as a web
// root serves its tree, or with the folder a virtual directory maps it to.
func servesFile(key, urlPath string) bool {
	if strings.HasSuffix(key, urlPath) {
		return true
	}
	for _, v := range virtualDirs {
		if i := strings.Index(urlPath, v.url); i >= 0 {
			return strings.HasSuffix(key, v.dir+urlPath[i+len(v.url):])
		}
	}
	return false
}

// AddUpload records a script written under a web root; a request for it
// held already (logged with a whole-second time just before the write was
// recorded) is its first use.
func (c *Correlator) AddUpload(hostName string, u Upload) (Use, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.host(hostName, u.Time)
	key := norm(u.Path)
	if _, ok := h.uploads[key]; ok {
		return Use{}, false // the same file written again (rename, chmod)
	}
	if len(h.uploads) >= c.opt.MaxUploads {
		for k := range h.uploads {
			delete(h.uploads, k)
			c.Dropped++
			break
		}
	}
	up := u
	h.uploads[key] = &up
	for _, r := range h.reqs {
		if r.Path != "" && servesFile(key, norm(r.Path)) && !r.Time.Before(u.Time.Add(-c.opt.Resolution)) {
			up.Used = true
			return Use{Upload: up, Kind: "request", Time: r.Time, Request: r.Ref}, true
		}
	}
	return Use{}, false
}

// UploadFor returns the upload a request path or file path names, if any.
func (c *Correlator) UploadFor(hostName, p string) (Upload, bool) {
	if p == "" {
		return Upload{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[hostName]
	if h == nil {
		return Upload{}, false
	}
	n := norm(p)
	if u, ok := h.uploads[n]; ok {
		return *u, true
	}
	for k, u := range h.uploads {
		if strings.HasPrefix(n, "/") && servesFile(k, n) {
			return *u, true
		}
	}
	return Upload{}, false
}

// RequestUse reports a request for an upload not used before.
func (c *Correlator) RequestUse(hostName string, r Request) (Use, bool) {
	return c.use(hostName, r.Path, "request", r.Time, r.Ref, 0, func(u *Upload) bool {
		return !r.Time.Before(u.Time.Add(-c.opt.Resolution))
	})
}

// CommandUse reports a process whose command line names an upload.
func (c *Correlator) CommandUse(hostName, cmd string, t time.Time, ref int64) (Use, bool) {
	c.mu.Lock()
	h := c.hosts[hostName]
	var hit string
	if h != nil {
		lc := norm(cmd)
		for k := range h.uploads {
			if strings.Contains(lc, k) {
				hit = k
				break
			}
		}
	}
	c.mu.Unlock()
	if hit == "" {
		return Use{}, false
	}
	return c.use(hostName, hit, "command_line", t, 0, ref, nil)
}

// Served records that a web-server process compiled or served a script
// (IIS writes <page>.aspx.<hash>.compiled when it first runs a page); a
// shell it starts soon after is taken as that script's. The first time for
// an upload, it is the upload's use.
func (c *Correlator) Served(hostName string, pid int, script string, t time.Time, ref int64) (Use, bool) {
	c.mu.Lock()
	h := c.host(hostName, t)
	h.served[pid] = servedScript{path: script, at: t}
	c.mu.Unlock()
	return c.use(hostName, script, "compiled", t, 0, ref, nil)
}

// ServedScript returns the script a web-server pid served last, within the
// reorder window before t.
func (c *Correlator) ServedScript(hostName string, pids []int, t time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[hostName]
	if h == nil {
		return "", false
	}
	for _, pid := range pids {
		if s, ok := h.served[pid]; ok && !t.Before(s.at) && t.Sub(s.at) <= c.opt.Reorder {
			if u, ok := h.uploads[norm(s.path)]; ok {
				return u.Path, true
			}
			for k, u := range h.uploads {
				if path.Base(k) == norm(s.path) {
					return u.Path, true
				}
			}
			return s.path, true
		}
	}
	return "", false
}

func (c *Correlator) use(hostName, p, kind string, t time.Time, req, proc int64, ok func(*Upload) bool) (Use, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[hostName]
	if h == nil || p == "" {
		return Use{}, false
	}
	n := norm(p)
	for k, u := range h.uploads {
		match := k == n || (strings.HasPrefix(n, "/") && servesFile(k, n)) || (!strings.Contains(n, "/") && path.Base(k) == n)
		if !match || u.Used || (ok != nil && !ok(u)) {
			continue
		}
		u.Used = true
		return Use{Upload: *u, Kind: kind, Time: t, Request: req, Process: proc}, true
	}
	return Use{}, false
}
