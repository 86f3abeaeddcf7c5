// Package accesslog maps web server access log lines (Apache/nginx combined,
// common and vhost_combined; IIS W3C extended) to nested ECS documents. It
// is a pure library: no I/O, no libbeat.
package accesslog

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
)

// ErrMalformed is wrapped by every parse error; test with errors.Is.
var ErrMalformed = errors.New("malformed access log line")

// ParseError says where (1-based byte column in the line, or line number
// for W3C files) and why a line could not be parsed.
type ParseError struct {
	Line int // 1-based line number when known (W3C), else 0
	Col  int // 1-based byte column, 0 when not about a position
	Msg  string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("line %d, col %d: %s", e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.Col > 0:
		return fmt.Sprintf("col %d: %s", e.Col, e.Msg)
	}
	return e.Msg
}

func (e *ParseError) Unwrap() error { return ErrMalformed }

func perr(col int, format string, args ...any) error {
	return &ParseError{Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Option configures the parsers.
type Option func(*options)

type options struct {
	server string
	named  bool // WithServer gave the server: JSON objects do not override it
}

// WithServer sets event.module and event.dataset ("<server>.access"):
// "apache" (the default for combined/common), "nginx" (for JSON, unless the
// object's layout is Caddy's or Traefik's), "iis", "tomcat", "caddy",
// "traefik" or "lighttpd" (whose default format writes the host it served,
// %V, in the ident column: it becomes url.domain and url.port). An empty
// name keeps the default.
func WithServer(name string) Option {
	return func(o *options) {
		if name != "" {
			o.server, o.named = strings.ToLower(name), true
		}
	}
}

func buildOptions(def string, opts []Option) options {
	o := options{server: def}
	for _, f := range opts {
		f(&o)
	}
	return o
}

const clfTime = "02/Jan/2006:15:04:05 -0700"

// clf holds the fields of a combined/common line, as substrings of it.
type clf struct {
	vhost     string
	ident     string
	xff       []string
	client    string
	user      string
	stamp     time.Time
	method    string
	target    string
	version   string
	status    int64
	bytes     int64
	hasBytes  bool
	referrer  string
	mime      string // the request's Content-Type (JSON logs only)
	agent     string
	hasAgent  bool // the combined part ("referrer" "agent") was present
	extraQuot int  // quoted fields after the user agent
}

// ParseCombined parses one Apache/nginx access log line in the "combined",
// "common" or "vhost_combined" format (also with an X-Forwarded-For list in
// front, as nginx setups often log) into a nested ECS document.
func ParseCombined(line string, opts ...Option) (map[string]any, error) {
	o := buildOptions("apache", opts)
	var c clf
	if err := c.parse(line); err != nil {
		return nil, err
	}
	return c.doc(o), nil
}

// findStamp finds the bracketed time after a space: Apache's and nginx's
// "[dd/Mon/yyyy:hh:mm:ss +zzzz]", or nginx's $time_iso8601
// "[yyyy-mm-ddThh:mm:ss+hh:mm]" that custom formats log instead. It
// returns the positions of the brackets, or -1.
func findStamp(line string) (open, end int) {
	for i := 0; i < len(line); {
		k := strings.IndexByte(line[i:], '[')
		if k < 0 {
			break
		}
		k += i
		if k > 0 && line[k-1] == ' ' {
			if len(line) >= k+1+len(clfTime)+1 && line[k+1+len(clfTime)] == ']' && line[k+3] == '/' {
				return k, k + 1 + len(clfTime)
			}
			// ISO 8601: at least "yyyy-mm-ddThh:mm:ssZ", at most with
			// nanoseconds and a "+hh:mm" zone.
			if j := strings.IndexByte(line[k:min(len(line), k+38)], ']'); j >= 21 && line[k+5] == '-' && line[k+11] == 'T' {
				return k, k + j
			}
		}
		i = k + 1
	}
	return -1, -1
}

func (c *clf) parse(line string) error {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return perr(0, "empty line")
	}
	if i := firstBinary(line); i >= 0 {
		return perr(i+1, "binary byte 0x%02x: not a text log line", line[i])
	}
	open, end := findStamp(line)
	if open < 0 {
		if strings.HasPrefix(line, "[") || strings.Contains(line, "[error]") {
			return perr(1, "not an access log line (error log format?)")
		}
		return perr(0, "no [dd/Mon/yyyy:hh:mm:ss +zzzz] timestamp")
	}
	stamp := line[open+1 : end]
	ts, err := time.Parse(clfTime, stamp)
	if err != nil && stamp[4] == '-' {
		ts, err = time.Parse(time.RFC3339Nano, stamp)
	}
	if err != nil {
		return perr(open+2, "bad timestamp %q: %v", stamp, err)
	}
	c.stamp = ts.UTC()

	if err := c.parsePrefix(line[:open-1]); err != nil {
		return err
	}

	pos := end + 1 // after ']'
	if pos >= len(line) || line[pos] != ' ' || pos+1 >= len(line) || line[pos+1] != '"' {
		return perr(pos+1, "expected a quoted request after the timestamp")
	}
	reqStart := pos + 2
	reqEnd := closingQuote(line, reqStart)
	if reqEnd < 0 {
		return perr(pos+2, "request quote never closed (truncated line?)")
	}
	req := line[reqStart:reqEnd]
	rest := line[reqEnd+1:]
	restCol := reqEnd + 2

	// status and bytes
	rest = strings.TrimLeft(rest, " ")
	statusTok, rest := nextToken(rest)
	st, err := strconv.ParseInt(statusTok, 10, 64)
	if err != nil || st < 100 || st > 999 {
		return perr(restCol+1, "status %q is not a 3-digit HTTP status", detection.Clip(statusTok, 20))
	}
	c.status = st
	rest = strings.TrimLeft(rest, " ")
	if rest != "" && rest[0] != '"' {
		var bytesTok string
		bytesTok, rest = nextToken(rest)
		if bytesTok != "-" {
			n, err := strconv.ParseInt(bytesTok, 10, 64)
			if err != nil || n < 0 {
				return perr(len(line)-len(rest)-len(bytesTok)+1, "response size %q is not a number or \"-\"", detection.Clip(bytesTok, 20))
			}
			c.bytes, c.hasBytes = n, true
		}
	}

	// The request line is checked after status so the message can name it,
	// and its error is returned last so Detect still sees the whole shape.
	reqErr := c.parseRequest(req, reqStart+1)

	// combined: "referrer" "user agent" [more quoted or bare fields]
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return reqErr
	}
	restCol = len(line) - len(rest) + 1
	ref, rest, ok := quoted(rest)
	if !ok {
		return perr(restCol, "expected a quoted referrer after the response size")
	}
	c.referrer = ref
	rest = strings.TrimLeft(rest, " ")
	if rest == "" {
		return perr(len(line)+1, "referrer without a user agent (truncated line?)")
	}
	restCol = len(line) - len(rest) + 1
	ua, rest, ok := quoted(rest)
	if !ok {
		return perr(restCol, "expected a quoted user agent after the referrer")
	}
	c.agent, c.hasAgent = ua, true
	var first string // the first field after the user agent
	for rest = strings.TrimLeft(rest, " "); rest != ""; rest = strings.TrimLeft(rest, " ") {
		var field string
		if rest[0] == '"' {
			var ok bool
			field, rest, ok = quoted(rest)
			if !ok {
				return perr(len(line)-len(rest)+1, "quote never closed (truncated line?)")
			}
		} else {
			field, rest = nextToken(rest)
		}
		if c.extraQuot == 0 {
			first = field
		}
		c.extraQuot++
	}
	if c.xff == nil {
		// nginx's default "main" format ends with "$http_x_forwarded_for".
		c.xff = ipList(first)
	}
	return reqErr
}

