// Package config holds webshellbeat's typed detection settings: the options of
// the webshell processor, also read by the hunt command from webshellbeat.yml.
package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	conf "github.com/elastic/elastic-agent-libs/config"

	"webshellbeat/detection/ancestry"
	"webshellbeat/detection/session"
	"webshellbeat/detection/sigma"
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
	// Placeholders gives the values of the %name% placeholders of Sigma's
	// expand modifier: name -> values. A rule using a placeholder missing
	// here is rejected (unknown-placeholder).
	Placeholders map[string][]string `config:"placeholders"`
	// Reload watches Paths and Pipelines and swaps in changed rules.
	Reload Reload `config:"reload"`
	// MinLevel and ExcludeStatus choose which of the loaded rules run (see
	// sigma.Selection): rules below MinLevel ("" for all) or with a status
	// in ExcludeStatus (deprecated and unsupported by default, as in
	// Hayabusa) are counted and left out, except those a running
	// correlation names.
	MinLevel      string   `config:"min_level"`
	ExcludeStatus []string `config:"exclude_status"`
}

// Selection is the rule selection these settings ask for.
func (r Rules) Selection() sigma.Selection {
	return sigma.Selection{MinLevel: r.MinLevel, ExcludeStatus: r.ExcludeStatus}
}

// DefaultExcludeStatus are the statuses of rules left out unless
// rules.exclude_status says otherwise.
func DefaultExcludeStatus() []string { return []string{"deprecated", "unsupported"} }

// Reload configures the hot reload of rule files.
type Reload struct {
	// Enabled polls the rule files (Rules.Paths, Rules.Pipelines) and
	// reloads on SIGHUP; off, rules are read once at start.
	Enabled bool `config:"enabled"`
	// Period is how often the files' names, sizes and modification times
	// are compared with the last load (wall clock). 0 reloads on SIGHUP only.
	Period time.Duration `config:"period"`
}

// Detection is the configuration of the webshell processor.
type Detection struct {
	Rules Rules `config:"rules"`
	// Events selects the normalised events kept beside alerts.
	Events EventsMode `config:"events"`
	// Namespace is the data stream namespace: alerts go to
	// logs-webshellbeat.alert-<namespace>, events to logs-webshellbeat.event-<namespace>.
	Namespace string `config:"namespace"`
	// Ancestry configures the process table.
	Ancestry Ancestry `config:"ancestry"`
	// Correlation configures request -> process and upload -> execute links.
	Correlation Correlation `config:"correlation"`
	// Sessions configures the grouping of one web shell's alerts.
	Sessions Sessions `config:"sessions"`
	// Exceptions silence or lower matching alerts.
	Exceptions []session.Exception `config:"exceptions"`
	// Baseline learns known process shapes, then lowers or suppresses them.
	Baseline Baseline `config:"baseline"`
	// State is where the process table and the baseline are saved.
	State State `config:"state"`
}

// Ancestry configures the process table (detection/ancestry).
type Ancestry struct {
	Enabled        bool                 `config:"enabled"`
	MaxProcesses   int                  `config:"max_processes"`
	MaxHosts       int                  `config:"max_hosts"`
	IdleTimeout    time.Duration        `config:"idle_timeout"`
	MaxCommandLine int                  `config:"max_command_line"`
	WebServers     []ancestry.WebServer `config:"web_servers"`
	WebAccounts    []string             `config:"web_accounts"`
}

// Correlation configures detection/correlate.
type Correlation struct {
	Enabled bool `config:"enabled"`
	// Window is how long after a request's logged time (plus its
	// duration and the log's one-second resolution) a process it started may appear.
	Window time.Duration `config:"window"`
	// Reorder is how long an unmatched request or process waits for its partner.
	Reorder time.Duration `config:"reorder"`
	// LongRequest is how long a shell waits for a request whose parameter
	// is its exact command (a reverse shell's request is logged when it ends).
	LongRequest      time.Duration `config:"long_request"`
	MaxPending       int           `config:"max_pending"`
	UploadTTL        time.Duration `config:"upload_ttl"`
	WebRoots         []string      `config:"web_roots"`
	ScriptExtensions []string      `config:"script_extensions"`
	// InOrder is set by hunt, which reads events in time order: a request
	// comes before the shells it started (see correlate.Options.InOrder).
	InOrder bool `config:",ignore"`
}

