package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const kibanaDir = "../_meta/kibana"

// savedObject is a Kibana 8.x saved object as exported/imported in NDJSON.
type savedObject struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
	References []struct {
		Name, Type, ID string
	} `json:"references"`
}

// loadSavedObjects reads every file of _meta/kibana/7/<type>/ (libbeat's
// layout for setup --dashboards): each must be NDJSON, one saved object per
// line, of the type its folder names.
func loadSavedObjects(t *testing.T) map[string]savedObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kibanaDir, "7", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no saved objects in %s/7: %v", kibanaDir, err)
	}
	objs := map[string]savedObject{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		n := 0
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			n++
			var o savedObject
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Errorf("%s line %d: not JSON: %v", f, n, err)
				continue
			}
			if want := filepath.Base(filepath.Dir(f)); o.Type != want || o.ID+".json" != filepath.Base(f) {
				t.Errorf("%s: object %s/%s in the wrong place", f, o.Type, o.ID)
			}
			objs[o.Type+"/"+o.ID] = o
		}
		if n != 1 {
			t.Errorf("%s: %d objects, want one per file", f, n)
		}
	}
	return objs
}

// jsonAttr returns an attribute that Kibana stores as a JSON string
// (visState, panelsJSON, searchSourceJSON), decoded, whether the file holds
// it as a string or, as libbeat allows, as an object.
func jsonAttr(t *testing.T, v any) map[string]any {
	t.Helper()
	if s, ok := v.(string); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("attribute is not JSON: %v", err)
		}
		return m
	}
	m, _ := v.(map[string]any)
	return m
}

// aggTypes lists, per aggregation, the field types it works on.
var aggTypes = map[string][]string{
	"terms":          {"keyword", "long", "double", "float", "ip", "boolean", "date"},
	"date_histogram": {"date"},
	"histogram":      {"long", "double", "float"},
	"min":            {"long", "double", "float", "date"},
	"max":            {"long", "double", "float", "date"},
	"avg":            {"long", "double", "float"},
	"sum":            {"long", "double", "float"},
	"cardinality":    {"keyword", "long", "double", "float", "ip", "boolean", "date"},
}

// TestKibanaObjects checks the saved objects structurally: data views for
// the two streams, every referenced object present, every field used exists
// in fields.yml with a type its aggregation supports (no aggregation on
// text or on a field not indexed).
func TestKibanaObjects(t *testing.T) {
	objs := loadSavedObjects(t)
	fields, objects := declared(t)
	typeOf := func(f string) string {
		if f == "@timestamp" {
			return "date"
		}
		return declaredType(fields, objects, f)
	}
	notIndexed := notIndexedFields(t)

	views := map[string]string{}
	for _, o := range objs {
		if o.Type == "index-pattern" {
			views[fmt.Sprint(o.Attributes["title"])] = o.ID
			if o.Attributes["timeFieldName"] != "@timestamp" {
				t.Errorf("data view %s: time field %v", o.ID, o.Attributes["timeFieldName"])
			}
		}
	}
	for _, title := range []string{"logs-webshellbeat.alert-*", "logs-webshellbeat.event-*"} {
		if views[title] == "" {
			t.Errorf("no data view for %s", title)
		}
	}
	var dashboards, searches int
	for key, o := range objs {
		for _, r := range o.References {
			if _, ok := objs[r.Type+"/"+r.ID]; !ok {
				t.Errorf("%s references missing %s/%s", key, r.Type, r.ID)
			}
		}
		switch o.Type {
		case "visualization":
			vs := jsonAttr(t, o.Attributes["visState"])
			aggs, _ := vs["aggs"].([]any)
			if len(aggs) == 0 {
				t.Errorf("%s: no aggregations", key)
			}
			for _, a := range aggs {
				agg, _ := a.(map[string]any)
				typ, _ := agg["type"].(string)
				params, _ := agg["params"].(map[string]any)
				field, _ := params["field"].(string)
				if typ == "count" {
					continue
				}
				allowed, known := aggTypes[typ]
				if !known {
					t.Errorf("%s: aggregation %s not checked by this test", key, typ)
					continue
				}
				ft := typeOf(field)
				switch {
				case ft == "":
					t.Errorf("%s: %s on %q, not in fields.yml", key, typ, field)
				case !slices.Contains(allowed, ft):
					t.Errorf("%s: %s on %s of type %s", key, typ, field, ft)
				case notIndexed[field]:
					t.Errorf("%s: %s on %s, which is not indexed", key, typ, field)
				}
			}
			checkSearchSource(t, key, o)
			// An updated copy repeats an alert with what a later event
			// linked to it: the panels that count alerts leave copies out,
			// the one that shows those links keeps them.
			if q := queryOf(t, o); key != "visualization/webshellbeat-request-process" && !strings.Contains(q, "not webshell.update_of:*") {
				t.Errorf("%s: query %q counts updated copies as alerts of their own", key, q)
			}
		case "search":
			searches++
			cols, _ := o.Attributes["columns"].([]any)
			for _, c := range cols {
				if typeOf(fmt.Sprint(c)) == "" {
					t.Errorf("%s: column %v not in fields.yml", key, c)
				}
			}
			checkSearchSource(t, key, o)
		case "dashboard":
			dashboards++
			var panels []map[string]any
			switch p := o.Attributes["panelsJSON"].(type) {
			case string:
				if err := json.Unmarshal([]byte(p), &panels); err != nil {
					t.Fatalf("%s: panelsJSON: %v", key, err)
				}
			case []any:
				for _, e := range p {
					m, _ := e.(map[string]any)
					panels = append(panels, m)
				}
			}
			names := map[string]bool{}
			for _, r := range o.References {
				names[r.Name] = true
			}
			for _, p := range panels {
				if ref, _ := p["panelRefName"].(string); !names[ref] {
					t.Errorf("%s: panel %v has no reference %q", key, p["panelIndex"], ref)
				}
			}
			if len(panels) < 7 {
				t.Errorf("%s: %d panels, want the 6 visualizations and the triage search", key, len(panels))
			}
		}
	}
	if dashboards == 0 || searches == 0 {
		t.Errorf("%d dashboards, %d saved searches", dashboards, searches)
	}
}

