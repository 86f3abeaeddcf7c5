// Package config holds webshellbeat's typed detection settings: the options of
// the webshell processor, also read by the hunt command from webshellbeat.yml.
package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	conf "github.com/elastic/elastic-agent-libs/config"
)

// EventsMode says which normalised events are indexed beside the alerts.
type EventsMode string

const (
	// EventsAll keeps every normalised event (data stream logs-webshellbeat.event-*).
	EventsAll EventsMode = "all"
	// EventsNone keeps alerts only.
	EventsNone EventsMode = "none"
)

// Unpack implements ucfg's custom unpacking so that a wrong value is reported
// with the accepted ones.
func (m *EventsMode) Unpack(s string) error {
	switch EventsMode(strings.ToLower(s)) {
	case EventsAll, EventsNone:
		*m = EventsMode(strings.ToLower(s))
		return nil
	}
	return fmt.Errorf("events: %q is not one of all, none", s)
}

// Rules says where Sigma rules come from.
type Rules struct {
	// Builtin loads webshellbeat's embedded rule pack.
	Builtin bool `config:"builtin"`
	// Paths are rule files or folders (searched recursively for *.yml, *.yaml).
	Paths []string `config:"paths"`
	// Pipelines are extra field-mapping pipeline files (pySigma shape).
	Pipelines []string `config:"pipelines"`
}

// Detection is the configuration of the webshell processor.
type Detection struct {
	Rules Rules `config:"rules"`
	// Events selects the normalised events kept beside alerts.
	Events EventsMode `config:"events"`
	// Namespace is the data stream namespace: alerts go to
	// logs-webshellbeat.alert-<namespace>, events to logs-webshellbeat.event-<namespace>.
	Namespace string `config:"namespace"`
}

// Default returns a fresh Detection with the defaults: the built-in rule pack,
// every event kept, namespace "default".
func Default() Detection {
	return Detection{
		Rules:     Rules{Builtin: true},
		Events:    EventsAll,
		Namespace: "default",
	}
}

// allowed lists the keys a webshell processor accepts; any other is an error,
// so that a misspelt option is not silently ignored.
var allowed = []string{"rules", "events", "namespace", "when"}

// Unpack reads a Detection from c over the defaults, rejects unknown keys and
// validates the result.
func Unpack(c *conf.C) (Detection, error) {
	d := Default()
	if c == nil {
		return d, nil
	}
	var errs []error
	for _, k := range c.GetFields() {
		if !slices.Contains(allowed, k) {
			errs = append(errs, fmt.Errorf("unknown option %q (accepted: %s)", k, strings.Join(allowed, ", ")))
		}
	}
	if err := c.Unpack(&d); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return d, err
	}
	return d, d.Validate()
}

// Validate reports every problem at once, naming the key and the value.
func (d Detection) Validate() error {
	var errs []error
	if !d.Rules.Builtin && len(d.Rules.Paths) == 0 {
		errs = append(errs, errors.New("rules: builtin is false and no rules.paths are given: there would be no rule to run"))
	}
	if d.Namespace == "" || strings.ContainsAny(d.Namespace, `-\/*?"<>| ,#:`) || strings.ToLower(d.Namespace) != d.Namespace {
		errs = append(errs, fmt.Errorf("namespace: %q must be non-empty lowercase without '-', spaces or \\/*?\"<>|,#: (a data stream name part)", d.Namespace))
	}
	for i, p := range d.Rules.Paths {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("rules.paths[%d]: empty path", i))
		}
	}
	return errors.Join(errs...)
}

// AlertIndex is the data stream that alerts are written to.
func (d Detection) AlertIndex() string { return "logs-webshellbeat.alert-" + d.Namespace }

// EventIndex is the data stream that normalised events are written to.
func (d Detection) EventIndex() string { return "logs-webshellbeat.event-" + d.Namespace }

// FromFile reads the detection settings of a webshellbeat.yml: the options of
// the first webshell processor in its top-level processors list. A file
// without one gives the defaults.
func FromFile(path string) (Detection, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Detection{}, err
	}
	c, err := conf.NewConfigWithYAML(data, path)
	if err != nil {
		return Detection{}, fmt.Errorf("%s: %w", path, err)
	}
	var top struct {
		Processors []*conf.C `config:"processors"`
	}
	if err := c.Unpack(&top); err != nil {
		return Detection{}, fmt.Errorf("%s: %w", path, err)
	}
	for i, p := range top.Processors {
		if !p.HasField("webshell") {
			continue
		}
		child, err := p.Child("webshell", -1)
		if err != nil {
			return Detection{}, fmt.Errorf("%s: processors[%d].webshell: %w", path, i, err)
		}
		d, err := Unpack(child)
		if err != nil {
			return d, fmt.Errorf("%s: processors[%d].webshell: %w", path, i, err)
		}
		return d, nil
	}
	return Default(), nil
}
