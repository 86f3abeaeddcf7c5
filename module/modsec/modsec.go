// Package modsec maps the entries of ModSecurity's audit log (SecAuditLog,
// the Serial and Concurrent types, in the native format (serial.go) and
// the JSON format (json.go) of ModSecurity 2 and of libmodsecurity 3, the
// nginx connector's) to nested ECS documents. It is a pure library: no
// I/O, no libbeat.
//
// The audit log holds what no access log holds: the request's headers and
// body. Most web shells take their commands in a POST body (China
// Chopper's z0=..., WSO's and b374k's forms, a plain cmd=whoami), which an
// access log shows only as "POST /uploads/x.php 200". The body's form
// parameters are mapped to webshell.body.*, beside the query's
// webshell.url.*, so that the same rules and the request-process
// correlation read both.
//
// In the native format an entry is a run of sections, each opened by a
// boundary line "--<id>-<letter>--" and the entry closed by the Z section:
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

// maxBody bounds the request and response body text kept in a document;
// the form parameters are read from the whole request body.
const maxBody = 4096

// entry is what an audit log entry holds that a document keeps, read from
// the native format's sections or from the JSON format's keys.
type entry struct {
	time                  time.Time
	id                    string
	client, clientPort    string
	server, serverPort    string
	method, target        string
	version               string            // "1.1"
	reqHeaders            map[string]string // by lower-case name
	reqBody               string
	status                int64 // 0: no response part
	respHeaders           map[string]string
	respBody              string
	messages              []string // the matched rules' lines as the trailer writes them, tags and all
	ruleIDs, ruleNames    []string // where the format gives them apart (libmodsecurity 3's JSON)
	handler, engine, verb string   // Apache-Handler, Engine-Mode, Action
	files                 []string // a multipart request's file names
	cut                   string   // the last section of an entry cut short
}

// doc maps the entry: a web access (event.category web, event.module
// modsecurity), with the access logs' url.*, source.*, http.* and
// user_agent.*, so that the webserver rules run on it.
func (e *entry) doc() map[string]any {
	doc := map[string]any{
		"@timestamp":  e.time,
		"transaction": map[string]any{"id": e.id},
		"source":      endpoint(e.client, e.clientPort),
		"destination": endpoint(e.server, e.serverPort),
	}
	req := map[string]any{}
	httpm := map[string]any{"request": req}
	doc["http"] = httpm
	if e.method != "" {
		req["method"] = e.method
	}
	if e.version != "" {
		httpm["version"] = e.version
	}
	if e.target != "" {
		u, ws := accesslog.URLFields(e.target)
		accesslog.HostFields(u, e.reqHeaders["host"])
		doc["url"] = u
		if ws != nil {
			doc["webshell"] = map[string]any{"url": ws}
		}
	}
	if ref := e.reqHeaders["referer"]; ref != "" {
		req["referrer"] = ref
	}
	if mime := mimeType(e.reqHeaders); mime != "" {
		req["mime_type"] = mime
	}
	if ua := e.reqHeaders["user-agent"]; ua != "" {
		doc["user_agent"] = map[string]any{"original": ua}
	}
	e.bodyFields(doc, req)
	if e.status > 0 {
		resp := map[string]any{"status_code": e.status}
		if body := strings.TrimRight(e.respBody, "\r\n"); body != "" {
			resp["body"] = map[string]any{"content": detection.Clip(body, maxBody)}
		}
		if mime := mimeType(e.respHeaders); mime != "" {
			resp["mime_type"] = mime
		}
		httpm["response"] = resp
	}
	if audit := e.auditFields(); len(audit) > 0 {
		doc["modsec"] = map[string]any{"audit": audit}
	}
	doc["event"] = e.eventFields()
	if e.cut != "" {
		detection.Put(doc, "error.message", "entry cut short: no Z section; its sections up to "+e.cut+" were read")
	}
	return doc
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

func mimeType(headers map[string]string) string {
	mime, _, _ := strings.Cut(headers["content-type"], ";")
	return strings.TrimSpace(mime)
}

// bodyFields keeps the request body's text (clipped) and, for a form
// (urlencoded, or name=value pairs sent without a type, as curl -d and web
// shell clients send them), its parameters in webshell.body.*.
func (e *entry) bodyFields(doc, req map[string]any) {
	body := strings.TrimRight(e.reqBody, "\r\n")
	if body == "" {
		return
	}
	req["body"] = map[string]any{"content": detection.Clip(body, maxBody), "bytes": int64(len(body))}
	ct := strings.ToLower(e.reqHeaders["content-type"])
	if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") || !strings.Contains(body, "=") {
		return // multipart (its files named, not included), JSON, XML: no form pairs
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

// ruleTag matches one [name "value"] of a rule message.
var ruleTag = regexp.MustCompile(`\[(id|msg) "((?:[^"\\]|\\.)*)"\]`)

// auditFields are modsec.audit.*: each matched rule's message (its text up
// to the first tag) and its id and msg (from the tags, where the format
// does not give them apart), the handler, the engine mode, the action, the
// uploaded files.
func (e *entry) auditFields() map[string]any {
	audit := map[string]any{}
	var messages []string
	ids, names := e.ruleIDs, e.ruleNames
	for _, m := range e.messages {
		text := m
		if i := strings.Index(text, " [file "); i >= 0 {
			text = text[:i]
		}
		messages = append(messages, text)
		for _, tag := range ruleTag.FindAllStringSubmatch(m, -1) {
			if tag[1] == "id" {
				ids = append(ids, tag[2])
			} else {
				names = append(names, tag[2])
			}
		}
	}
	for k, v := range map[string][]string{"messages": messages, "rule_ids": ids, "rule_names": names, "files": e.files} {
		if len(v) > 0 {
			audit[k] = v
		}
	}
	for k, v := range map[string]string{"handler": e.handler, "engine_mode": e.engine, "action": e.verb} {
		if v != "" {
			audit[k] = v
		}
	}
	return audit
}

// eventFields are the entry's event.*.
func (e *entry) eventFields() map[string]any {
	event := map[string]any{
		"kind":     "event",
		"category": []string{"web"},
		"type":     []string{"access"},
		"module":   "modsecurity",
		"dataset":  "modsecurity.audit",
	}
	switch {
	case e.status == 0:
	case e.status < 400:
		event["outcome"] = "success"
	default:
		event["outcome"] = "failure"
	}
	return event
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
