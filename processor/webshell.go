package processor

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
)

const webshellName = "webshell"

// The detector reads libbeat events, whose nested objects are mapstr.M:
// registered, they are read without reflection.
func init() { detection.RegisterMapType[mapstr.M]() }

// webshellProcessor runs the detector on normalised events: a match turns the
// event into an alert document routed to logs-webshellbeat.alert-<namespace>;
// other events go to logs-webshellbeat.event-<namespace>, or are dropped when
// events: none. Documents the detector derives (correlation alerts, updated
// copies, session summaries) are published through the hub. It is registered
// by cmd through a Hub (Hub.Register), not at init.
type webshellProcessor struct {
	det *detector.Detector
	hub *Hub
	log *logp.Logger
}

// newWebshell builds a processor on a hub of its own (tests, and chains
// built outside the beat): derived documents are dropped and counted.
func newWebshell(c *conf.C, log *logp.Logger) (beat.Processor, error) {
	return NewHub().newWebshell(c, log)
}

func (h *Hub) newWebshell(c *conf.C, log *logp.Logger) (beat.Processor, error) {
	cfg, err := config.Unpack(c)
	if err != nil {
		return nil, fmt.Errorf("%s processor: %w", webshellName, err)
	}
	if cfg.State.Path == "" {
		cfg.State.Path = defaultStatePath()
	}
	log = log.Named(webshellName)
	det, err := h.detector(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("%s processor: %w", webshellName, err)
	}
	for _, p := range det.RuleProblems() {
		log.Warnf("rule not used or loaded with a warning: %v", p)
	}
	r := det.Rules()
	log.Infof("%d rules loaded (%d routed), %d correlation rules, %d filter rules (%d problems reported above, %d rules left out by rules.min_level %q and rules.exclude_status %v); detection state in %s; rule reload %s",
		r.Loaded, r.Routed, r.Correlations, r.Filters, len(det.Problems), r.Left, cfg.Rules.MinLevel, cfg.Rules.ExcludeStatus, cfg.State.Path, reloadText(cfg.Rules.Reload))
	return &webshellProcessor{det: det, hub: h, log: log}, nil
}

func (p *webshellProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	if derived, _ := ev.Meta[metaDerived].(bool); derived {
		return ev, nil // published by the hub: detected and routed already
	}
	// The detector reads @timestamp like any field.
	doc := map[string]any(ev.Fields)
	doc["@timestamp"] = ev.Timestamp
	v, derived := p.det.ProcessAll(doc)
	if v == detector.Alert {
		logAlert(p.log, "alert", doc)
	}
	delete(doc, "@timestamp")
	p.hub.publish(p.log, p.det, derived)
	if v == detector.Drop {
		return nil, nil
	}
	ev.Fields = mapstr.M(doc)
	if ev.Meta == nil {
		ev.Meta = mapstr.M{}
	}
	ev.Meta[events.FieldMetaRawIndex] = p.det.Index(v)
	return ev, nil
}

// Close implements processors.Closer: the last processor of a shared
// detector saves its state (process table, baseline).
func (p *webshellProcessor) Close() error { return p.hub.release(p.det) }

func (p *webshellProcessor) String() string { return webshellName }

// logAlert writes a debug line per alert (-d processors.webshell, or
// -d "*"): its title, severity and rules, and what it is about, so that a
// detection engineer can watch the decisions without reading documents.
func logAlert(log *logp.Logger, kind string, doc map[string]any) {
	if !log.IsDebug() {
		return
	}
	kv := []any{}
	for _, f := range []string{"event.severity", "webshell.rule_ids", "host.name", "process.command_line", "process.parent.name", "url.original", "file.path", "webshell.update_of"} {
		if v, ok := detection.Lookup(doc, f); ok && v != "" {
			kv = append(kv, f, v)
		}
	}
	log.Debugw(kind+": "+detection.LookupString(doc, "message"), kv...)
}

func reloadText(r config.Reload) string {
	switch {
	case !r.Enabled:
		return "off"
	case r.Period <= 0:
		return "on SIGHUP"
	}
	return "on SIGHUP and every " + r.Period.String()
}
