package compile

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"webshellbeat/detection/sigma"
)

const sigmaHQ = "../../../shared/data/SigmaHQ-sigma"

// flatten turns one evtx-as-JSON event into the flat Sigma-named document
// the SigmaHQ rules expect: EventData names plus the System fields Sigma
// exposes (EventID, Channel, Provider_Name, Computer).
func flatten(ev map[string]any) map[string]any {
	e, _ := ev["Event"].(map[string]any)
	sys, _ := e["System"].(map[string]any)
	doc := map[string]any{"EventID": sys["EventID"], "Channel": sys["Channel"], "Computer": sys["Computer"]}
	if p, ok := sys["Provider"].(map[string]any); ok {
		if a, ok := p["#attributes"].(map[string]any); ok {
			doc["Provider_Name"] = a["Name"]
		}
	}
	for _, part := range []string{"EventData", "UserData"} {
		data, _ := e[part].(map[string]any)
		for k, v := range data {
			if k == "#attributes" {
				continue
			}
			if inner, ok := v.(map[string]any); ok && part == "UserData" {
				for k2, v2 := range inner {
					doc[k2] = v2
				}
				continue
			}
			doc[k] = v
		}
	}
	return doc
}

func readEvents(t *testing.T, file string) []map[string]any {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var out []map[string]any
	for {
		var ev map[string]any
		if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, flatten(ev))
	}
}

// TestSigmaHQRegressionData runs each SigmaHQ rule that has regression data
// on its recorded positive events (real evtx, converted to JSON), with no
// field mapping since those events carry Sigma's own field names.
func TestSigmaHQRegressionData(t *testing.T) {
	infos, _ := filepath.Glob(filepath.Join(sigmaHQ, "regression_data", "*", "*", "*", "*", "info.yml"))
	more, _ := filepath.Glob(filepath.Join(sigmaHQ, "regression_data", "*", "*", "*", "*", "*", "info.yml"))
	infos = append(infos, more...)
	if len(infos) == 0 {
		t.Skip("no SigmaHQ regression data")
	}
	dirs, _ := filepath.Glob(filepath.Join(sigmaHQ, "rules*"))
	byID := map[string]*sigma.Rule{}
	for _, r := range sigma.LoadPaths(dirs...).Rules {
		byID[r.ID] = r
	}
	var passed, failed int
	for _, info := range infos {
		var meta struct {
			RuleMetadata []struct{ ID string } `yaml:"rule_metadata"`
		}
		data, _ := os.ReadFile(info)
		if err := yaml.Unmarshal(data, &meta); err != nil || len(meta.RuleMetadata) == 0 {
			t.Errorf("%s: %v", info, err)
			continue
		}
		id := meta.RuleMetadata[0].ID
		r := byID[id]
		if r == nil {
			t.Errorf("%s: rule %s not loaded", info, id)
			continue
		}
		fields := NewFields()
		cr, err := Compile(r, fields)
		if err != nil {
			t.Errorf("%s: %v", r.Path, err)
			continue
		}
		ev := NewEvent(fields)
		hit := false
		for _, doc := range readEvents(t, filepath.Join(filepath.Dir(info), id+".json")) {
			ev.Reset(doc)
			hit = hit || cr.Match(ev)
		}
		if hit {
			passed++
		} else {
			failed++
			t.Errorf("%s: rule %q does not match its positive regression events", strings.TrimPrefix(r.Path, sigmaHQ+"/"), r.Title)
		}
	}
	t.Logf("SigmaHQ regression data: %d rules match their positive events, %d do not", passed, failed)
}