// ipList reads an X-Forwarded-For value ("a, b"); nil unless every element
// is an IP address, so that another trailing field is not taken for one.
func ipList(s string) []string {
	var list []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if _, err := netip.ParseAddr(h); err != nil {
			return nil
		}
		list = append(list, h)
	}
	return list
}

// parsePrefix reads "[vhost[:port]] [\"xff list\"|xff, list,] client ident user".
func (c *clf) parsePrefix(p string) error {
	var toks []string
	for p = strings.TrimLeft(p, " "); p != ""; p = strings.TrimLeft(p, " ") {
		if p[0] == '"' {
			v, rest, ok := quoted(p)
			if !ok {
				return perr(1, "unterminated quote before the timestamp")
			}
			toks = append(toks, "\""+v)
			p = rest
			continue
		}
		var t string
		t, p = nextToken(p)
		toks = append(toks, t)
	}
	switch len(toks) {
	case 0:
		return perr(1, "no client address before the timestamp")
	case 1:
		c.client = toks[0] // "client [ts]": no ident/user at all
		return nil
	case 2:
		c.client, c.user = toks[0], toks[1] // a missing ident column
	default:
		c.user, c.ident = toks[len(toks)-1], toks[len(toks)-2]
		hosts := toks[:len(toks)-2]
		// X-Forwarded-For style lists: "a, b, c" quoted or bare with commas.
		var list []string
		i := 0
		if strings.HasPrefix(hosts[0], "\"") {
			for _, h := range strings.Split(hosts[0][1:], ",") {
				if h = strings.TrimSpace(h); h != "" {
					list = append(list, h)
				}
			}
			i = 1
		} else {
			for i < len(hosts) && strings.HasSuffix(hosts[i], ",") {
				list = append(list, strings.TrimSuffix(hosts[i], ","))
				i++
			}
			if len(list) > 0 && i < len(hosts) {
				list = append(list, hosts[i])
				i++
			}
		}
		c.xff = list
		switch rem := hosts[i:]; len(rem) {
		case 0:
			if len(list) > 0 {
				c.client = list[0]
			}
		case 1:
			c.client = rem[0] // "xff-list client": the list is what the client claims
		case 2:
			c.vhost, c.client = rem[0], rem[1]
		default:
			return perr(1, "%d host fields before ident and user; expected client or vhost client", len(rem))
		}
	}
	if c.client == "" {
		return perr(1, "no client address before the timestamp")
	}
	if c.user == "-" {
		c.user = ""
	}
	return nil
}