// Sessions configures detection/session.
type Sessions struct {
	Enabled bool `config:"enabled"`
	// Mode: every (later alerts at later_severity) or summary (later alerts
	// become events, one summary alert per session per interval).
	Mode          string        `config:"mode"`
	Interval      time.Duration `config:"interval"`
	Idle          time.Duration `config:"idle"`
	LaterSeverity int           `config:"later_severity"`
}

// Baseline configures the learnt baseline.
type Baseline struct {
	Enabled        bool          `config:"enabled"`
	LearningPeriod time.Duration `config:"learning_period"`
	Action         string        `config:"action"` // lower | suppress
	MaxShapes      int           `config:"max_shapes"`
}

// State says where state is saved; empty Path saves nothing (hunt).
type State struct {
	Path         string        `config:"path"`
	SaveInterval time.Duration `config:"save_interval"`
}

// DefaultWebRoots are path fragments that mark a web root (case-insensitive,
// / and \ alike). An auditd event with the key "webroot" is under one too.
func DefaultWebRoots() []string {
	return []string{"/var/www/", "/srv/www/", "/srv/http/", "/usr/share/nginx/", "/htdocs/", "/public_html/", "/webapps/",
		"/inetpub/", "/frontend/httpproxy/", "/clientaccess/", "/wwwroot/", "/web server extensions/"}
}

// DefaultScriptExtensions are the extensions of server-side scripts.
func DefaultScriptExtensions() []string {
	return []string{".php", ".php3", ".php4", ".php5", ".php7", ".phtml", ".phar", ".jsp", ".jspx", ".jspf", ".asp", ".aspx",
		".ashx", ".asmx", ".ascx", ".cshtml", ".cfm", ".cfml", ".cgi", ".pl", ".py", ".war"}
}

// Default returns a fresh Detection with the defaults: the built-in rule pack,
// every event kept, namespace "default".
func Default() Detection {
	return Detection{
		Rules:     Rules{Builtin: true, Reload: Reload{Period: 10 * time.Second}, ExcludeStatus: DefaultExcludeStatus()},
		Events:    EventsAll,
		Namespace: "default",
		Ancestry: Ancestry{
			Enabled: true, MaxProcesses: 100000, MaxHosts: 1024, IdleTimeout: 24 * time.Hour, MaxCommandLine: 1024,
			WebServers: ancestry.DefaultWebServers(), WebAccounts: ancestry.DefaultWebAccounts(),
		},
		Correlation: Correlation{
			Enabled: true, Window: 2 * time.Second, Reorder: 30 * time.Second, LongRequest: 5 * time.Minute, MaxPending: 10000, UploadTTL: 7 * 24 * time.Hour,
			WebRoots: DefaultWebRoots(), ScriptExtensions: DefaultScriptExtensions(),
		},
		Sessions: Sessions{Enabled: true, Mode: "every", Interval: 10 * time.Minute, Idle: time.Hour, LaterSeverity: 21},
		Baseline: Baseline{LearningPeriod: 7 * 24 * time.Hour, Action: "lower", MaxShapes: 10000},
		State:    State{SaveInterval: 5 * time.Minute},
	}
}

// allowed lists the keys a webshell processor accepts; any other is an error,
// so that a misspelt option is not silently ignored.
var allowed = []string{"rules", "events", "namespace", "when", "ancestry", "correlation", "sessions", "exceptions", "baseline", "state"}

// UnknownKeys reports every key of c that is not in allowed, naming the
// accepted ones, so that a misspelt option is an error rather than ignored.
func UnknownKeys(c *conf.C, allowed []string) []error {
	var errs []error
	for _, k := range c.GetFields() {
		if !slices.Contains(allowed, k) {
			errs = append(errs, fmt.Errorf("unknown option %q (accepted: %s)", k, strings.Join(allowed, ", ")))
		}
	}
	return errs
}

