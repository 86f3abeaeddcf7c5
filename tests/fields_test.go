package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// declared reads _meta/fields.yml: field name -> type, and the object
// fields whose keys are free (object_type): prefix -> type of every key.
func declared(t *testing.T) (fields map[string]string, objects map[string]string) {
	t.Helper()
	b, err := os.ReadFile("../_meta/fields.yml")
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		Key    string
		Fields []struct {
			Name       string
			Type       string
			ObjectType string `yaml:"object_type"`
		}
	}
	if err := yaml.Unmarshal(b, &groups); err != nil {
		t.Fatal(err)
	}
	fields, objects = map[string]string{}, map[string]string{}
	for _, g := range groups {
		for _, f := range g.Fields {
			typ := f.Type
			if typ == "" {
				typ = "keyword" // libbeat's default
			}
			if typ == "object" && f.ObjectType != "" {
				objects[f.Name] = f.ObjectType
				continue
			}
			if _, dup := fields[f.Name]; dup {
				t.Errorf("fields.yml declares %s twice", f.Name)
			}
			fields[f.Name] = typ
		}
	}
	return fields, objects
}

// declaredType is the type fields.yml gives to name ("" if none).
func declaredType(fields, objects map[string]string, name string) string {
	if typ, ok := fields[name]; ok {
		return typ
	}
	for prefix, typ := range objects {
		if strings.HasPrefix(name, prefix+".") {
			return typ
		}
	}
	return ""
}

// mappedLeaves flattens a mapping's properties to field -> type.
func mappedLeaves(props map[string]any, prefix string, out map[string]string) {
	for name, v := range props {
		m, _ := v.(map[string]any)
		full := prefix + name
		if sub, ok := m["properties"].(map[string]any); ok {
			mappedLeaves(sub, full+".", out)
			continue
		}
		typ, _ := m["type"].(string)
		if typ == "" {
			typ = "object"
		}
		out[full] = typ
	}
}

// checkMappings compares the mapping of every backing index of the beat's
// data streams with fields.yml: each mapped field must be declared, with
// the same type.
func checkMappings(t *testing.T, url string) {
	t.Helper()
	fields, objects := declared(t)
	status, out := osDo(t, http.MethodGet, url+"/logs-webshellbeat.*/_mapping", nil)
	if status != http.StatusOK {
		t.Fatalf("_mapping: %d %s", status, out)
	}
	var indices map[string]struct {
		Mappings struct {
			Properties map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(out, &indices); err != nil {
		t.Fatal(err)
	}
	if len(indices) < 2 {
		t.Fatalf("mappings of %d indices, want the alert and event streams' backing indices", len(indices))
	}
	seen := map[string]string{}
	var problems []string
	for index, m := range indices {
		leaves := map[string]string{}
		mappedLeaves(m.Mappings.Properties, "", leaves)
		for name, typ := range leaves {
			want := declaredType(fields, objects, name)
			if _, free := objects[name]; free && typ == "object" {
				want = "object" // an object of free keys, empty so far
			}
			switch {
			case want == "":
				problems = append(problems, fmt.Sprintf("%s: %s mapped as %s, not in fields.yml (dynamic)", index, name, typ))
			case want != typ:
				problems = append(problems, fmt.Sprintf("%s: %s mapped as %s, fields.yml says %s", index, name, typ, want))
			}
			if prev, ok := seen[name]; ok && prev != typ {
				problems = append(problems, fmt.Sprintf("%s: conflict, %s and %s", name, prev, typ))
			}
			seen[name] = typ
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d fields mapped across %d indices, all as declared: %v", len(seen), len(indices), len(problems) == 0)
}

// freePort returns a TCP port free on 127.0.0.1 now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type outputStats struct {
	Acked, Duplicates, Failed, Total int64
}

// beatStats reads the output counters from the beat's HTTP endpoint (zero
// while it is not up).
func beatStats(port int) outputStats {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/stats", port))
	if err != nil {
		return outputStats{}
	}
	defer resp.Body.Close()
	var s struct {
		Libbeat struct {
			Output struct {
				Events struct {
					Acked, Duplicates, Failed, Total int64
				}
			}
		}
	}
	if json.NewDecoder(resp.Body).Decode(&s) != nil {
		return outputStats{}
	}
	e := s.Libbeat.Output.Events
	return outputStats{e.Acked, e.Duplicates, e.Failed, e.Total}
}