func (c *clf) parseRequest(req string, col int) error {
	if req == "" || req == "-" {
		// No request arrived: a connection closed or timed out (Apache
		// "-" 408) or sent nothing (nginx "" 400). The line is a whole
		// record of that, mapped as filebeat's apache and nginx modules map
		// it: no method or URL, the status and the client.
		return nil
	}
	if strings.HasPrefix(req, `\x16\x03`) {
		return perr(col, "request %q: a TLS handshake sent to a plain-HTTP port", detection.Clip(req, 40))
	}
	sp := strings.IndexByte(req, ' ')
	if sp <= 0 {
		return perr(col, "request %q has no method and target", detection.Clip(req, 40))
	}
	method := req[:sp]
	for i := 0; i < len(method); i++ {
		ch := method[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			what := "not an HTTP method"
			if strings.HasPrefix(req, `\x`) {
				what = "escaped binary bytes, not an HTTP request"
			}
			return perr(col+i, "request %q: %s", detection.Clip(req, 40), what)
		}
	}
	c.method = method
	target := strings.TrimLeft(req[sp+1:], " ")
	if k := strings.LastIndexByte(target, ' '); k >= 0 && strings.HasPrefix(target[k+1:], "HTTP/") {
		c.version = target[k+1+len("HTTP/"):]
		target = strings.TrimRight(target[:k], " ")
	}
	if target == "" {
		return perr(col+sp+1, "request %q has no target", detection.Clip(req, 40))
	}
	c.target = target
	return nil
}