// Unpack reads a Detection from c over the defaults, rejects unknown keys and
// validates the result.
func Unpack(c *conf.C) (Detection, error) {
	d := Default()
	if c == nil {
		return d, nil
	}
	errs := UnknownKeys(c, allowed)
	// ucfg merges a list into the default list element by element; a list
	// given in the configuration must replace the default instead.
	d.Ancestry.WebServers, d.Ancestry.WebAccounts = nil, nil
	d.Correlation.WebRoots, d.Correlation.ScriptExtensions = nil, nil
	d.Rules.ExcludeStatus = nil
	if err := c.Unpack(&d); err != nil {
		errs = append(errs, err)
	}
	def := Default()
	given := func(section, key string) bool {
		sub, err := c.Child(section, -1)
		return err == nil && sub.HasField(key)
	}
	if d.Ancestry.WebServers == nil && !given("ancestry", "web_servers") {
		d.Ancestry.WebServers = def.Ancestry.WebServers
	}
	if d.Ancestry.WebAccounts == nil && !given("ancestry", "web_accounts") {
		d.Ancestry.WebAccounts = def.Ancestry.WebAccounts
	}
	if d.Correlation.WebRoots == nil && !given("correlation", "web_roots") {
		d.Correlation.WebRoots = def.Correlation.WebRoots
	}
	if d.Correlation.ScriptExtensions == nil && !given("correlation", "script_extensions") {
		d.Correlation.ScriptExtensions = def.Correlation.ScriptExtensions
	}
	if d.Rules.ExcludeStatus == nil && !given("rules", "exclude_status") {
		d.Rules.ExcludeStatus = def.Rules.ExcludeStatus
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
	if d.Ancestry.MaxProcesses <= 0 || d.Ancestry.MaxHosts <= 0 || d.Ancestry.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("ancestry: max_processes (%d), max_hosts (%d) and idle_timeout (%s) must be positive", d.Ancestry.MaxProcesses, d.Ancestry.MaxHosts, d.Ancestry.IdleTimeout))
	}
	for i, w := range d.Ancestry.WebServers {
		if _, err := path.Match(strings.ToLower(w.Name), ""); err != nil || w.Name == "" {
			errs = append(errs, fmt.Errorf("ancestry.web_servers[%d].name: %q is not a glob", i, w.Name))
		}
	}
	if d.Correlation.Window <= 0 || d.Correlation.Reorder <= 0 || d.Correlation.LongRequest <= 0 || d.Correlation.MaxPending <= 0 {
		errs = append(errs, fmt.Errorf("correlation: window (%s), reorder (%s), long_request (%s) and max_pending (%d) must be positive",
			d.Correlation.Window, d.Correlation.Reorder, d.Correlation.LongRequest, d.Correlation.MaxPending))
	}
	if d.Sessions.Mode != "every" && d.Sessions.Mode != "summary" {
		errs = append(errs, fmt.Errorf("sessions.mode: %q is not one of every, summary", d.Sessions.Mode))
	}
	if d.Sessions.LaterSeverity < 1 || d.Sessions.LaterSeverity > 99 {
		errs = append(errs, fmt.Errorf("sessions.later_severity: %d is not in 1..99", d.Sessions.LaterSeverity))
	}
	if d.Baseline.Action != "lower" && d.Baseline.Action != "suppress" {
		errs = append(errs, fmt.Errorf("baseline.action: %q is not one of lower, suppress", d.Baseline.Action))
	}
	if d.Baseline.Enabled && d.Baseline.LearningPeriod <= 0 {
		errs = append(errs, fmt.Errorf("baseline.learning_period: %s must be positive", d.Baseline.LearningPeriod))
	}
	for i, e := range d.Exceptions {
		if err := e.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("exceptions[%d]: %w", i, err))
		}
	}
	for i, p := range d.Rules.Paths {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("rules.paths[%d]: empty path", i))
		}
	}
	if d.Rules.Reload.Period < 0 {
		errs = append(errs, fmt.Errorf("rules.reload.period: %s must not be negative", d.Rules.Reload.Period))
	}
	if err := d.Rules.Selection().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("rules.%w", err))
	}
	for name := range d.Rules.Placeholders {
		if ps := sigma.Placeholders("%" + name + "%"); len(ps) != 1 || ps[0] != name {
			errs = append(errs, fmt.Errorf("rules.placeholders: %q is not a placeholder name (letters, digits, _ and -, written without %%)", name))
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
