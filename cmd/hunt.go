package cmd

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/elastic/beats/v7/libbeat/cfgfile"
	"github.com/spf13/cobra"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/docid"
	"webshellbeat/hunt"
	"webshellbeat/module/errorlog"
)

// hunt.Run finds the detector's own documents through this interface: a
// method that no longer matches it would make them vanish without a build
// error.
var _ hunt.DerivingDetector = (*detector.Detector)(nil)

// exitUsage and exitInput are hunt's exit statuses for errors; 0 means it ran,
// whether or not it found something.
const (
	exitInput = 1
	exitUsage = 2
)

// maxErrorsShown is how many unreadable records hunt prints one by one; the
// rest are counted per file.
const maxErrorsShown = 20

// huntOptions are hunt's flags.
type huntOptions struct {
	format, config string
	rules          []string
	builtin        bool   // --builtin: the pack too when --rules is given
	from, to       string // --from, --to as given
	minLevel       string // --min-level
	host           string // --host
	timezone       string // --timezone
	namespace      string // --namespace
	events         bool   // --events
	// excludeStatus is --exclude-status when given (nil: the configuration's).
	excludeStatus []string
}

func huntCommand() *cobra.Command {
	var o huntOptions
	c := &cobra.Command{
		Use:   "hunt PATH...",
		Short: "Hunt for web shells offline in log files and folders (EVTX, event XML, JSON, audit.log, access and error logs, Sysmon for Linux syslog)",
		Long: `Reads files, folders (recursively), zip, tar and tar.gz/.tgz archives, and files
compressed with gzip, bzip2, xz or zstd, each recognised by content (EVTX, event XML,
JSON of winlogbeat, Elasticsearch, Splunk or Sentinel exports, PowerShell's
Get-WinEvent as JSON or CSV, audit.log, ausearch output and LAUREL's JSON,
Apache/nginx/IIS access logs (also nginx's, Caddy's and Traefik's JSON), Apache,
nginx, php-fpm, PHP and Tomcat error logs, Docker and CRI container logs,
ModSecurity's audit log, Sysmon text, syslog, systemd journal files, Sentinel,
Splunk, EvtxECmd and Event Viewer CSV), with the beat's own mappers and detector, as
one stream in event-time order, and prints the alerts. No Elasticsearch needed. A
truncated archive is read up to the cut and the cut is reported as an unreadable
record. A PATH of - reads standard input (zcat access.log.*.gz | webshellbeat hunt -),
named "stdin"; so is a pipe given as a PATH (<(zcat ...)). A PATH that is a pattern
and no file (C:\Logs\*.evtx, which Windows' shells pass on unexpanded) is expanded.

--from and --to show only the alerts of that span of event time; every event is
still read and detected, so that process ancestry, request links and correlation
windows that begin before --from are whole.

A path that cannot be read (missing, not permitted, or a named file that is no log
format hunt reads) is reported and the other paths are hunted.

Exit status: 0 when it ran (found something or not), 1 when a path could not be read
(the others were), 2 on a usage or configuration error.`,
		Args: cobra.MinimumNArgs(1),
		Run: func(cmd *cobra.Command, args []string) {
			if cmd.Flags().Changed("exclude-status") && o.excludeStatus == nil {
				o.excludeStatus = []string{} // --exclude-status "": every status
			}
			if err := configFlag(cmd, &o); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "hunt: %v\n", err)
				os.Exit(exitUsage)
			}
			os.Exit(runHunt(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, o))
		},
	}
	c.Flags().StringVar(&o.format, "format", "table", "output: table (readable), ndjson (one ECS alert document per line), bulk (ndjson with Elasticsearch's _bulk create lines, for curl --data-binary into the alert data stream) or csv (one row per alert, values whole)")
	c.Flags().BoolVar(&o.events, "events", false, "with --format ndjson or bulk, also write every event read that is not an alert, and the events the detector derives (a request's updated copy listing its shell), as they come (bulk: into logs-webshellbeat.event-NAMESPACE), before the alerts: to load a whole case")
	c.Flags().StringVar(&o.namespace, "namespace", "", "the data stream namespace of the documents (data_stream.namespace, and --format bulk's logs-webshellbeat.alert-NAMESPACE and logs-webshellbeat.event-NAMESPACE); default: --config's, else default")
	c.Flags().StringVar(&o.config, "config", "", "webshellbeat.yml whose webshell processor settings to use (-c names it as for run: relative to --path.config); default: none, the built-in settings")
	c.Flags().StringArrayVar(&o.rules, "rules", nil, "Sigma rule file or folder, repeatable; replaces the built-in pack")
	c.Flags().BoolVar(&o.builtin, "builtin", false, "with --rules, also run webshellbeat's built-in pack (so that correlation and filter rules may name its rules)")
	c.Flags().StringVar(&o.from, "from", "", "show alerts at or after this event time (RFC 3339, or a date: 2024-05-01, UTC)")
	c.Flags().StringVar(&o.to, "to", "", "show alerts before this event time (RFC 3339, or a date: the day is excluded)")
	c.Flags().StringVar(&o.host, "host", "", "host.name for records whose source names no host (access logs, audit logs without node=), as the beat gives them its own: joins them with that host's process events")
	c.Flags().StringVar(&o.timezone, "timezone", "UTC", "the zone of times that logs write without one (Apache's and nginx's error logs, Event Viewer's CSV): UTC, Local (this machine's) or an IANA name such as Europe/Berlin")
	c.Flags().StringVar(&o.minLevel, "min-level", "", "show alerts of this level or above: info, low, medium, high, critical (after tuning, which may lower an alert)")
	c.Flags().StringSliceVar(&o.excludeStatus, "exclude-status", nil, `leave out rules of these statuses (stable, test, experimental, deprecated, unsupported), comma-separated; "" runs every status (default: rules.exclude_status of --config, else deprecated,unsupported)`)
	return c
}

