package processor

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/docid"
)

const docIDName = "add_document_id"

func init() {
	processors.RegisterPlugin(docIDName, newDocID)
}

// docIDProcessor sets @metadata._id, the document id the Elasticsearch
// output sends: docid.Record of the event, the identity of its source record
// (see package docid), else a unique id (docid.Sequence). A record sent twice
// then writes one document: the engine answers the second "create" with 409,
// which libbeat counts as done. A record with no identity is never merged
// with another that has the same text (the same request twice in a second,
// received over UDP), and a re-send of it still writes one document, since
// it keeps the id it was given here.
type docIDProcessor struct {
	overwrite bool
	unique    *docid.Sequence
}

type docIDConfig struct {
	// Overwrite replaces an _id set earlier (by another processor or the
	// input); false keeps it.
	Overwrite bool `config:"overwrite"`
}

func newDocID(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	var cfg docIDConfig
	if c != nil {
		if err := c.Unpack(&cfg); err != nil {
			return nil, fmt.Errorf("%s processor: %w", docIDName, err)
		}
	}
	return &docIDProcessor{overwrite: cfg.Overwrite, unique: docid.NewSequence()}, nil
}

func (p *docIDProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	if !p.overwrite {
		if v, err := ev.Meta.GetValue("_id"); err == nil && v != nil && v != "" {
			return ev, nil
		}
	}
	// Record reads @timestamp like any field (the audit identity).
	doc := map[string]any(ev.Fields)
	_, had := doc["@timestamp"]
	if !had {
		doc["@timestamp"] = ev.Timestamp
	}
	id, ok := docid.Record(doc)
	if !had {
		delete(doc, "@timestamp")
	}
	if !ok {
		id = p.unique.Next()
	}
	ev.SetID(id)
	return ev, nil
}

func (p *docIDProcessor) String() string { return docIDName }
