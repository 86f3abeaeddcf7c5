package detector

import (
	"cmp"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
	"webshellbeat/detection/ancestry"
	"webshellbeat/detection/correlate"
	"webshellbeat/detection/session"
)

// after runs the stateful steps that need the rule verdict: request links
// made by this request, uploads and their use, tuning and sessions. It
// returns the verdict (tuning may turn an alert into an event) and the
// derived documents.
func (d *Detector) after(ev *event, v Verdict) (Verdict, []Derived) {
	s := d.st
	doc := ev.doc
	var out []Derived
	if s.corr != nil {
		out = append(out, d.correlateAfter(ev)...)
	}
	if v == Alert {
		v = d.tune(ev, v, &out)
	}
	if ev.request != nil || (ev.hasLin && ev.lin.Web) {
		id := docID(doc, ev.host, ev.t)
		detection.Put(doc, "webshell.doc_id", id)
		h := &heldDoc{verdict: v, id: id}
		if ev.hasLin {
			h.shell = ev.lin.Self
		}
		h.procs = ev.reqProcs // the shells this request was linked to before now
		switch {
		case ev.request != nil || v == Alert:
			h.doc = doc
			if !s.unchanged {
				h.doc = cloneDoc(doc)
			}
			kind := heldAlert
			if ev.request != nil {
				kind = heldRequest
			}
			s.hold(ev.host, ev.ref, h, kind)
		default:
			// A process that raised no alert is held without its
			// document, so that a request logged after it still lists it
			// (webshell.processes); it gets no copy of its own.
			s.hold(ev.host, ev.ref, h, heldQuiet)
		}
	}
	// This process linked its shell to a request seen before (it is the
	// shell, or carries the request's parameter): the request's document
	// now lists it; send an updated copy. The processes seen before it that
	// its link reached get copies too.
	if ev.link != nil {
		s.heldMu.Lock()
		if r := s.held[ev.link.Request]; r != nil && r.doc != nil && listed(ev.link.Evidence) {
			r.procs = append(r.procs, ev.lin.Self)
			up := cloneDoc(r.doc)
			putProcesses(up, r.procs)
			out = append(out, d.update(up, r.id, r.verdict))
			copies, _ := d.linkedCopies(ev.otherLinks, r.doc)
			out = append(out, copies...)
		}
		s.heldMu.Unlock()
	}
	return v, out
}

func (d *Detector) update(doc map[string]any, id string, v Verdict) Derived {
	detection.Put(doc, "webshell.update_of", id)
	d.routeVerdict(doc, v)
	return Derived{Doc: doc, Verdict: v}
}

func (d *Detector) routeVerdict(doc map[string]any, v Verdict) {
	if v == Alert {
		d.route(doc, "webshellbeat.alert")
	} else {
		d.route(doc, "webshellbeat.event")
	}
}