// configFlag takes the beat's -c, when given, as --config: a filebeat user
// types "hunt -c webshellbeat.yml", and hunt, which reads no configuration
// unless told, would otherwise hunt with the defaults and say nothing. The
// file is the one run and test config read for the same -c (relative to
// --path.config, else --path.home).
func configFlag(cmd *cobra.Command, o *huntOptions) error {
	if f := cmd.Flag("c"); f == nil || !f.Changed {
		return nil
	}
	file := cfgfile.GetDefaultCfgfile()
	if o.config != "" && o.config != file {
		return fmt.Errorf("-c %s and --config %s name two files: give one", file, o.config)
	}
	o.config = file
	return nil
}

// parseWhen reads --from or --to: an RFC 3339 time, or a date (UTC midnight).
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q is neither an RFC 3339 time (2024-05-01T10:00:00Z) nor a date (2024-05-01)", flag, s)
}

func runHunt(stdout, stderr io.Writer, paths []string, o huntOptions) int {
	if !slices.Contains([]string{"table", "ndjson", "bulk", "csv"}, o.format) {
		fmt.Fprintf(stderr, "hunt: --format %q is not one of table, ndjson, bulk, csv\n", o.format)
		return exitUsage
	}
	if o.events && o.format != "ndjson" && o.format != "bulk" {
		fmt.Fprintf(stderr, "hunt: --events writes documents: it needs --format ndjson or bulk\n")
		return exitUsage
	}
	from, err := parseWhen("from", o.from)
	if err != nil {
		fmt.Fprintf(stderr, "hunt: %v\n", err)
		return exitUsage
	}
	to, err := parseWhen("to", o.to)
	if err != nil {
		fmt.Fprintf(stderr, "hunt: %v\n", err)
		return exitUsage
	}
	if o.timezone == "" {
		o.timezone = "UTC"
	}
	zone, err := time.LoadLocation(o.timezone)
	if err != nil {
		fmt.Fprintf(stderr, "hunt: --timezone %q: %v\n", o.timezone, err)
		return exitUsage
	}
	minLevel := 0
	if o.minLevel != "" {
		if minLevel = slices.Index(levels, o.minLevel); minLevel < 0 {
			fmt.Fprintf(stderr, "hunt: --min-level %q is not one of %s\n", o.minLevel, strings.Join(levels, ", "))
			return exitUsage
		}
	}
	cfg := config.Default()
	if o.config != "" {
		if cfg, err = config.FromFile(o.config); err != nil {
			fmt.Fprintf(stderr, "hunt: %v\n", err)
			return exitUsage
		}
	}
	if o.namespace != "" {
		cfg.Namespace = o.namespace
		if err := cfg.Validate(); err != nil {
			fmt.Fprintf(stderr, "hunt: --namespace: %v\n", err)
			return exitUsage
		}
	}
	// A hunt starts from an empty process table and baseline: the beat's
	// saved state describes another stream.
	cfg.State = config.State{}
	// A hunt reads its files merged in time order (see correlate.Options.InOrder).
	cfg.Correlation.InOrder = true
	if len(o.rules) > 0 {
		// --rules replaces the rule sources only; pipelines, placeholders and
		// the selection stay as configured (reload is the beat's alone).
		cfg.Rules.Builtin, cfg.Rules.Paths = o.builtin, o.rules
	}
	if o.excludeStatus != nil {
		cfg.Rules.ExcludeStatus = slices.DeleteFunc(o.excludeStatus, func(s string) bool { return strings.TrimSpace(s) == "" })
		if err := cfg.Rules.Selection().Validate(); err != nil {
			fmt.Fprintf(stderr, "hunt: --exclude-status: %v\n", err)
			return exitUsage
		}
	}
	det, err := detector.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "hunt: %v\n", err)
		return exitUsage
	}
	for _, p := range det.Problems {
		fmt.Fprintf(stderr, "rule: %v\n", p)
	}
	det.AssumeUnchanged() // hunt writes the documents out as they are
	// An updated copy (webshell.update_of) replaces the alert it updates:
	// offline, the final state of each alert is what one wants to read. The
	// beat indexes both (a data stream is append-only).
	var alerts []map[string]any
	byID := map[string]int{}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	ids := newBulkIDs()
	onAlert := func(doc map[string]any) {
		if o.format == "bulk" {
			ids.keep(doc)
		}
		if of := detection.LookupString(doc, "webshell.update_of"); of != "" {
			if i, ok := byID[of]; ok {
				alerts[i] = doc
				return
			}
		}
		if id := detection.LookupString(doc, "webshell.doc_id"); id != "" {
			byID[id] = len(alerts)
		}
		alerts = append(alerts, doc)
	}
	errorsShown := 0
	unshown := map[string]int{} // per file, the unreadable records past the first maxErrorsShown
	onError := func(r hunt.Record) {
		if errorsShown < maxErrorsShown {
			fmt.Fprintf(stderr, "input: %s\n", visible(r.Err.Error()))
		} else {
			unshown[detection.LookupString(r.Doc, "log.file.path")]++
		}
		errorsShown++
	}
	opts := []hunt.Option{hunt.InZone(zone)}
	if o.events || o.format == "bulk" { // bulk counts every document of a file for the ids
		opts = append(opts, hunt.OnEvent(func(doc map[string]any) {
			if o.format == "bulk" {
				id := ids.next(doc)
				if !o.events {
					return
				}
				_ = enc.Encode(bulkAction(doc, id))
			}
			_ = enc.Encode(doc)
		}))
	}
	st, err := hunt.Run(paths, hunt.WithHost(det, o.host), onAlert, onError, opts...)
	status := 0
	if n := errorsShown - maxErrorsShown; n > 0 {
		fmt.Fprintf(stderr, "input: %d more unreadable records, not shown, by file: %s\n", n, visible(hunt.MostFirst(unshown, 5)))
	}
	if err != nil { // paths that could not be read; the others were
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "hunt: %s\n", line)
		}
		status = exitInput
	}
	all := len(alerts)
	alerts = inSpan(alerts, from, to)
	alerts = slices.DeleteFunc(alerts, func(a map[string]any) bool { return slices.Index(levels, levelName(a)) < minLevel })
	switch o.format {
	case "table":
		printTable(stdout, alerts)
	case "csv":
		_ = printCSV(stdout, alerts)
	case "bulk":
		for _, a := range alerts {
			_ = enc.Encode(bulkAction(a, ids.of(a)))
			_ = enc.Encode(a)
		}
	default:
		for _, a := range alerts {
			_ = enc.Encode(a)
		}
	}
	var given []string
	for _, f := range [][2]string{{"from", o.from}, {"to", o.to}, {"min-level", o.minLevel}} {
		if f[1] != "" {
			given = append(given, fmt.Sprintf("--%s %s", f[0], f[1]))
		}
	}
	if len(given) > 0 {
		fmt.Fprintf(stderr, "hunt: %d of %d alerts (final documents) shown: %s\n", len(alerts), all, strings.Join(given, " "))
	}
	if len(alerts) > 0 {
		fmt.Fprintf(stderr, "hunt: shown alerts by level: %s; by rule: %s\n", byLevel(alerts), topRules(alerts, 5))
	}
	if o.host == "" && st.NoHost > 0 && len(st.Hosts) == 1 {
		fmt.Fprintf(stderr, "hunt: %d events name no host (access logs, audit logs without node=) and the others name %s: if they are all from %[2]s, --host %[2]s joins their requests with its processes\n",
			st.NoHost, st.Hosts[0])
	}
	if n := len(st.Unrecognized); n > 0 {
		fmt.Fprintf(stderr, "hunt: %d %s skipped, not a log format hunt reads: %s\n", n, plural(n, "file"), visible(listSome(st.Unrecognized, 5)))
	}
	printSummary(stderr, det, st) // last, as scripts read it
	return status
}

