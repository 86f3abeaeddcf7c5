package processor

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/config"
	"webshellbeat/detector"
)

const webshellName = "webshell"

func init() {
	processors.RegisterPlugin(webshellName, newWebshell)
}

// webshellProcessor runs the detector on normalised events: a match turns the
// event into an alert document routed to logs-webshellbeat.alert-<namespace>;
// other events go to logs-webshellbeat.event-<namespace>, or are dropped when
// events: none.
type webshellProcessor struct {
	det *detector.Detector
}

func newWebshell(c *conf.C, log *logp.Logger) (beat.Processor, error) {
	cfg, err := config.Unpack(c)
	if err != nil {
		return nil, fmt.Errorf("%s processor: %w", webshellName, err)
	}
	det, err := detector.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s processor: %w", webshellName, err)
	}
	log = log.Named(webshellName)
	for _, p := range det.Problems {
		log.Warnf("rule not used or loaded with a warning: %v", p)
	}
	log.Infof("%d rules loaded (%d problems reported above)", det.Loaded, len(det.Problems))
	return &webshellProcessor{det: det}, nil
}

func (p *webshellProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	// The detector reads @timestamp like any field.
	doc := map[string]any(ev.Fields)
	doc["@timestamp"] = ev.Timestamp
	v := p.det.Process(doc)
	delete(doc, "@timestamp")
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

func (p *webshellProcessor) String() string { return webshellName }
