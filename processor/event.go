// Package processor registers webshellbeat's libbeat processors:
// decode_windows_event, decode_auditd and decode_access_log (one mapper per
// source, usable in any processor chain) and webshell (the detector). They
// never drop an event they cannot read: it keeps its text and gets an
// error.message, and the processor returns no error, so the pipeline
// publishes it.
package processor

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/mapstr"

	"webshellbeat/config"
)

// sourceText returns the raw record a decode processor reads: field's value
// (default "message"), without the UTF-8 byte order mark that the first
// line of a file carries when the file starts with one (IIS's UTF-8 logs,
// PowerShell's Out-File -Encoding UTF8).
func sourceText(ev *beat.Event, field string) (string, error) {
	v, err := ev.GetValue(field)
	if err != nil {
		return "", fmt.Errorf("no %q field to decode", field)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("field %q is a %T, not text", field, v)
	}
	return strings.TrimPrefix(s, "\ufeff"), nil
}

// apply merges a mapped ECS document into the event: the document's fields
// win, the input's own fields (log.*, input.*, agent.*) stay, the record's
// time becomes the event's time, and the raw text moves from field to
// event.original.
func apply(ev *beat.Event, doc map[string]any, field, raw string) {
	if t, ok := doc["@timestamp"].(time.Time); ok {
		ev.Timestamp = t
		delete(doc, "@timestamp")
	}
	if field == "message" {
		ev.Fields.Delete("message")
	}
	ev.Fields.DeepUpdate(mapstr.M(doc))
	if ok, _ := ev.Fields.HasKey("event.original"); !ok {
		_, _ = ev.Fields.Put("event.original", raw)
	}
}

// fail records why the event could not be mapped and keeps it.
func fail(ev *beat.Event, name string, err error) {
	_, _ = ev.Fields.Put("error.message", name+": "+err.Error())
}

// decodeConfig is the configuration the decode processors share.
type decodeConfig struct {
	// Field holds the raw record (default "message").
	Field string `config:"field"`
}

func unpackStrict(c *conf.C, allowed []string, into any) error {
	errs := config.UnknownKeys(c, allowed)
	if err := c.Unpack(into); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
