// Package modsec maps the entries of ModSecurity's audit log (SecAuditLog,
// the Serial and Concurrent types, in the native format of ModSecurity 2
// and of libmodsecurity 3, the nginx connector's) to nested ECS documents.
// It is a pure library: no I/O, no libbeat.
//
// The audit log holds what no access log holds: the request's headers and
// body. Most web shells take their commands in a POST body (China
// Chopper's z0=..., WSO's and b374k's forms, a plain cmd=whoami), which an
// access log shows only as "POST /uploads/x.php 200". The body's form
// parameters are mapped to webshell.body.*, beside the query's
// webshell.url.*, so that the same rules and the request-process
// correlation read both.
//
// An entry is a run of sections, each opened by a boundary line
// "--<id>-<letter>--" and the entry closed by the Z section:
//
//	A  audit log header: [time] unique_id client port server port
//	B  request line and headers
//	C  request body (form data); I replaces it (multipart bodies with
//	   their files named, not included)
//	F  response status line and headers
//	E  response body (as far as ModSecurity buffered it)
//	H  trailer: the rules' messages, the handler, the engine mode
//	J  the files of a multipart request: each "n,size,"name","type""
//	Z  end of the entry
//
// Other sections (D, G, K) are kept out: they hold nothing a detection
// reads.
package modsec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
)

// ErrMalformed is wrapped by the errors of entries that cannot be mapped.
var ErrMalformed = errors.New("malformed ModSecurity audit log entry")

// boundary matches a section's boundary line and captures the entry's id
// and the section's letter: "--6a3bb639-A--" (ModSecurity 2),
// "---GNx8cPth---A--" (libmodsecurity 3).
var boundary = regexp.MustCompile(`^-{2,3}([0-9a-zA-Z]{6,})-{1,3}([A-Z])--\s*$`)

// IsBoundary reports whether line opens a section, and whether that is an
// entry's first (A).
func IsBoundary(line string) (section, first bool) {
	m := boundary.FindStringSubmatch(line)
	return m != nil, m != nil && m[2] == "A"
}

// IsEnd reports whether line is the boundary of an entry's Z section.
func IsEnd(line string) bool {
	m := boundary.FindStringSubmatch(line)
	return m != nil && m[2] == "Z"
}

// maxBody bounds the request and response body text kept in a document;
// the form parameters are read from the whole request body.
const maxBody = 4096

// Parse maps one entry, its lines from the A boundary on (the Z boundary
// may be missing: a cut log).
func Parse(entry string) (map[string]any, error) {
	sections, order, err := split(entry)
	if err != nil {
		return nil, err
	}
	if _, ok := sections["A"]; !ok {
		return nil, malformed("no A section (the entry's header)")
	}
	doc := map[string]any{}
	if err := header(doc, sections["A"]); err != nil {
		return nil, err
	}
	headers := request(doc, sections["B"])
	// I is C's form, or a multipart body with its files left out;
	// libmodsecurity 3 writes it empty, and its body in C.
	body := strings.TrimRight(sections["I"], "\r\n")
	if body == "" {
		body = strings.TrimRight(sections["C"], "\r\n")
	}
	requestBody(doc, headers, body)
	responseBody := sections["E"]
	if strings.HasPrefix(strings.TrimLeft(entry, "\r\n"), "---") {
		responseBody = unescapeHex(responseBody) // libmodsecurity 3 writes bytes other than printable ASCII as \xHH
	}
	response(doc, sections["F"], responseBody)
	trailer(doc, sections["H"])
	uploads(doc, sections["J"])
	doc["event"] = eventFields(doc)
	if order[len(order)-1] != "Z" {
		detection.Put(doc, "error.message", "entry cut short: no Z section; its sections up to "+order[len(order)-1]+" were read")
	}
	return doc, nil
}

