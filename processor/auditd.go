//go:build !windows

package processor

import (
	"fmt"
	"strings"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/module/auditd"
)

const auditdName = "decode_auditd"

func init() {
	processors.RegisterPlugin(auditdName, newAuditd)
}

// auditdProcessor maps the audit records of one event, held as lines in one
// field (the auditd input, or filestream with a multiline parser, groups
// them), to one ECS event. A LAUREL line (the laurel module), one event in
// JSON, is mapped as the records it came from.
type auditdProcessor struct{ cfg decodeConfig }

func newAuditd(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	cfg := decodeConfig{Field: "message"}
	if err := unpackStrict(c, []string{"field", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", auditdName, err)
	}
	return &auditdProcessor{cfg: cfg}, nil
}

func (p *auditdProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	raw, err := sourceText(ev, p.cfg.Field)
	if err != nil {
		fail(ev, auditdName, err)
		return ev, nil
	}
	var doc map[string]any
	if auditd.IsLaurel(raw) {
		doc, err = auditd.MapLaurel(strings.TrimSpace(raw))
	} else {
		doc, err = auditd.Map(strings.Split(strings.TrimRight(raw, "\n"), "\n"))
	}
	apply(ev, doc, p.cfg.Field, raw)
	if err != nil {
		fail(ev, auditdName, err)
	}
	return ev, nil
}

func (p *auditdProcessor) String() string { return auditdName + "=" + p.cfg.Field }