func (c *clf) doc(o options) map[string]any {
	event := map[string]any{
		"kind":     "event",
		"category": []string{"web"},
		"type":     []string{"access"},
		"module":   o.server,
		"dataset":  o.server + ".access",
	}
	if c.status < 400 {
		event["outcome"] = "success"
	} else {
		event["outcome"] = "failure"
	}
	doc := map[string]any{
		"@timestamp": c.stamp,
		"event":      event,
	}
	if src := endpoint(c.client); src != nil {
		doc["source"] = src
	}
	if c.user != "" {
		doc["user"] = map[string]any{"name": c.user}
	}
	req := map[string]any{}
	if c.method != "" {
		req["method"] = c.method
	}
	if c.referrer != "" && c.referrer != "-" {
		req["referrer"] = c.referrer
	}
	if c.mime != "" && c.mime != "-" {
		req["mime_type"] = c.mime
	}
	resp := map[string]any{"status_code": c.status}
	if c.hasBytes {
		resp["body"] = map[string]any{"bytes": c.bytes}
	}
	http := map[string]any{"response": resp}
	if len(req) > 0 {
		http["request"] = req
	}
	if c.version != "" {
		http["version"] = c.version
	}
	doc["http"] = http
	if c.target == "" { // no request line
		return c.clientFields(doc, o)
	}
	u, ws := urlFields(c.target, "")
	HostFields(u, c.vhost)
	if o.server == "lighttpd" && c.ident != "-" {
		HostFields(u, c.ident)
	}
	doc["url"] = u
	if ws != nil {
		doc["webshell"] = map[string]any{"url": ws}
	}
	return c.clientFields(doc, o)
}

// clientFields adds the user agent and the forwarded-for list.
func (c *clf) clientFields(doc map[string]any, o options) map[string]any {
	if c.agent != "" && c.agent != "-" {
		doc["user_agent"] = map[string]any{"original": c.agent}
	}
	if len(c.xff) > 0 {
		doc[o.server] = map[string]any{"access": map[string]any{"remote_ip_list": c.xff}}
	}
	return doc
}

// URLFields returns the url.* fields of a request target, and the
// webshell.url.* fields of its query parameters (nil without any), as the
// access-log mappers set them: for documents mapped elsewhere (module/ecs).
func URLFields(target string) (u map[string]any, ws map[string]any) { return urlFields(target, "") }

// urlFields builds url.* from a request target (origin-form "/p?q" or
// absolute-form "http://host/p?q"), and the webshell.url.* params. query
// overrides the target's query when non-empty (IIS logs them apart).

func urlFields(target, query string) (u map[string]any, ws map[string]any) {
	u = map[string]any{"original": target}
	p := target
	if i := strings.Index(p, "://"); i > 0 && !strings.ContainsAny(p[:i], "/?") {
		u["scheme"] = strings.ToLower(p[:i])
		rest := p[i+3:]
		end := strings.IndexAny(rest, "/?")
		hostport := rest
		if end >= 0 {
			hostport, p = rest[:end], rest[end:]
		} else {
			p = "/"
		}
		host, port := splitHostPort(hostport)
		if host != "" {
			u["domain"] = host
		}
		if port > 0 {
			u["port"] = port
		}
	}
	if i := strings.IndexByte(p, '#'); i >= 0 {
		u["fragment"] = p[i+1:]
		p = p[:i]
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		if query == "" {
			query = p[i+1:]
		}
		p = p[:i]
	}
	u["path"] = p
	if ext := extension(p); ext != "" {
		u["extension"] = ext
	}
	if query != "" {
		u["query"] = query
		params, names, values := splitQuery(query)
		if ext, _ := u["extension"].(string); caseless[ext] {
			params = lowerNames(params, names)
		}
		if len(names) > 0 {
			ws = map[string]any{"params": params, "param_names": names, "param_values": values}
		}
	}
	return u, ws
}

// caseless are the extensions of pages that read their parameters by name
// in any case (ASP's Request and ASP.NET's Request.QueryString): "?CMD=id"
// reaches Request["cmd"], so webshell.url.params keys them in lower case,
// as such a page sees them; param_names keeps them as sent.
var caseless = map[string]bool{"asp": true, "aspx": true, "ashx": true, "asmx": true, "axd": true}