func (d *Detector) correlateAfter(ev *event) []Derived {
	s := d.st
	doc := ev.doc
	var out []Derived
	if r := ev.request; r != nil {
		// Shells that arrived before this request.
		links := s.corr.AddRequest(ev.host, *r)
		s.heldMu.Lock()
		copies, shells := d.linkedCopies(links, doc)
		out = append(out, copies...)
		ev.reqProcs = append(ev.reqProcs, shells...)
		s.heldMu.Unlock()
		if len(ev.reqProcs) > 0 {
			putProcesses(doc, ev.reqProcs)
		}
		// Sessions of requests are keyed by URL path; the file, when an
		// upload names it, is shown in webshell.script.path.
		ev.script, ev.site = r.Path, siteOf(doc)
		if u, ok := s.corr.UploadFor(ev.host, r.Path); ok && r.Script {
			detection.Put(doc, "webshell.script.path", u.Path)
		}
		ev.command = "request:" + strconv.FormatInt(ev.ref, 10)
		if use, ok := s.corr.RequestUse(ev.host, *r); ok {
			out = append(out, d.uploadAlert(ev, use))
		}
	}
	fp := str(doc, "file.path")
	if fp != "" && has(doc, "event.category", "file") {
		lp := lowerSlash(fp)
		writerWeb := ev.hasLin && (ev.lin.Web || ev.lin.Self.WebServer)
		switch {
		case strings.Contains(lp, "temporary asp.net files/") && strings.HasSuffix(lp, ".compiled") && ev.hasLin && ev.lin.Self.WebServer:
			// IIS compiled a page the first time it ran it: <page>.<hash>.compiled.
			base := strings.TrimSuffix(path.Base(lp), ".compiled")
			base = strings.TrimSuffix(base, path.Ext(base))
			if use, ok := s.corr.Served(ev.host, ev.lin.Self.PID, base, ev.t, ev.ref); ok {
				use.Process = ev.ref
				out = append(out, d.uploadAlertServed(ev, use))
			}
		case s.exts[path.Ext(lp)] && d.underWebRoot(doc, lp):
			if ev.script == "" {
				// A new script is its own session: the writer's other work
				// (a worker's earlier pages, its server's root session) is
				// not what it is doing now, and the upload is no later step
				// of it, to be lowered as such. But a burst of them by one
				// writer (a CMS extracting a plugin) is one session.
				ev.script = fp
				ev.sessionScript = s.bursts.Key(writerKey(ev), fp, ev.t)
			}
			u := correlate.Upload{Time: ev.t, Path: fp, Writer: str(doc, "process.name"), WriterPID: num(doc, "process.pid"), ByWeb: writerWeb, Ref: ev.ref}
			detection.Put(doc, "webshell.upload", map[string]any{"path": fp, "by_webserver": writerWeb})
			if use, ok := s.corr.AddUpload(ev.host, u); ok {
				out = append(out, d.uploadAlert(ev, use))
			}
		}
	}
	if ev.hasLin && ev.lin.Web && ev.kind == ancestry.Start {
		if use, ok := s.corr.CommandUse(ev.host, str(doc, "process.command_line"), ev.t, ev.ref); ok {
			out = append(out, d.uploadAlert(ev, use))
		}
	}
	return out
}

// listed says whether a request lists the process linked with evidence ev
// among the processes it started (webshell.processes): the shell it
// started, not the shell's descendants, but for the descendant that ran its
// command when the shell did not (PHP's sendmail shell, see
// correlate.descendantScore), which it lists instead of that shell.
func listed(ev []string) bool {
	if slices.Contains(ev, "param_in_command_line") {
		return true
	}
	return !slices.Contains(ev, "parent_linked") && !slices.Contains(ev, "param_in_descendant")
}

// linkedCopies returns the updated copies of the held alerts of processes
// that links tie to request document req, and the processes among them
// that the request lists (see listed). heldMu is held.
func (d *Detector) linkedCopies(links []correlate.Link, req map[string]any) (out []Derived, shells []ancestry.Process) {
	for _, l := range links {
		p := d.st.held[l.Process]
		if p == nil {
			continue
		}
		if listed(l.Evidence) {
			shells = append(shells, p.shell)
		}
		if p.doc != nil && p.verdict == Alert {
			up := cloneDoc(p.doc)
			putRequest(up, req, l)
			out = append(out, d.update(up, p.id, p.verdict))
		}
	}
	return out, shells
}

func (d *Detector) underWebRoot(doc map[string]any, lp string) bool {
	if has(doc, "tags", "webroot") || str(doc, "auditd.data.key") == "webroot" {
		return true
	}
	return d.inWebRoot(lp)
}

// inWebRoot says whether lp (lowered, with forward slashes) is under one of
// correlation.web_roots.
func (d *Detector) inWebRoot(lp string) bool {
	for _, r := range d.cfg.Correlation.WebRoots {
		if strings.Contains(lp, lowerSlash(r)) {
			return true
		}
	}
	return false
}

func (d *Detector) uploadAlertServed(ev *event, use correlate.Use) Derived {
	return d.uploadAlert(ev, use)
}