// unescapeHex decodes the \xHH escapes of s.
func unescapeHex(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// split cuts an entry into its sections' texts by letter, and the letters
// in order.
func split(entry string) (map[string]string, []string, error) {
	sections := map[string]string{}
	var order []string
	var id, cur string
	var b strings.Builder
	flush := func() {
		if cur != "" {
			sections[cur] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(entry, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if m := boundary.FindStringSubmatch(trimmed); m != nil {
			if id == "" {
				id = m[1]
			} else if m[1] != id {
				return nil, nil, malformed("section %s of entry %s inside entry %s: an entry cut short", m[2], m[1], id)
			}
			flush()
			cur = m[2]
			order = append(order, cur)
			continue
		}
		if cur == "" {
			if trimmed == "" {
				continue
			}
			return nil, nil, malformed("text before the first section boundary: %q", detection.Clip(trimmed, 60))
		}
		b.WriteString(line)
	}
	flush()
	if id == "" {
		return nil, nil, malformed("no section boundary")
	}
	return sections, order, nil
}

// header reads the A section: "[26/Nov/2026:18:30:00.123456 +0000]
// unique_id client_ip client_port server_ip server_port".
func header(doc map[string]any, a string) error {
	line := strings.TrimSpace(a)
	end := strings.IndexByte(line, ']')
	if !strings.HasPrefix(line, "[") || end < 0 {
		return malformed("A section %q: no [time]", detection.Clip(line, 60))
	}
	t, err := parseTime(line[1:end])
	if err != nil {
		return malformed("A section: time %q: %v", detection.Clip(line[1:end], 40), err)
	}
	doc["@timestamp"] = t
	f := strings.Fields(line[end+1:])
	if len(f) < 5 {
		return malformed("A section %q: want the unique id, client address and port, server address and port", detection.Clip(line, 80))
	}
	doc["transaction"] = map[string]any{"id": f[0]}
	doc["source"] = endpoint(f[1], f[2])
	doc["destination"] = endpoint(f[3], f[4])
	return nil
}

// parseTime reads Apache's time with or without microseconds.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"02/Jan/2006:15:04:05.999999 -0700", "02/Jan/2006:15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not Apache's [day/month/year:hour:minute:second zone]")
}

func endpoint(addr, port string) map[string]any {
	e := accesslog.Endpoint(addr)
	if e == nil {
		e = map[string]any{"address": addr}
	}
	if p, err := strconv.ParseInt(port, 10, 64); err == nil {
		e["port"] = p
	}
	return e
}

// request reads the B section, the request line and headers, into http.*,
// url.* and user_agent.*; it returns the request's headers by lower-case
// name.
func request(doc map[string]any, b string) map[string]string {
	lines := strings.Split(strings.TrimRight(b, "\r\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil
	}
	method, rest, _ := strings.Cut(strings.TrimSpace(lines[0]), " ")
	target, version, _ := strings.Cut(rest, " ")
	headers := headerMap(lines[1:])
	httpm := map[string]any{"request": map[string]any{"method": method}}
	if v, ok := strings.CutPrefix(version, "HTTP/"); ok {
		httpm["version"] = v
	}
	doc["http"] = httpm
	if target != "" {
		u, ws := accesslog.URLFields(target)
		accesslog.HostFields(u, headers["host"])
		doc["url"] = u
		if ws != nil {
			doc["webshell"] = map[string]any{"url": ws}
		}
	}
	req := httpm["request"].(map[string]any)
	if ref := headers["referer"]; ref != "" {
		req["referrer"] = ref
	}
	if ct := headers["content-type"]; ct != "" {
		mime, _, _ := strings.Cut(ct, ";")
		req["mime_type"] = strings.TrimSpace(mime)
	}
	if ua := headers["user-agent"]; ua != "" {
		doc["user_agent"] = map[string]any{"original": ua}
	}
	return headers
}

func headerMap(lines []string) map[string]string {
	h := map[string]string{}
	for _, l := range lines {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if ok {
			h[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
	}
	return h
}

// requestBody keeps the body's text (clipped) and, for a form (urlencoded,
// or a body of name=value pairs sent without a type, as curl -d and web
// shell clients send it), its parameters in webshell.body.*.
func requestBody(doc map[string]any, headers map[string]string, body string) {
	if body == "" {
		return
	}
	httpm, _ := doc["http"].(map[string]any)
	if httpm == nil {
		httpm = map[string]any{}
		doc["http"] = httpm
	}
	req, _ := httpm["request"].(map[string]any)
	if req == nil {
		req = map[string]any{}
		httpm["request"] = req
	}
	req["body"] = map[string]any{"content": detection.Clip(body, maxBody), "bytes": int64(len(body))}
	ct := strings.ToLower(headers["content-type"])
	if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return // multipart (I section: its files named), JSON, XML: no form pairs
	}
	if !strings.Contains(body, "=") {
		return
	}
	_, ws := accesslog.URLFields("?" + body)
	if ws == nil {
		return
	}
	w, _ := doc["webshell"].(map[string]any)
	if w == nil {
		w = map[string]any{}
		doc["webshell"] = w
	}
	w["body"] = ws
}

// response reads the F section (status line, headers) and the E section
// (the body as buffered, clipped).
func response(doc map[string]any, f, e string) {
	lines := strings.Split(strings.TrimRight(f, "\r\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return
	}
	_, rest, _ := strings.Cut(strings.TrimSpace(lines[0]), " ")
	code, _, _ := strings.Cut(rest, " ")
	resp := map[string]any{}
	if n, err := strconv.ParseInt(code, 10, 64); err == nil {
		resp["status_code"] = n
	}
	if body := strings.TrimRight(e, "\r\n"); body != "" {
		resp["body"] = map[string]any{"content": detection.Clip(body, maxBody)}
	}
	h := headerMap(lines[1:])
	if ct := h["content-type"]; ct != "" {
		mime, _, _ := strings.Cut(ct, ";")
		resp["mime_type"] = strings.TrimSpace(mime)
	}
	httpm, _ := doc["http"].(map[string]any)
	if httpm == nil {
		httpm = map[string]any{}
		doc["http"] = httpm
	}
	httpm["response"] = resp
}

// ruleTag matches one [name "value"] of a rule message.
var ruleTag = regexp.MustCompile(`\[(id|msg|severity|file|data) "((?:[^"\\]|\\.)*)"\]`)

// trailer reads the H section: each "Message:" (libmodsecurity 3:
// "ModSecurity:") of a rule that matched into
// modsec.audit.messages (its text up to the first tag) and its id and msg
// into modsec.audit.rule_ids and rule_names; the handler and the engine
// mode as written.
func trailer(doc map[string]any, h string) {
	audit := map[string]any{}
	var messages, ids, names []string
	for _, l := range strings.Split(h, "\n") {
		l = strings.TrimRight(l, "\r")
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			continue
		}
		switch name {
		case "Message", "ModSecurity": // ModSecurity 2's trailer, libmodsecurity 3's
			text := value
			if i := strings.Index(text, " [file "); i >= 0 {
				text = text[:i]
			}
			messages = append(messages, text)
			for _, m := range ruleTag.FindAllStringSubmatch(value, -1) {
				switch m[1] {
				case "id":
					ids = append(ids, m[2])
				case "msg":
					names = append(names, m[2])
				}
			}
		case "Apache-Handler":
			audit["handler"] = value
		case "Engine-Mode":
			audit["engine_mode"] = strings.Trim(value, `"`)
		case "Action":
			audit["action"] = value
		}
	}
	if len(messages) > 0 {
		audit["messages"] = messages
	}
	if len(ids) > 0 {
		audit["rule_ids"] = ids
	}
	if len(names) > 0 {
		audit["rule_names"] = names
	}
	if len(audit) > 0 {
		doc["modsec"] = map[string]any{"audit": audit}
	}
}

// uploads reads the J section, the files of a multipart request, into
// modsec.audit.files (their names as the client sent them): the upload of
// a web shell, whose later requests name it.
func uploads(doc map[string]any, j string) {
	var names []string
	for _, l := range strings.Split(j, "\n") {
		f := strings.SplitN(strings.TrimRight(l, "\r"), ",", 4)
		if len(f) >= 3 && f[0] != "Total" {
			if name, err := strconv.Unquote(f[2]); err == nil && name != "" {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return
	}
	m, _ := doc["modsec"].(map[string]any)
	if m == nil {
		m = map[string]any{"audit": map[string]any{}}
		doc["modsec"] = m
	}
	m["audit"].(map[string]any)["files"] = names
}

// eventFields are the entry's event.*: a web access, as the access logs'
// are (so that the webserver rules run on it), of module modsecurity.
func eventFields(doc map[string]any) map[string]any {
	event := map[string]any{
		"kind":     "event",
		"category": []string{"web"},
		"type":     []string{"access"},
		"module":   "modsecurity",
		"dataset":  "modsecurity.audit",
	}
	if code, ok := detection.Lookup(doc, "http.response.status_code"); ok {
		if n, _ := code.(int64); n < 400 {
			event["outcome"] = "success"
		} else {
			event["outcome"] = "failure"
		}
	}
	return event
}