// lowerNames rekeys params by lower-case name; the values of names that
// differ only in case are joined in the order names (first appearance)
// gives.
func lowerNames(params map[string]any, names []string) map[string]any {
	out := make(map[string]any, len(params))
	for _, name := range names {
		lower := strings.ToLower(name)
		prev, _ := out[lower].([]string)
		out[lower] = append(prev, params[name].([]string)...)
	}
	return out
}

// extension returns the lower-case extension of the last path segment,
// percent-decoded ("/shell.PhP" -> "php"), or "".
func extension(p string) string {
	seg := p[strings.LastIndexByte(p, '/')+1:]
	seg = pathUnescape(seg)
	dot := strings.LastIndexByte(seg, '.')
	if dot < 0 || dot == len(seg)-1 {
		return ""
	}
	ext := seg[dot+1:]
	if len(ext) > 16 || strings.ContainsAny(ext, " /\\") {
		return ""
	}
	return strings.ToLower(ext)
}

// Endpoint maps a client address ("ip", "ip:port", "[v6]:port" or a name)
// to the source.* fields, as the access-log mappers set them; nil for none.
func Endpoint(s string) map[string]any { return endpoint(s) }

// endpoint maps a client field to source.ip, or source.address/domain when
// it is a name (Apache with HostnameLookups On). Anything else is kept in
// source.address only: nginx writes "unix:" for a client on a Unix socket,
// and a log_format may put another header there. "-" (no client, as a
// proxy's empty X-Forwarded-For logs it) and "" give nil.
func endpoint(s string) map[string]any {
	if s == "" || s == "-" {
		return nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return map[string]any{"ip": a.Unmap().String(), "address": s}
	}
	if host, port := splitHostPort(s); host != s || port > 0 {
		if a, err := netip.ParseAddr(host); err == nil {
			src := map[string]any{"ip": a.Unmap().String(), "address": s}
			if port > 0 {
				src["port"] = port
			}
			return src
		}
	}
	if isHostname(s) {
		return map[string]any{"address": s, "domain": s}
	}
	return map[string]any{"address": s}
}

// isHostname reports whether s can be a DNS name: labels of letters,
// digits, '-' and '_', joined by dots.
func isHostname(s string) bool {
	if len(s) > 253 || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// HostFields sets url.domain and url.port in u from a host as a Host
// header, a vhost or IIS's cs-host write it ("name", "name:port",
// "[v6]:port"), where the request target did not set them.
func HostFields(u map[string]any, host string) {
	if host == "" {
		return
	}
	h, p := splitHostPort(host)
	if _, ok := u["domain"]; !ok {
		u["domain"] = h
	}
	if _, ok := u["port"]; !ok && p > 0 {
		u["port"] = p
	}
}

func splitHostPort(s string) (string, int64) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]:"); i > 0 {
			if p, err := strconv.ParseInt(s[i+2:], 10, 64); err == nil && p > 0 && p < 65536 {
				return s[1:i], p
			}
		}
		return strings.Trim(s, "[]"), 0
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && strings.Count(s, ":") == 1 {
		if p, err := strconv.ParseInt(s[i+1:], 10, 64); err == nil && p > 0 && p < 65536 {
			return s[:i], p
		}
	}
	return s, 0
}

// closingQuote finds the '"' that ends a quoted field starting at from,
// skipping backslash escapes (Apache writes \" and \\ inside).
func closingQuote(s string, from int) int {
	for i := from; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// quoted reads a "..." field at the start of s and returns its content
// (escapes kept as written) and the rest.
func quoted(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", s, false
	}
	end := closingQuote(s, 1)
	if end < 0 {
		return "", s, false
	}
	return s[1:end], s[end+1:], true
}

func nextToken(s string) (string, string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// firstBinary returns the index of the first control byte (other than tab)
// or -1. Web servers escape such bytes, so a raw one means junk.
func firstBinary(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}