// formText is a request body as a reader wants it: a form's escapes
// decoded ("cmd=cat /etc/passwd"), any other body as sent.
func formText(body, mime string) string {
	if mime != "" && mime != "application/x-www-form-urlencoded" {
		return body
	}
	if text, err := url.QueryUnescape(body); err == nil {
		return text
	}
	return body
}

// bulkAction is the _bulk line before an alert (or, with --events, an
// event): create (data streams take no other op) in the data stream its
// data_stream fields name, as the beat indexes it, with the _id id, so that
// loading the same output again adds nothing (the copies are refused as
// conflicts, 409).
func bulkAction(doc map[string]any, id string) map[string]any {
	ds := func(f string) string { return detection.LookupString(doc, "data_stream."+f) }
	return map[string]any{"create": map[string]any{"_index": ds("type") + "-" + ds("dataset") + "-" + ds("namespace"), "_id": id}}
}

// bulkIDs gives each document a deterministic _id: the one the beat's
// add_document_id gives the same record where the document names its record
// (a Windows record number, an audit serial, a file and offset, or what the
// detector derived it from: docid.Record), so that a record the beat
// indexed already is not added again; else its position in its file, the
// nth document read from it. Not the raw text, which two records may share
// (a stack trace's lines, the same request twice in a second): one of them
// would be refused as a copy of the other, and lost.
type bulkIDs struct {
	read map[string]int     // documents read per file
	kept map[uintptr]string // per alert (alerts are written at the end)
}