// checkSearchSource: the object's data view is one of ours, by reference.
func checkSearchSource(t *testing.T, key string, o savedObject) {
	t.Helper()
	meta, _ := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
	ss := jsonAttr(t, meta["searchSourceJSON"])
	ref, _ := ss["indexRefName"].(string)
	for _, r := range o.References {
		if r.Name == ref && r.Type == "index-pattern" {
			return
		}
	}
	t.Errorf("%s: no data view reference %q", key, ref)
}

// queryOf is the KQL query of the object's search source.
func queryOf(t *testing.T, o savedObject) string {
	t.Helper()
	meta, _ := o.Attributes["kibanaSavedObjectMeta"].(map[string]any)
	q, _ := jsonAttr(t, meta["searchSourceJSON"])["query"].(map[string]any)
	s, _ := q["query"].(string)
	return s
}

// notIndexedFields are fields.yml fields with index: false.
func notIndexedFields(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../_meta/fields.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	var name string
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(l, "- name: "); ok {
			name = strings.Trim(v, `"`)
		}
		if l == "index: false" {
			out[name] = true
		}
	}
	return out
}

// TestSetupDashboards runs `webshellbeat setup --dashboards` against a local
// endpoint that answers as Kibana 8 and records the saved-objects imports.
func TestSetupDashboards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the beat binary")
	}
	want := loadSavedObjects(t)
	kb := newFakeKibana(t)
	defer kb.Close()

	dir := t.TempDir()
	home, _ := filepath.Abs(kibanaDir)
	cfg, _ := filepath.Abs("../webshellbeat.yml")
	cmd := exec.Command(binary, "setup", "--dashboards", "--strict.perms=false", "-c", cfg,
		"--path.home", dir, "-E", "setup.kibana.host="+kb.URL, "-E", "setup.dashboards.directory="+home)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Loaded dashboards") {
		t.Fatalf("setup --dashboards: %v\n%s", err, out)
	}
	imported, requests := kb.imports()
	for key := range want {
		if _, ok := imported[key]; !ok {
			t.Errorf("%s not imported; requests %v", key, requests)
		}
	}
	// Kibana stores these attributes as JSON strings: the loader must send
	// them so.
	for key, o := range imported {
		if o.Type == "visualization" {
			if _, ok := o.Attributes["visState"].(string); !ok {
				t.Errorf("%s: visState sent as %T, Kibana wants a string", key, o.Attributes["visState"])
			}
		}
		if o.Type == "dashboard" {
			if _, ok := o.Attributes["panelsJSON"].(string); !ok {
				t.Errorf("%s: panelsJSON sent as %T", key, o.Attributes["panelsJSON"])
			}
		}
	}
	t.Logf("%d saved objects imported in %d requests", len(imported), len(requests))
}

// fakeKibana is a stand-in for Kibana (a fake: no Kibana runs here) that
// answers /api/status as 8.17 and takes saved-object imports as Kibana's
// API does (multipart NDJSON, kbn-xsrf, overwrite), keeping what it got.
type fakeKibana struct {
	*httptest.Server
	mu       sync.Mutex
	imported map[string]savedObject
	requests []string
}

func newFakeKibana(t *testing.T) *fakeKibana {
	kb := &fakeKibana{imported: map[string]savedObject{}}
	kb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kb.mu.Lock()
		kb.requests = append(kb.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		kb.mu.Unlock()
		switch {
		case r.URL.Path == "/api/status":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"name":"kibana","version":{"number":"8.17.0","build_snapshot":false},"status":{"overall":{"level":"available"}}}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/saved_objects/_import":
			if r.Header.Get("kbn-xsrf") == "" || r.URL.Query().Get("overwrite") != "true" {
				http.Error(w, `{"error":"missing kbn-xsrf or overwrite"}`, http.StatusBadRequest)
				return
			}
			mr, err := r.MultipartReader()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			n := 0
			for {
				part, err := mr.NextPart()
				if err != nil {
					break
				}
				n += readImport(t, part, &kb.mu, kb.imported)
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"success":true,"successCount":%d}`, n)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		}
	}))
	return kb
}

// imports returns the saved objects imported so far and the requests made.
func (kb *fakeKibana) imports() (map[string]savedObject, []string) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	return maps.Clone(kb.imported), slices.Clone(kb.requests)
}

// readImport reads one multipart part of an import: NDJSON saved objects.
func readImport(t *testing.T, part *multipart.Part, mu *sync.Mutex, into map[string]savedObject) int {
	t.Helper()
	if part.FormName() != "file" || !strings.HasSuffix(part.FileName(), ".ndjson") {
		t.Errorf("import part %q file %q, want file=*.ndjson", part.FormName(), part.FileName())
	}
	sc := bufio.NewScanner(part)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var o savedObject
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Errorf("import: a line that is not JSON: %v", err)
			continue
		}
		mu.Lock()
		into[o.Type+"/"+o.ID] = o
		mu.Unlock()
		n++
	}
	return n
}
