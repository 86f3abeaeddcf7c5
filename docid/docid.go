// Package docid gives a document a deterministic id from the identity of the
// source record it was made from, so that sending the same record twice (a
// re-send after a crash, a re-read with a lost registry) writes the same _id
// and the engine keeps one document. A record that has no identity (a line
// that came over UDP, TCP or the journal and was decoded) gets a unique id
// instead (Sequence), so that two records with the same text are never taken
// for one. It has no libbeat dependency: the beat's add_document_id processor
// calls Record and Sequence, hunt Record and Position.
package docid

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"webshellbeat/detection"
)

// Record returns the id of doc's source record and true, or "" and false
// when doc carries nothing that identifies its record.
//
// Documents the detector derives (updated copies, correlation, upload and
// session alerts) are named by what they are (see derived). Otherwise the
// identity is taken from the first of these that doc has, most specific
// first:
//
//  1. Windows: winlog.channel + winlog.computer_name + winlog.record_id. The
//     record number is unique within one channel of one computer, and it is
//     the same however the record reached us (live winlog, an exported .evtx,
//     rendered XML, winlogbeat JSON), so a record read twice by two routes
//     gets one id. Checked before the file offset for that reason.
//  2. Linux audit: auditd.sequence + @timestamp + host.name. The kernel's
//     serial number restarts at boot and is per host; with the event time
//     (second and millisecond of the audit(...) stamp) and the host it names
//     one event. Also independent of which file or offset it was read from
//     (audit.log rotates by renaming).
//  3. A line of a file: log.file.path + log.offset, plus log.file.device_id
//     and log.file.inode when the input reports them. The offset is where the
//     line starts, which a restart from the registry reads again unchanged;
//     the path tells two files apart; device and inode tell apart two files
//     that had the same path in turn (a file deleted and re-created), which
//     would otherwise reuse offsets from 0. Checked before Kafka's position:
//     a document another beat shipped through Kafka keeps the file's, which
//     names the line however often it was shipped.
//  4. A Kafka message: kafka.topic + kafka.partition + kafka.offset, which
//     a consumer that restarts reads again unchanged.
//
// The record's text is no identity: the same request twice in one second,
// logged without anything that differs, is two records (see Sequence).
//
// Each kind is hashed with its own prefix, so identities of different kinds
// never collide. The id is 27 characters of URL-safe base64 (160 bits of
// SHA-256).
func Record(doc map[string]any) (string, bool) {
	if id, ok := derived(doc); ok {
		return id, true
	}
	if ch, pc, rec := str(doc, "winlog.channel"), str(doc, "winlog.computer_name"), num(doc, "winlog.record_id"); ch != "" && rec != "" {
		return hash("winlog", strings.ToLower(ch), strings.ToLower(pc), rec), true
	}
	if seq, ts := num(doc, "auditd.sequence"), timestamp(doc); seq != "" && ts != "" {
		return hash("auditd", seq, ts, str(doc, "host.name")), true
	}
	if path, off := str(doc, "log.file.path"), num(doc, "log.offset"); path != "" && off != "" {
		return hash("file", path, str(doc, "log.file.device_id"), str(doc, "log.file.inode"), off), true
	}
	if topic, part, off := str(doc, "kafka.topic"), num(doc, "kafka.partition"), num(doc, "kafka.offset"); topic != "" && part != "" && off != "" {
		return hash("kafka", topic, part, off), true
	}
	return "", false
}

// Position is the id of the nth document read from file by a reader that
// knows no offset (hunt): stable for the same file read again, and never
// shared by two records of one file.
func Position(file string, nth int) string {
	return hash("position", file, strconv.Itoa(nth))
}

// Sequence names records that have no identity (see Record): each Next is
// an id no other call of any Sequence returns, so two records with the same
// text stay two documents. A record is named once, when it is processed, and
// keeps that id when the output sends it again after a failure, so a re-send
// still writes one document. Only a record read again from its source (the
// journal after a crash, before its cursor was saved) can be indexed twice.
// Safe for concurrent use.
type Sequence struct {
	nonce string // random per Sequence: ids differ across restarts
	n     atomic.Uint64
}

// NewSequence returns a Sequence with a random nonce.
func NewSequence() *Sequence {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return &Sequence{nonce: string(b[:])}
}

// Next returns the next id.
func (s *Sequence) Next() string {
	return hash("unique", s.nonce, strconv.FormatUint(s.n.Add(1), 10))
}

// derived identifies the documents the detector makes rather than reads: an
// updated copy of a record's document carries that record's identity too, so
// without this it would take the original's _id and be refused as a
// duplicate. A copy is named by its original and by what it adds (the
// request or the processes linked); a correlation, upload or session alert
// by its rule, time and members. The same copy sent twice gets one id.
func derived(doc map[string]any) (string, bool) {
	if orig := str(doc, "webshell.update_of"); orig != "" {
		return hash("update", orig, canonical(doc, "webshell.request"), canonical(doc, "webshell.processes")), true
	}
	switch ds := str(doc, "event.dataset"); ds {
	case "webshellbeat.correlation", "webshellbeat.session":
		return hash("derived", ds, str(doc, "webshell.doc_id"), canonical(doc, "rule.id"), timestamp(doc),
			canonical(doc, "webshell.correlation.events"), str(doc, "webshell.session.id")), true
	}
	return "", false
}

// canonical renders a field as JSON (map keys sorted), "" when absent.
func canonical(doc map[string]any, key string) string {
	v, ok := detection.Lookup(doc, key)
	if !ok {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func hash(kind string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		// Length-prefixed: ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "\x00%d:%s", len(p), p)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:20])
}

// str returns a string field ("" when absent or not text; numbers as text).
func str(doc map[string]any, key string) string {
	v, ok := detection.Lookup(doc, key)
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return numString(v)
}

// num returns an integer field as decimal text: 42, int64(42), 42.0 (JSON)
// and "42" are all "42", so the id does not depend on how it was decoded.
func num(doc map[string]any, key string) string {
	v, ok := detection.Lookup(doc, key)
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
		return s
	}
	return numString(v)
}

func numString(v any) string {
	switch n := v.(type) {
	case int:
		return strconv.FormatInt(int64(n), 10)
	case int8:
		return strconv.FormatInt(int64(n), 10)
	case int16:
		return strconv.FormatInt(int64(n), 10)
	case int32:
		return strconv.FormatInt(int64(n), 10)
	case int64:
		return strconv.FormatInt(n, 10)
	case uint:
		return strconv.FormatUint(uint64(n), 10)
	case uint8:
		return strconv.FormatUint(uint64(n), 10)
	case uint16:
		return strconv.FormatUint(uint64(n), 10)
	case uint32:
		return strconv.FormatUint(uint64(n), 10)
	case uint64:
		return strconv.FormatUint(n, 10)
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return strconv.FormatInt(int64(n), 10)
		}
		return strconv.FormatFloat(n, 'g', -1, 64)
	case float32:
		return numString(float64(n))
	case fmt.Stringer: // json.Number
		return n.String()
	}
	return ""
}

// timestamp returns @timestamp in UTC with nanoseconds (time.Time or text).
func timestamp(doc map[string]any) string {
	v, ok := doc["@timestamp"]
	if !ok {
		return ""
	}
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	case interface{ Time() time.Time }:
		return t.Time().UTC().Format(time.RFC3339Nano)
	case string:
		if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return p.UTC().Format(time.RFC3339Nano)
		}
		return t
	}
	return fmt.Sprint(v)
}
