package cmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"unsafe"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/idxmgmt"
	"github.com/elastic/beats/v7/libbeat/idxmgmt/lifecycle"
	"github.com/elastic/beats/v7/libbeat/template"
	"github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	libversion "github.com/elastic/elastic-agent-libs/version"
)

// Why this file exists: libbeat's index management loads one template, named
// and matched by setup.template.name/pattern (webshellbeat-9.3.0), and then
// creates a data stream of that name. The webshell processor writes to two
// data streams, logs-webshellbeat.alert-<namespace> and
// logs-webshellbeat.event-<namespace>, so the beat installs one composable
// template per stream, both built by libbeat's template package from the same
// fields.yml. The data streams themselves are created by the first write.
//
// indexManagement is the beat's idxmgmt.SupportFactory (instance.Settings.
// IndexManagement); its manager serves `export template` (printed through
// libbeat's file loader), `setup --index-management` and the load at connect
// time of `run`. Against OpenSearch (detected from GET /, as in license.go)
// ILM is skipped: OpenSearch has no _ilm API (its own ISM is not set up).

// Stream is one data stream family that the beat writes.
type Stream struct {
	Template string // the composable template's name
	Pattern  string // its index pattern
}

// Streams are the data streams of processor/webshell.go.
var Streams = []Stream{
	{"logs-webshellbeat.alert", "logs-webshellbeat.alert-*"},
	{"logs-webshellbeat.event", "logs-webshellbeat.event-*"},
}

// streamPriority is above Elasticsearch's built-in logs-*-* template (100),
// which would otherwise map our fields with the logs mappings.
const streamPriority = 200

func indexManagement(log *logp.Logger, info beat.Info, root *config.C) (idxmgmt.Supporter, error) {
	base, err := idxmgmt.MakeDefaultSupport(nil, log)(log, info, root)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Lifecycle lifecycle.RawConfig `config:",inline"`
		Template  *config.C           `config:"setup.template"`
	}
	if root != nil {
		if err := root.Unpack(&cfg); err != nil {
			return nil, fmt.Errorf("index management settings: %w", err)
		}
	}
	tmpl := template.DefaultConfig(info)
	tmpl.Priority = streamPriority
	if cfg.Template != nil {
		if err := cfg.Template.Unpack(&tmpl); err != nil {
			return nil, fmt.Errorf("setup.template: %w", err)
		}
	}
	// As libbeat: lifecycle management is on unless set off explicitly.
	ilm := cfg.Lifecycle.DSL.Enabled() || cfg.Lifecycle.ILM.Enabled() ||
		((cfg.Lifecycle.DSL == nil || !cfg.Lifecycle.DSL.HasField("enabled")) &&
			(cfg.Lifecycle.ILM == nil || !cfg.Lifecycle.ILM.HasField("enabled")))
	return &indexSupport{Supporter: base, log: log.Named("index-management"), info: info, tmpl: tmpl, ilm: ilm}, nil
}

// indexSupport keeps libbeat's selector (events name their data stream in
// @metadata.raw_index) and replaces its manager.
type indexSupport struct {
	idxmgmt.Supporter
	log  *logp.Logger
	info beat.Info
	tmpl template.TemplateConfig
	ilm  bool
}

func (s *indexSupport) Enabled() bool { return s.tmpl.Enabled || s.ilm }

func (s *indexSupport) Manager(h idxmgmt.ClientHandler, assets idxmgmt.Asseter) idxmgmt.Manager {
	return &indexManager{s: s, h: h, assets: assets, base: s.Supporter.Manager(h, assets)}
}

type indexManager struct {
	s      *indexSupport
	h      idxmgmt.ClientHandler
	assets idxmgmt.Asseter
	base   idxmgmt.Manager
}

func (m *indexManager) VerifySetup(loadTemplate, loadILM idxmgmt.LoadMode) (bool, string) {
	return m.base.VerifySetup(loadTemplate, loadILM)
}

