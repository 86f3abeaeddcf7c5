package modsec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON format (SecAuditLogFormat JSON) writes one entry a line, in one
// of two shapes:
//
//   - ModSecurity 2: {"transaction":{"time":"26/Nov/2026:19:02:21.157450
//     +0000","transaction_id":...,"remote_address":...,"remote_port":...,
//     "local_address":...,"local_port":...},"request":{"request_line":
//     "POST /x.php HTTP/1.1","headers":{...},"body":["cmd=whoami"]},
//     "response":{"protocol":...,"status":200,"headers":{...},"body":...},
//     "audit_data":{"messages":[...],"handler":...,"engine_mode":...}}
//   - libmodsecurity 3: {"transaction":{"client_ip":...,"time_stamp":"Thu
//     Nov 26 19:02:13 2026","client_port":...,"host_ip":...,"host_port":...,
//     "unique_id":...,"request":{"method":...,"http_version":1.1,"uri":...,
//     "body":...,"headers":{...}},"response":{"body":...,"http_code":200,
//     "headers":{...}},"producer":{"secrules_engine":...},"messages":
//     [{"message":...,"details":{"ruleId":...}}]}}
//
// libmodsecurity 3 writes its time in the server's zone without naming it.

// IsJSON reports whether m is an audit log entry in the JSON format.
func IsJSON(m map[string]any) bool {
	t, _ := m["transaction"].(map[string]any)
	if t == nil {
		return false
	}
	_, v2 := t["transaction_id"]
	_, v3 := t["unique_id"]
	return v2 && m["request"] != nil || v3 && t["request"] != nil
}

// ParseEntry maps one entry as an input hands it over: the native
// format's lines joined, or one line of the JSON format, whose time without
// a zone is read in zone.
func ParseEntry(raw string, zone *time.Location) (map[string]any, error) {
	if !strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return Parse(raw)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("modsecurity json: %w", err)
	}
	if !IsJSON(m) {
		return nil, fmt.Errorf("modsecurity json: no transaction and request: not an audit log entry")
	}
	doc, _, err := FromJSON(m, zone)
	return doc, err
}

// FromJSON maps an entry in the JSON format. A time without a zone
// (libmodsecurity 3's) is read in zone; zoned reports whether the entry
// named its zone.
func FromJSON(m map[string]any, zone *time.Location) (doc map[string]any, zoned bool, err error) {
	t, _ := m["transaction"].(map[string]any)
	var e entry
	if _, v2 := t["transaction_id"]; v2 {
		zoned = true
		err = e.fromV2(m, t)
	} else {
		err = e.fromV3(t, zone)
	}
	if err != nil {
		return nil, zoned, err
	}
	return e.doc(), zoned, nil
}

// fromV2 reads ModSecurity 2's shape.
func (e *entry) fromV2(m, t map[string]any) error {
	var err error
	if e.time, err = parseTime(text(t["time"])); err != nil {
		return malformed("transaction.time %q: %v", text(t["time"]), err)
	}
	e.id = text(t["transaction_id"])
	e.client, e.clientPort = text(t["remote_address"]), text(t["remote_port"])
	e.server, e.serverPort = text(t["local_address"]), text(t["local_port"])
	req, _ := m["request"].(map[string]any)
	e.request(text(req["request_line"]))
	e.reqHeaders = headers(req["headers"])
	e.reqBody = text(req["body"])
	resp, _ := m["response"].(map[string]any)
	e.status, _ = strconv.ParseInt(text(resp["status"]), 10, 64)
	e.respHeaders = headers(resp["headers"])
	e.respBody = text(resp["body"])
	audit, _ := m["audit_data"].(map[string]any)
	e.messages = texts(audit["messages"])
	e.handler, e.engine, e.verb = text(audit["handler"]), text(audit["engine_mode"]), text(audit["action"])
	return nil
}

// fromV3 reads libmodsecurity 3's shape, whose request and response are
// inside its transaction.
func (e *entry) fromV3(t map[string]any, zone *time.Location) error {
	var err error
	if e.time, err = time.ParseInLocation(time.ANSIC, text(t["time_stamp"]), zone); err != nil {
		return malformed("transaction.time_stamp %q: not a time as asctime writes it", text(t["time_stamp"]))
	}
	e.time = e.time.UTC()
	e.id = text(t["unique_id"])
	e.client, e.clientPort = text(t["client_ip"]), text(t["client_port"])
	e.server, e.serverPort = text(t["host_ip"]), text(t["host_port"])
	req, _ := t["request"].(map[string]any)
	e.method, e.target = text(req["method"]), text(req["uri"])
	e.version = text(req["http_version"])
	e.reqHeaders = headers(req["headers"])
	e.reqBody = text(req["body"])
	resp, _ := t["response"].(map[string]any)
	e.status, _ = strconv.ParseInt(text(resp["http_code"]), 10, 64)
	e.respHeaders = headers(resp["headers"])
	e.respBody = text(resp["body"])
	producer, _ := t["producer"].(map[string]any)
	e.engine = text(producer["secrules_engine"])
	messages, _ := t["messages"].([]any)
	for _, x := range messages {
		msg, _ := x.(map[string]any)
		details, _ := msg["details"].(map[string]any)
		e.messages = append(e.messages, text(details["match"]))
		if id := text(details["ruleId"]); id != "" {
			e.ruleIDs = append(e.ruleIDs, id)
		}
		if name := text(msg["message"]); name != "" {
			e.ruleNames = append(e.ruleNames, name)
		}
	}
	return nil
}

// text renders a JSON value read with or without UseNumber; a list of
// strings (ModSecurity 2's body) is joined.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		return strings.Join(texts(x), "")
	}
	return fmt.Sprint(v)
}

func texts(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		out = append(out, text(x))
	}
	return out
}

// headers reads a headers object by lower-case name.
func headers(v any) map[string]string {
	m, _ := v.(map[string]any)
	h := make(map[string]string, len(m))
	for k, x := range m {
		h[strings.ToLower(k)] = text(x)
	}
	return h
}
