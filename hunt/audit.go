//go:build !windows

package hunt

import (
	"fmt"
	"io"
	"iter"
	"strings"

	"webshellbeat/module/auditd"
	"webshellbeat/module/windows"
)

// readAudit joins the records of each audit event with module/auditd. (Not in
// Windows builds: go-libaudit's parser needs Unix signal names.)
func readAudit(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		j := auditd.NewJoiner(auditd.JoinerConfig{})
		emit := func(groups []auditd.Group) bool {
			for _, g := range groups {
				doc, err := auditd.MapGroup(g)
				where := name
				if len(g.LineNumbers) > 0 {
					where = fmt.Sprintf("%s:%d", name, g.LineNumbers[0])
				}
				rec := Record{Doc: doc, Where: where}
				if err != nil {
					rec.Err = fmt.Errorf("%s: %w", name, err)
				}
				if !yield(rec) {
					return false
				}
			}
			return true
		}
		var off int64
		for _, line := range lines(r) {
			off += int64(len(line)) + 1
			if !emit(j.Add(line, off)) {
				return
			}
		}
		emit(j.Flush())
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
