package hunt

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"webshellbeat/module/auditd"
	"webshellbeat/module/windows"
)

// readAudit joins the records of each audit event with module/auditd. It
// also reads ausearch's output (without -i), whose records are raw.
func readAudit(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		j := auditd.NewJoiner(auditd.JoinerConfig{})
		emit := func(groups []auditd.Group) bool {
			for _, g := range groups {
				where := name
				if len(g.LineNumbers) > 0 {
					where = fmt.Sprintf("%s:%d", name, g.LineNumbers[0])
				}
				// MapGroup's errors name the file's lines already.
				if !yield(auditRecord(g, where, name)) {
					return false
				}
			}
			return true
		}
		var off int64
		for _, line := range lines(r) {
			off += int64(len(line)) + 1
			if line == "----" || strings.HasPrefix(line, "time->") {
				continue // ausearch's lines between events
			}
			if !emit(j.Add(line, off)) {
				return
			}
		}
		emit(j.Flush())
	}
}

// readLaurel maps each line of a LAUREL log (its JSON audit events) with
// module/auditd, as the records it came from. A line that is no LAUREL
// event is reported, and reading goes on.
func readLaurel(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for n, line := range lines(r) {
			if strings.TrimSpace(line) == "" {
				continue
			}
			where := fmt.Sprintf("%s:%d", name, n)
			var rec Record
			if !auditd.IsLaurel(line) {
				rec = errRecord(where, line, errors.New(`not a LAUREL event (no leading "ID")`))
			} else if doc, err := auditd.MapLaurel(line); err != nil {
				rec = Record{Doc: doc, Where: where, Err: fmt.Errorf("%s: %w", where, err)}
			} else {
				rec = Record{Doc: doc, Where: where}
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// auomsDoc maps a Log Analytics Syslog row that holds an auoms record (the
// audit agent of Azure Linux machines) with module/auditd. ok is false for
// other syslog rows.
func auomsDoc(v any) (doc map[string]any, ok bool, err error) {
	m, _ := windows.Plain(windows.Document(v)).(map[string]any)
	msg, _ := m["SyslogMessage"].(string)
	if !strings.HasPrefix(msg, "type=AUOMS_") {
		return nil, false, nil
	}
	doc, err = auditd.MapAUOMS(msg)
	return doc, true, err
}

// auditJoin joins audit records that arrive one by one (Splunk results'
// _raw) into events, as readAudit does for a file.
type auditJoin struct {
	name   string
	j      *auditd.Joiner
	n      int64
	wheres map[int64]string // per record fed: where it came from
}

func newAuditJoin(name string) *auditJoin {
	return &auditJoin{name: name, j: auditd.NewJoiner(auditd.JoinerConfig{}), wheres: map[int64]string{}}
}

// add feeds one record that came from where and returns the events it
// completed; each is named by where its last record came from.
func (a *auditJoin) add(record, where string) []Record {
	a.n++
	if len(a.wheres) >= maxWheres {
		clear(a.wheres) // only open events' last records are looked up
	}
	a.wheres[a.n] = where
	return a.records(a.j.Add(record, a.n))
}

// maxWheres bounds auditJoin.wheres: the records in the middle of events
// are never looked up again.
const maxWheres = 1 << 16

func (a *auditJoin) flush() []Record { return a.records(a.j.Flush()) }

// oldestOpen is the time of the oldest event still open (see
// auditd.Joiner.OldestOpen).
func (a *auditJoin) oldestOpen() (time.Time, bool) { return a.j.OldestOpen() }

func (a *auditJoin) records(groups []auditd.Group) []Record {
	var out []Record
	for _, g := range groups {
		where, ok := a.wheres[g.EndOffset]
		if !ok {
			where = a.name
		}
		delete(a.wheres, g.EndOffset)
		out = append(out, auditRecord(g, where, where))
	}
	return out
}

// auditRecord maps one joined audit event; its error, if any, is prefixed
// with prefix.
func auditRecord(g auditd.Group, where, prefix string) Record {
	doc, err := auditd.MapGroup(g)
	rec := Record{Doc: doc, Where: where}
	if err != nil {
		rec.Err = fmt.Errorf("%s: %w", prefix, err)
	}
	return rec
}