func newBulkIDs() *bulkIDs {
	return &bulkIDs{read: map[string]int{}, kept: map[uintptr]string{}}
}

// next gives doc its id; documents must come in the order they are read.
func (b *bulkIDs) next(doc map[string]any) string {
	if id, ok := docid.Record(doc); ok {
		return id
	}
	file := detection.LookupString(doc, "log.file.path")
	b.read[file]++
	return docid.Position(file, b.read[file])
}

// keep gives an alert its id and keeps it for of.
func (b *bulkIDs) keep(alert map[string]any) {
	b.kept[reflect.ValueOf(alert).Pointer()] = b.next(alert)
}

// of is the id keep gave alert.
func (b *bulkIDs) of(alert map[string]any) string { return b.kept[reflect.ValueOf(alert).Pointer()] }

// listSome joins the first top items: "a, b, c and 4 more".
func listSome(items []string, top int) string {
	s := strings.Join(items[:min(top, len(items))], ", ")
	if len(items) > top {
		s += fmt.Sprintf(" and %d more", len(items)-top)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// byLevel counts alerts per level, highest first: "high 8, low 3".
func byLevel(alerts []map[string]any) string {
	n := map[string]int{}
	for _, a := range alerts {
		n[levelName(a)]++
	}
	var parts []string
	for i := len(levels) - 1; i >= 0; i-- {
		if c := n[levels[i]]; c > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", levels[i], c))
		}
	}
	return strings.Join(parts, ", ")
}

// topRules counts alerts per rule (an alert counts for each of its rules)
// and lists the top ones, most first: "Rule A 5, Rule B 3, and 4 more".
func topRules(alerts []map[string]any, top int) string {
	n := map[string]int{}
	for _, a := range alerts {
		for _, r := range detection.LookupStrings(a, "rule.name") {
			n[r]++
		}
	}
	return hunt.MostFirst(n, top)
}

// inSpan keeps the alerts whose @timestamp is at or after from and before
// to (a zero bound is open).
func inSpan(alerts []map[string]any, from, to time.Time) []map[string]any {
	if from.IsZero() && to.IsZero() {
		return alerts
	}
	var out []map[string]any
	for _, a := range alerts {
		ts, _ := a["@timestamp"].(time.Time)
		if (!from.IsZero() && ts.Before(from)) || (!to.IsZero() && !ts.Before(to)) {
			continue
		}
		out = append(out, a)
	}
	return out
}

func printSummary(w io.Writer, det *detector.Detector, st hunt.Stats) {
	var formats []string
	for f, n := range st.Formats {
		formats = append(formats, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(formats)
	// Correlation rules are counted apart, as "rules check" and the reload
	// log do: det.Loaded counts detection rules only.
	left := ""
	if n := det.Rules().Left; n > 0 {
		left = fmt.Sprintf(" (%d more left out by level or status)", n)
	}
	fmt.Fprintf(w, "hunt: %d rules%s, %d correlation rules, %d files (%s), %d skipped, %d events, %d unreadable records, %d alerts, %d derived (correlations, updates, summaries)\n",
		det.Loaded, left, det.Rules().Correlations, st.Files, strings.Join(formats, ", "), len(st.Skipped), st.Events, st.Errors, st.Alerts, st.Derived)
}

// row is what the table and CSV show of one alert.
type row struct {
	time, level, host, user, who, what, session, link, file string
	rules, ruleIDs                                          []string
}

// alertRow reads the row of alert a: the process (parent -> child, or its
// ancestry) or the request's client, and what it ran or asked for.
func alertRow(a map[string]any) row {
	s := func(path string) string { return detection.LookupString(a, path) }
	ts, _ := a["@timestamp"].(time.Time)
	r := row{time: ts.UTC().Format(time.RFC3339), level: levelName(a), host: s("host.name"), user: s("user.name"),
		file: s("log.file.path"), session: s("webshell.session.id")}
	r.rules, r.ruleIDs = detection.LookupStrings(a, "rule.name"), detection.LookupStrings(a, "rule.id")
	r.who = s("process.name")
	if p := s("process.parent.name"); p != "" {
		r.who = p + " -> " + r.who
	}
	r.what = s("process.command_line")
	if u := s("url.original"); r.what == "" && u != "" {
		r.what, r.who = u, s("source.ip") // a request: its client
		if name := s("user.name"); name != "" {
			r.who = name + "@" + r.who // the account it logged in with (a Tomcat manager's)
		}
		if d := s("url.domain"); d != "" && strings.HasPrefix(u, "/") {
			r.what = d + u // the site, where one log holds several (Apache's other_vhosts_access.log)
		}
		if b := s("http.request.body.content"); b != "" { // a POST's body (ModSecurity's audit log)
			r.what += " <- " + formText(b, s("http.request.mime_type"))
		}
	}
	if r.what == "" {
		r.what = s("file.path")
		if threat := s("winlog.event_data.Threat Name"); threat != "" { // Microsoft Defender's detection
			r.what = threat + ": " + r.what
		}
	}
	if ip := s("destination.ip"); r.what == "" && ip != "" { // a connection
		r.what = "-> " + ip
		if port, _ := detection.Lookup(a, "destination.port"); port != nil {
			r.what = "-> " + net.JoinHostPort(ip, fmt.Sprint(port))
		}
		if d := s("destination.domain"); d != "" {
			r.what += " (" + d + ")"
		}
	}
	if r.what == "" {
		r.what = s("winlog.event_data.ScriptBlockText") // PowerShell 4104
	}
	if r.what == "" {
		r.what = strings.TrimSpace(s("event.original")) // an error log line, whole
		if d, ok := errorlog.ParsePrefixed(r.what, nil); ok && detection.LookupString(d, "message") != "" {
			r.what = detection.LookupString(d, "message") // without the time and level the row shows
		}
		if r.who == "" {
			r.who = s("source.ip") // its client, when the line names one
		}
	}
	if r.what == "" {
		r.what = s("message")
	}
	if anc, _ := detection.Lookup(a, "webshell.ancestry.name"); anc != nil {
		if names, ok := anc.([]string); ok && len(names) > 1 {
			names = append([]string(nil), names...)
			for i, n := range names {
				if n == "" {
					names[i] = "?"
				}
			}
			r.who = s("process.name") + " <- " + strings.Join(names, " <- ")
		}
	}
	r.link = s("webshell.request.url.original")
	if n, _ := detection.Lookup(a, "webshell.processes.count"); n != nil {
		r.link = fmt.Sprintf("%v process(es)", n)
	}
	return r
}

// printTable writes one line per alert, values clipped to fit a terminal.
func printTable(w io.Writer, alerts []map[string]any) {
	var t table
	t.add("TIME", "LEVEL", "RULE", "HOST", "WHO", "WHAT", "SESSION", "LINK")
	for _, a := range alerts {
		r := alertRow(a)
		rules := ""
		if len(r.rules) > 0 {
			rules = r.rules[0]
			if len(r.rules) > 1 {
				rules += fmt.Sprintf(" (+%d)", len(r.rules)-1)
			}
		}
		t.add(r.time, r.level, rules, r.host, clip(r.who, 60), clip(r.what, 80), detection.Truncate(r.session, 8), clip(r.link, 60))
	}
	t.write(w)
}

// printCSV writes one CSV record per alert with every value whole: all rule
// names and ids ("; "-joined), and the file the event came from, for
// spreadsheets and timeline tools.
func printCSV(w io.Writer, alerts []map[string]any) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"timestamp", "level", "rules", "rule_ids", "host", "user", "who", "what", "session", "link", "file"})
	for _, a := range alerts {
		r := alertRow(a)
		row := []string{r.time, r.level, strings.Join(r.rules, "; "), strings.Join(r.ruleIDs, "; "), r.host, r.user, r.who, r.what, r.session, r.link, r.file}
		for i := range row {
			row[i] = inertCell(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// inertCell keeps a spreadsheet from running a cell as a formula: a cell
// that begins with '=', '+', '-', '@', a tab or a carriage return gets a
// leading "'" (OWASP's CSV injection advice). The attacker writes these
// values (a command line, a request target, a user name), and the analyst
// opens the file in Excel. "-" alone and negative numbers are left as they
// are.
func inertCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if s == "-" || s[0] == '-' && len(s) > 1 && '0' <= s[1] && s[1] <= '9' && !strings.ContainsAny(s, "=+@") {
		return s
	}
	return "'" + s
}

// levels are the names levelName gives, lowest first.
var levels = []string{"info", "low", "medium", "high", "critical"}

func levelName(doc map[string]any) string {
	v, _ := detection.Lookup(doc, "event.severity")
	n, _ := v.(int)
	switch {
	case n >= 99:
		return "critical"
	case n >= 73:
		return "high"
	case n >= 47:
		return "medium"
	case n >= 21:
		return "low"
	}
	return "info"
}
