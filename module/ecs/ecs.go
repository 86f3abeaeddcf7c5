// Package ecs reads documents that are ECS already: events that a beat
// indexed (webshellbeat's own logs-webshellbeat.event-*, auditbeat's,
// filebeat's web-server modules') and that were pulled back out of
// Elasticsearch or OpenSearch, so that hunt can run the detectors over them
// again. It restores what JSON cannot carry (the time, integers) and adds
// what the detectors read but some sources leave out: webshell.url.*, which
// only webshellbeat's access-log mapper sets, process.command_line, which
// auditbeat does not set (it has process.args), and auditd.record_types,
// which only webshellbeat's audit mapper sets. Every other field stays as it
// was indexed.
package ecs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
)

// FromJSON returns the ECS document m holds (a decoded JSON object with
// plain maps, which becomes the document: it is changed in place), or why
// it is not one: an ECS document has an @timestamp in RFC 3339 and event.*
// fields (nested or dotted).
func FromJSON(m map[string]any) (map[string]any, error) {
	ts, ok := m["@timestamp"].(string)
	if !ok {
		return nil, errors.New("not an ECS document: no @timestamp text")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, fmt.Errorf("not an ECS document: @timestamp %q is not an RFC 3339 time", ts)
	}
	if !hasEvent(m) {
		return nil, errors.New("not an ECS document: no event.* fields")
	}
	doc := numbers(m).(map[string]any)
	doc["@timestamp"] = t
	addURLParams(doc)
	addCommandLine(doc)
	addRecordTypes(doc)
	return doc, nil
}

func hasEvent(m map[string]any) bool {
	if _, ok := m["event"].(map[string]any); ok {
		return true
	}
	for k := range m {
		if strings.HasPrefix(k, "event.") {
			return true
		}
	}
	return false
}

// numbers turns JSON numbers into int64 (integers) or float64, as the
// mappers give them, so that comparisons and formatting see the same types.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	}
	return v
}

// addCommandLine sets process.command_line from process.args (joined with
// spaces, as an audit record's proctitle reads) where only the arguments
// were indexed, so that rules on CommandLine see auditbeat's processes.
func addCommandLine(doc map[string]any) {
	if _, ok := detection.Lookup(doc, "process.command_line"); ok {
		return
	}
	if args := detection.LookupStrings(doc, "process.args"); len(args) > 0 {
		detection.Put(doc, "process.command_line", strings.Join(args, " "))
	}
}

// addRecordTypes sets auditd.record_types on an audit event indexed without
// it (auditbeat keeps only auditd.message_type, the first record's type),
// from what the records left in the document: a successful execve had an
// EXECVE record (process.args), PATH records left auditd.paths and a CWD
// record process.working_directory. SigmaHQ's auditd rules name the record
// they read (type: EXECVE with a0); without the list, those rules could not
// fire on auditbeat's events.
func addRecordTypes(doc map[string]any) {
	first := detection.LookupString(doc, "auditd.message_type")
	if _, ok := detection.Lookup(doc, "auditd.record_types"); ok || first == "" {
		return
	}
	types := []string{first}
	add := func(t string, ok bool) {
		if ok && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	syscall := detection.LookupString(doc, "auditd.data.syscall")
	add("execve", (syscall == "execve" || syscall == "execveat") && detection.LookupString(doc, "auditd.result") == "success" &&
		len(detection.LookupStrings(doc, "process.args")) > 0)
	_, cwd := detection.Lookup(doc, "process.working_directory")
	add("cwd", first == "syscall" && cwd)
	_, paths := detection.Lookup(doc, "auditd.paths")
	add("path", paths)
	detection.Put(doc, "auditd.record_types", types)
}

// addURLParams adds webshell.url.* (the request's parameters) to a web
// request that has a URL but not them, from url.original, else url.path
// and url.query, and the url.* fields the access-log mapper would set and
// the document lacks (url.extension). The pack's request rules read them.
func addURLParams(doc map[string]any) {
	if _, ok := detection.Lookup(doc, "webshell.url"); ok {
		return
	}
	target := detection.LookupString(doc, "url.original")
	if target == "" {
		target = detection.LookupString(doc, "url.path")
		if q := detection.LookupString(doc, "url.query"); q != "" && target != "" {
			target += "?" + q
		}
	}
	if target == "" {
		return
	}
	u, ws := accesslog.URLFields(target)
	for k, v := range u {
		if _, ok := detection.Lookup(doc, "url."+k); !ok {
			detection.Put(doc, "url."+k, v)
		}
	}
	if ws != nil {
		detection.Put(doc, "webshell.url", ws)
	}
}