// Setup loads the lifecycle policy (Elasticsearch only) and the two
// templates, with libbeat's LoadMode rules: Disabled loads nothing, Unset
// and Enabled follow the configuration, Overwrite replaces what exists,
// Force loads even when the configuration disables it.
func (m *indexManager) Setup(loadTemplate, loadILM idxmgmt.LoadMode) error {
	log := m.s.log
	client := esClientOf(m.h)
	var openSearch bool
	if client != nil {
		openSearch = isOpenSearchClient(client)
	}

	withILM := false
	if m.s.ilm && openSearch {
		log.Info("OpenSearch: no ILM policy (OpenSearch has no _ilm API); templates without lifecycle settings")
	} else if m.s.ilm {
		var err error
		if withILM, err = m.h.CheckEnabled(); err != nil {
			return err
		}
	}
	policyLoad := withILM && loadILM != idxmgmt.LoadModeDisabled
	if policyLoad && m.h.Mode() == lifecycle.ILM {
		overwrite := loadILM >= idxmgmt.LoadModeOverwrite || m.h.Overwrite()
		if _, err := lifecycle.NewStdSupport(log, true).Manager(m.h).EnsurePolicy(overwrite); err != nil {
			return fmt.Errorf("lifecycle policy: %w", err)
		}
	}

	tmplLoad := loadTemplate == idxmgmt.LoadModeForce || (loadTemplate != idxmgmt.LoadModeDisabled && m.s.tmpl.Enabled)
	if !tmplLoad {
		return nil
	}
	overwrite := m.s.tmpl.Overwrite || loadTemplate >= idxmgmt.LoadModeOverwrite
	fields := m.assets.Fields(m.s.info.Beat)
	for _, st := range Streams {
		cfg := m.streamConfig(st, withILM)
		cfg.Overwrite = overwrite
		var err error
		if client == nil {
			// export template (file or stdout): libbeat's file loader
			err = m.h.Load(cfg, m.s.info, fields, false)
		} else {
			err = putTemplate(log, client, openSearch, cfg, m.s.info, fields)
		}
		if err != nil {
			return fmt.Errorf("template %s: %w", st.Template, err)
		}
	}
	return nil
}

// streamConfig is setup.template with the stream's name and pattern, and the
// ILM policy in its settings when ILM is on.
func (m *indexManager) streamConfig(st Stream, withILM bool) template.TemplateConfig {
	cfg := m.s.tmpl
	cfg.Name, cfg.Pattern = st.Template, st.Pattern
	cfg.Settings.Index = mapstr.M(cfg.Settings.Index).Clone()
	if cfg.Settings.Index == nil {
		cfg.Settings.Index = map[string]any{}
	}
	if withILM {
		switch m.h.Mode() {
		case lifecycle.ILM:
			_, _ = mapstr.M(cfg.Settings.Index).Put("lifecycle.name", m.h.PolicyName())
		case lifecycle.DSL:
			if p := m.h.Policy().Body; len(p) > 0 {
				cfg.Settings.Lifecycle = p
			}
		}
	}
	return cfg
}

// putTemplate puts one composable template, as libbeat's ES loader does,
// without its step of creating a data stream named after the template.
func putTemplate(log *logp.Logger, c idxmgmt.ESClient, openSearch bool, cfg template.TemplateConfig, info beat.Info, fields []byte) error {
	ver := c.GetVersion()
	if openSearch {
		ver = openSearchAPI // the mapping dialect of OpenSearch 1.x-3.x
	}
	if !cfg.Overwrite {
		status, _, _ := c.Request(http.MethodHead, "/_index_template/"+cfg.Name, "", nil, nil)
		if status == http.StatusOK {
			log.Infof("template %s exists and is not overwritten (setup.template.overwrite: false)", cfg.Name)
			return nil
		}
	}
	body, err := templateBody(c.IsServerless(), ver, cfg, info, fields, log)
	if err != nil {
		return err
	}
	status, out, err := c.Request(http.MethodPut, "/_index_template/"+cfg.Name, "", nil, body)
	if err != nil || status >= http.StatusMultipleChoices {
		return fmt.Errorf("PUT /_index_template/%s: status %d: %v %s", cfg.Name, status, err, out)
	}
	log.Infof("template %s loaded for %s", cfg.Name, cfg.Pattern)
	return nil
}

// templateBody builds a template from fields.yml with libbeat's template
// package.
func templateBody(serverless bool, ver libversion.V, cfg template.TemplateConfig, info beat.Info, fields []byte, log *logp.Logger) (mapstr.M, error) {
	t, err := template.New(serverless, info.Version, info.IndexPrefix, info.ElasticLicensed, ver, cfg, false, log)
	if err != nil {
		return nil, err
	}
	return t.LoadBytes(fields)
}

// isOpenSearchClient asks GET / whether the server is OpenSearch.
func isOpenSearchClient(c idxmgmt.ESClient) bool {
	status, body, err := c.Request(http.MethodGet, "/", "", nil, nil)
	var info rootInfo
	return err == nil && status == http.StatusOK && json.Unmarshal(body, &info) == nil && info.isOpenSearch()
}

// esClientOf returns the Elasticsearch connection inside libbeat's client
// handler, or nil for the file handler of export template. libbeat keeps it
// in the unexported client field of its template.ESLoader;
// TestESClientOf fails if that layout drifts.
func esClientOf(h idxmgmt.ClientHandler) idxmgmt.ESClient {
	v := reflect.ValueOf(h)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Loader")
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	loader, ok := f.Interface().(*template.ESLoader)
	if !ok || loader == nil {
		return nil
	}
	c := reflect.ValueOf(loader).Elem().FieldByName("client")
	if !c.IsValid() {
		return nil
	}
	client, _ := reflect.NewAt(c.Type(), unsafe.Pointer(c.UnsafeAddr())).Elem().Interface().(idxmgmt.ESClient)
	return client
}
