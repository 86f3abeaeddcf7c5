package processor

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/module/windows"
)

const windowsName = "decode_windows_event"

func init() {
	processors.RegisterPlugin(windowsName, newWindows)
}

// windowsProcessor maps a Windows event to ECS. It reads, by content, a
// rendered event XML record, a JSON document (winlogbeat, evtx_dump, OTRF) or
// the rendered Sysmon "Key: Value" message; an event that already carries
// winlog.* (the winlog input on Windows) is mapped from those fields. A
// syslog line of Sysmon for Linux is read too (see windows.ParseSyslog).
type windowsProcessor struct{ cfg decodeConfig }

func newWindows(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	cfg := decodeConfig{Field: "message"}
	if err := unpackStrict(c, []string{"field", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", windowsName, err)
	}
	return &windowsProcessor{cfg: cfg}, nil
}

func (p *windowsProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	rec, raw, err := p.record(ev)
	if err != nil {
		fail(ev, windowsName, err)
		return ev, nil
	}
	apply(ev, rec.ECS(), p.cfg.Field, raw)
	return ev, nil
}

func (p *windowsProcessor) record(ev *beat.Event) (*windows.Record, string, error) {
	raw, err := sourceText(ev, p.cfg.Field)
	if err != nil {
		if winlog, werr := ev.GetValue("winlog"); werr == nil {
			data, jerr := json.Marshal(map[string]any{"winlog": winlog, "@timestamp": ev.Timestamp})
			if jerr != nil {
				return nil, "", jerr
			}
			rec, perr := windows.ParseJSON(data)
			return rec, "", perr
		}
		return nil, "", err
	}
	rec, err := ParseWindowsText(raw)
	return rec, raw, err
}

// ParseWindowsText recognises the shape of one Windows event record by its
// first character and parses it: event XML, JSON, a syslog line or message
// carrying Sysmon for Linux's event XML (RFC 5424 lines start with "<13>";
// the journald input's message is the XML itself), or rendered Sysmon text.
// Sysmon for Linux's XML goes through windows.ParseSyslog, which mends what
// it and syslog do to it.
func ParseWindowsText(raw string) (*windows.Record, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return nil, errors.New("empty record")
	case s[0] == '<' && !windows.HasSyslogPRI(s) && !strings.Contains(s, windows.ProviderSysmonLinux):
		return windows.ParseXML([]byte(s))
	case s[0] == '{':
		return windows.ParseJSON([]byte(s))
	case strings.Contains(s, "<Event"):
		return windows.ParseSyslog(s)
	default:
		return windows.ParseSysmonText(s)
	}
}

func (p *windowsProcessor) String() string { return windowsName + "=" + p.cfg.Field }