// uploadAlert is the one escalating alert of an upload and its first use.
func (d *Detector) uploadAlert(ev *event, use correlate.Use) Derived {
	u := use.Upload
	doc := map[string]any{"@timestamp": use.Time}
	if ev.host != "" {
		detection.Put(doc, "host.name", str(ev.doc, "host.name"))
	}
	detection.Put(doc, "event.category", []string{"file", "intrusion_detection"})
	detection.Put(doc, "event.type", []string{"creation", "info"})
	detection.Put(doc, "event.module", "webshellbeat")
	detection.Put(doc, "event.dataset", "webshellbeat.correlation")
	detection.Put(doc, "file.path", u.Path)
	detection.Put(doc, "file.name", path.Base(strings.ReplaceAll(u.Path, `\`, "/")))
	detection.Put(doc, "webshell.upload", map[string]any{
		"time": u.Time, "path": u.Path, "by_webserver": u.ByWeb,
		"process": map[string]any{"name": u.Writer, "pid": u.WriterPID},
	})
	useF := map[string]any{"kind": use.Kind, "time": use.Time}
	s := d.st
	script, site := u.Path, ""
	s.heldMu.Lock()
	if use.Kind == "request" && ev.request != nil && use.Request == ev.ref {
		putRequest(doc, ev.doc, correlate.Link{Evidence: []string{"url_path_names_upload"}})
		script, site = ev.request.Path, siteOf(ev.doc)
	} else if r := s.held[use.Request]; use.Request != 0 && r != nil && r.doc != nil {
		putRequest(doc, r.doc, correlate.Link{Evidence: []string{"url_path_names_upload"}})
		script, site = str(r.doc, "url.path"), siteOf(r.doc)
	}
	s.heldMu.Unlock()
	if use.Kind != "request" {
		useF["process"] = map[string]any{"name": str(ev.doc, "process.name"), "pid": num(ev.doc, "process.pid"),
			"command_line": str(ev.doc, "process.command_line"), "file": str(ev.doc, "file.path")}
	}
	detection.Put(doc, "webshell.use", useF)
	detection.Put(doc, "webshell.script.path", u.Path)
	level, why := "high", "written by "+u.Writer+" (not a web-server process)"
	if u.ByWeb {
		level, why = "critical", "written by the web server "+u.Writer
	}
	detection.MarkAlert(doc, []detection.RuleInfo{{
		ID: ruleUploadExecute, Title: "Script Written to a Web Root Then Executed", Level: level, Ruleset: "webshellbeat",
		Description: "A server-side script was written under a web root and then used (" + use.Kind + "): the upload and first run of a web shell.",
		Author:      "webshellbeat", Tags: []string{"attack.persistence", "attack.t1505.003", "attack.t1105"},
		References: []string{"https://attack.mitre.org/techniques/T1505/003/"},
	}})
	detection.Put(doc, "message", "Script "+u.Path+" "+why+" at "+u.Time.UTC().Format(time.RFC3339)+", then "+useText(use))
	detection.Put(doc, "webshell.doc_id", docID(doc, ev.host, use.Time))
	sub := &event{doc: doc, host: ev.host, t: use.Time, script: script, site: site, noCommand: true}
	v := d.tune(sub, Alert, nil)
	d.routeVerdict(doc, v)
	return Derived{Doc: doc, Verdict: v}
}

func useText(use correlate.Use) string {
	switch use.Kind {
	case "request":
		return "requested over HTTP"
	case "compiled":
		return "compiled and run by the web server"
	}
	return "run by a process under the web server"
}

// tune applies exceptions, the baseline and sessions to an alert.
func (d *Detector) tune(ev *event, v Verdict, out *[]Derived) Verdict {
	s := d.st
	doc := ev.doc
	if f := str(doc, "log.origin.file.name"); ev.script == "" && f != "" {
		// A PHP message names its script: the web shell whose system()
		// failed, so that its messages are one session.
		ev.script = f
		if str(doc, "webshell.script.path") == "" {
			detection.Put(doc, "webshell.script.path", f)
		}
	}
	sub := session.Subject{
		Host: str(doc, "host.name"), AppPool: str(doc, "webshell.webserver.app_pool"), Script: ev.script,
		CommandLine: str(doc, "process.command_line"), User: str(doc, "user.name"), RuleIDs: detection.LookupStrings(doc, "webshell.rule_ids"),
		Root: str(doc, "webshell.webserver.name"), Parent: str(doc, "process.parent.name"), Name: str(doc, "process.name"),
		Field: func(p string) []string { return fieldText(doc, p) },
	}
	if sub.Script == "" {
		sub.Script = str(doc, "url.path")
	}
	if d.duplicate(ev) || d.except(doc, sub) {
		return Event
	}
	if s.baseline != nil && sub.Name != "" && str(doc, "webshell.webserver.pid") != "" || (s.baseline != nil && sub.Name != "" && num(doc, "webshell.webserver.pid") > 0) {
		switch s.baseline.Observe(sub, ev.t) {
		case session.Learning:
			detection.Put(doc, "webshell.baseline", "learning")
		case session.New:
			detection.Put(doc, "webshell.baseline", "new")
		case session.Known:
			detection.Put(doc, "webshell.baseline", "known")
			if d.cfg.Baseline.Action == "suppress" {
				detection.Put(doc, "webshell.tuning", map[string]any{"action": "suppressed", "by": "baseline: shape seen during learning"})
				demote(doc)
				return Event
			}
			lower(doc, 21)
			detection.Put(doc, "webshell.tuning", map[string]any{"action": "lowered", "by": "baseline: shape seen during learning"})
		}
	}
	if s.sessions == nil {
		return v
	}
	key := session.Key{Host: ev.host, Script: strings.ToLower(cmp.Or(ev.sessionScript, ev.script)), Site: strings.ToLower(ev.site)}
	if key.Script == "" {
		inferred, _ := detection.Lookup(doc, "webshell.webserver.inferred")
		if sub.Root == "" && inferred != true {
			// Neither a script nor a web server behind it: not a web shell's
			// alert (a generic Sigma rule's: LSASS access, a new user), so
			// it belongs to no session. Folded into one per host, it would
			// be lowered as a later step of unrelated alerts.
			return v
		}
		key.Root = strings.ToLower(sub.Root + "|" + sub.AppPool)
		if inferred == true {
			key.Root = "inferred|" + strings.ToLower(sub.User)
		}
		// The folder the web server started the shell in tells web shells
		// apart where no request names the script yet (live, a command is
		// decided before the access log writes its request): PHP runs a
		// page in its own folder, so an upload folder's shell and a
		// backdoored page at the site's root are two sessions. Only a
		// folder under a web root says which page: w3wp's inetsrv or a
		// Tomcat's home says nothing, and a source without the folder
		// (Security 4688) must land in the same session as one with it.
		if ev.hasLin {
			if dir := shellFolder(shellOf(ev.lin).Cwd); dir != "" && d.inWebRoot(dir) {
				key.Root += "|" + dir
			}
		}
	}
	cmd := ev.command
	if cmd == "" && !ev.noCommand {
		cmd = "doc:" + strconv.FormatInt(ev.ref, 10)
	}
	text := sub.CommandLine
	if text == "" {
		text = str(doc, "url.original")
	}
	sev := num(doc, "event.severity")
	dec := s.sessions.Observe(key, ev.t, sev, cmd, text)
	detection.Put(doc, "webshell.session", map[string]any{
		"id": dec.ID, "first_seen": dec.FirstSeen, "last_seen": dec.LastSeen, "command_count": dec.CommandCount,
		"first": dec.First,
	})
	if key.Site != "" {
		detection.Put(doc, "webshell.session.site", key.Site)
	}
	if dec.First || dec.Escalated {
		if dec.Escalated {
			detection.Put(doc, "webshell.session.escalated", true)
		}
		return v
	}
	if d.cfg.Sessions.Mode == "summary" {
		demote(doc)
		detection.Put(doc, "webshell.tuning", map[string]any{"action": "folded", "by": "session " + dec.ID + ": summary mode"})
		if dec.Summary != nil && out != nil {
			*out = append(*out, d.summaryDoc(*dec.Summary))
		}
		return Event
	}
	lower(doc, d.cfg.Sessions.LaterSeverity)
	return v
}

// writerKey names the process that wrote a file, on its host, for
// session.Bursts: its entity id, else its pid and name; "" when the event
// names neither.
func writerKey(ev *event) string {
	if id := str(ev.doc, "process.entity_id"); id != "" {
		return ev.host + "|" + id
	}
	if pid := num(ev.doc, "process.pid"); pid > 0 {
		return ev.host + "|" + strconv.Itoa(pid) + "|" + str(ev.doc, "process.name")
	}
	return ""
}

// shellFolder is a working directory lowered, with forward slashes and a
// trailing slash (so that /var/www is under the web root /var/www/); ""
// when unknown.
func shellFolder(cwd string) string {
	if cwd == "" {
		return ""
	}
	return strings.TrimSuffix(lowerSlash(cwd), "/") + "/"
}

// lowerSlash is a path as file paths, folders and web roots are compared:
// lowered, with forward slashes.
func lowerSlash(p string) string { return strings.ToLower(strings.ReplaceAll(p, `\`, "/")) }

// duplicate suppresses an alert on a process start that already raised an
// alert from another source: Sysmon event 1 and Security 4688 (or Sysmon
// for Linux and auditd) of one start, on a host that logs both. The first
// report stays the alert; this one is indexed as an event that says which.
func (d *Detector) duplicate(ev *event) bool {
	doc := ev.doc
	if !detection.IsProcessStart(doc) {
		return false
	}
	source := str(doc, "event.provider")
	if source == "" {
		source = str(doc, "event.module")
	}
	pid := num(doc, "process.pid")
	start := session.Start{Host: ev.host, PID: pid, PPID: num(doc, "process.parent.pid"), Executable: str(doc, "process.executable")}
	first, at, dup := d.st.dups.Observe(start, source, ev.t)
	if !dup {
		return false
	}
	detection.Put(doc, "webshell.tuning", map[string]any{"action": "suppressed",
		"by": "duplicate: this start of pid " + strconv.Itoa(pid) + " raised an alert from " + first + " at " + at.UTC().Format(time.RFC3339Nano)})
	demote(doc)
	return true
}

// except applies the first exception that matches sub to the alert doc:
// lowered to low severity, or suppressed (demoted to an event, true).
func (d *Detector) except(doc map[string]any, sub session.Subject) (suppressed bool) {
	for i, e := range d.cfg.Exceptions {
		if !e.Matches(sub) {
			continue
		}
		why := "exceptions[" + strconv.Itoa(i) + "]"
		if e.Reason != "" {
			why += ": " + e.Reason
		}
		if e.Action == "lower" {
			lower(doc, 21)
			detection.Put(doc, "webshell.tuning", map[string]any{"action": "lowered", "by": why})
			return false
		}
		detection.Put(doc, "webshell.tuning", map[string]any{"action": "suppressed", "by": why})
		demote(doc)
		return true
	}
	return false
}

func lower(doc map[string]any, sev int) {
	if num(doc, "event.severity") > sev {
		detection.Put(doc, "event.severity", sev)
		detection.Put(doc, "event.risk_score", float64(sev))
	}
}

// demote turns an alert into an event that keeps its rule fields and says
// why it is not an alert (webshell.tuning).
func demote(doc map[string]any) {
	detection.Put(doc, "event.kind", "event")
}

func (d *Detector) summaryDoc(sum session.Summary) Derived {
	doc := map[string]any{"@timestamp": sum.LastSeen}
	if sum.Key.Host != "" {
		detection.Put(doc, "host.name", sum.Key.Host)
	}
	detection.Put(doc, "event.module", "webshellbeat")
	detection.Put(doc, "event.dataset", "webshellbeat.session")
	detection.Put(doc, "event.category", []string{"intrusion_detection"})
	detection.Put(doc, "event.type", []string{"info"})
	detection.Put(doc, "webshell.session", map[string]any{"id": sum.ID, "first_seen": sum.FirstSeen, "last_seen": sum.LastSeen,
		"command_count": sum.CommandCount, "folded_alerts": sum.Alerts, "commands": sum.Commands})
	if sum.Key.Script != "" {
		detection.Put(doc, "webshell.script.path", sum.Key.Script)
	}
	if sum.Key.Site != "" {
		detection.Put(doc, "webshell.session.site", sum.Key.Site)
	}
	detection.MarkAlert(doc, []detection.RuleInfo{{ID: ruleSessionSum, Title: "Web Shell Session Activity", Level: "low", Ruleset: "webshellbeat",
		Description: "More commands in a web-shell session already alerted on (summary mode).", Author: "webshellbeat",
		Tags: []string{"attack.persistence", "attack.t1505.003"}}})
	detection.Put(doc, "message", "Web shell session "+sum.ID+": "+strconv.Itoa(sum.Alerts)+" more alerts, "+strconv.Itoa(sum.CommandCount)+" commands in all")
	d.route(doc, "webshellbeat.alert")
	return Derived{Doc: doc, Verdict: Alert}
}

// Flush returns what is due at the end of a hunt or at shutdown: the
// correlation windows that ended before the last event time, and the
// session summaries of summary mode.
func (d *Detector) Flush() []Derived {
	out := d.flushCorrelations()
	if d.st == nil || d.st.sessions == nil {
		return out
	}
	for _, s := range d.st.sessions.Flush() {
		out = append(out, d.summaryDoc(s))
	}
	return out
}
