package hunt

import (
	"errors"
	"io"
	"iter"
	"strings"
	"time"

	"webshellbeat/module/windows"
)

// readAudit is not available in Windows builds: go-libaudit's parser, which
// auditd decoding relies on, builds only on Unix.
func readAudit(name string, _ io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		yield(Record{Where: name, Err: errors.New(name + ": audit.log decoding is not available in Windows builds of webshellbeat; hunt it on Linux")})
	}
}

// auomsDoc: auoms records are audit events, decoded by module/auditd, which
// Windows builds lack.
func auomsDoc(v any) (map[string]any, bool, error) {
	m, _ := windows.Plain(windows.Document(v)).(map[string]any)
	msg, _ := m["SyslogMessage"].(string)
	if !strings.HasPrefix(msg, "type=AUOMS_") {
		return nil, false, nil
	}
	return nil, true, errors.New("auoms records are Linux audit events, decoded by module/auditd, which Windows builds of webshellbeat lack; hunt them on Linux")
}

// auditJoin: audit records are decoded by module/auditd, which Windows
// builds lack; each is reported.
type auditJoin struct{ name string }

func newAuditJoin(name string) *auditJoin { return &auditJoin{name: name} }

func (a *auditJoin) add(_, where string) []Record {
	return []Record{{Where: where, Err: errors.New(where + ": audit records are decoded by module/auditd, which Windows builds of webshellbeat lack; hunt them on Linux")}}
}

func (a *auditJoin) flush() []Record { return nil }

func (a *auditJoin) oldestOpen() (time.Time, bool) { return time.Time{}, false }
