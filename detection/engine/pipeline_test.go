package engine

import (
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

// A user pipeline's rule-level transformations reach the engine: a rule
// with a logsource webshellbeat never sees is routed by change_logsource,
// and a rule_failure rejects rules with the pipeline's message at the
// rule's position, while the others load.
func TestRuleLevelPipelineInEngine(t *testing.T) {
	c := loadYAML(t, map[string]string{"r.yml": `title: Custom IIS Child
logsource: {product: windows, category: iis_child}
detection:
    selection:
        Image|endswith: '\whoami.exe'
    condition: selection
---
title: Registry Rule
logsource: {product: windows, category: registry_set}
detection:
    selection:
        TargetObject|contains: '\Run\'
    condition: selection
`})
	if len(c.Errors) > 0 {
		t.Fatal(c.Errors)
	}
	p, err := pipeline.Parse("site.yml", []byte(`name: site
transformations:
  - id: iis_child_is_process_creation
    type: change_logsource
    rule_conditions: [{type: logsource, category: iis_child}]
    product: windows
    category: process_creation
  - id: no_registry
    type: rule_failure
    rule_conditions: [{type: logsource, category: registry_set}]
    message: registry events are not collected on these servers
`))
	if err != nil {
		t.Fatal(err)
	}
	without, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(c, Options{Pipelines: []*pipeline.Pipeline{p}})
	if err != nil {
		t.Fatal(err)
	}
	doc := windowsProc(`C:\Windows\System32\whoami.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`)
	if got := titles(without.Match(doc)); len(got) != 0 || without.Stats().Unroutable != 1 {
		t.Fatalf("without the pipeline: matched %q, stats %+v", got, without.Stats())
	}
	if got := titles(e.Match(doc)); !slices.Equal(got, []string{"Custom IIS Child"}) {
		t.Errorf("with change_logsource: matched %q", got)
	}
	errs := e.Errors()
	if len(errs) != 1 || errs[0].Code != sigma.CodePipeline || errs[0].Line != 8 ||
		!strings.Contains(errs[0].Msg, "pipeline site, transformation 2 (no_registry): registry events are not collected") {
		t.Errorf("engine errors %v", errs)
	}
	if st := e.Stats(); st.Rules != 1 || st.Failed != 1 || st.Unroutable != 0 {
		t.Errorf("stats %+v", st)
	}
}
