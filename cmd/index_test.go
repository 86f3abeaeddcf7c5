package cmd

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/idxmgmt"
	"github.com/elastic/beats/v7/libbeat/idxmgmt/lifecycle"
	"github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/paths"
	libversion "github.com/elastic/elastic-agent-libs/version"
)

// fakeServer is an idxmgmt.ESClient that answers GET / as Elasticsearch or
// OpenSearch and records the other requests.
type fakeServer struct {
	openSearch bool
	mu         sync.Mutex
	calls      []string
	bodies     map[string]any
}

func (f *fakeServer) Request(method, path, _ string, _ map[string]string, body any) (int, []byte, error) {
	if method == http.MethodGet && path == "/" {
		if f.openSearch {
			return 200, []byte(`{"version":{"number":"2.19.6","distribution":"opensearch"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`), nil
		}
		return 200, []byte(`{"version":{"number":"9.3.0"},"tagline":"You Know, for Search"}`), nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method+" "+path)
	if body != nil {
		if f.bodies == nil {
			f.bodies = map[string]any{}
		}
		b, _ := json.Marshal(body)
		var v any
		_ = json.Unmarshal(b, &v)
		f.bodies[method+" "+path] = v
	}
	if method == http.MethodHead || (method == http.MethodGet && strings.HasPrefix(path, "/_ilm/")) {
		return 404, nil, nil
	}
	return 200, []byte(`{"acknowledged":true}`), nil
}

func (f *fakeServer) GetVersion() libversion.V {
	if f.openSearch {
		return *libversion.MustNew("7.10.2")
	}
	return *libversion.MustNew("9.3.0")
}
func (f *fakeServer) IsServerless() bool { return false }

type fieldsAsset []byte

func (a fieldsAsset) Fields(string) []byte { return a }

func setupAgainst(t *testing.T, f *fakeServer, settings map[string]any) {
	t.Helper()
	log := logptest.NewTestingLogger(t, "")
	info := beat.Info{Beat: Name, IndexPrefix: Name, Version: "9.3.0", Logger: log}
	root := config.MustNewConfigFrom(settings)
	sup, err := indexManagement(log, info, root)
	if err != nil {
		t.Fatal(err)
	}
	var raw lifecycle.RawConfig
	if err := root.Unpack(&raw); err != nil {
		t.Fatal(err)
	}
	h, err := idxmgmt.NewESClientHandler(f, info, paths.New(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if esClientOf(h) != idxmgmt.ESClient(f) {
		t.Fatal("esClientOf: libbeat's client handler layout changed (template.ESLoader.client)")
	}
	fields, err := includeFields()
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.Manager(h, fieldsAsset(fields)).Setup(idxmgmt.LoadModeOverwrite, idxmgmt.LoadModeEnabled); err != nil {
		t.Fatal(err)
	}
}

func includeFields() ([]byte, error) { return os.ReadFile("../include/fields.yml") }

func TestIndexSetupOpenSearch(t *testing.T) {
	f := &fakeServer{openSearch: true}
	setupAgainst(t, f, map[string]any{})
	want := []string{"PUT /_index_template/logs-webshellbeat.alert", "PUT /_index_template/logs-webshellbeat.event"}
	if strings.Join(f.calls, ",") != strings.Join(want, ",") {
		t.Errorf("requests %v, want %v (no ILM, no data stream put)", f.calls, want)
	}
	for _, c := range want {
		b, _ := json.Marshal(f.bodies[c])
		if strings.Contains(string(b), "lifecycle") {
			t.Errorf("%s has lifecycle settings: %s", c, b)
		}
		if !strings.Contains(string(b), `"data_stream":{}`) {
			t.Errorf("%s is not a data stream template", c)
		}
	}
}

func TestIndexSetupElasticsearch(t *testing.T) {
	f := &fakeServer{}
	setupAgainst(t, f, map[string]any{})
	joined := strings.Join(f.calls, ",")
	for _, want := range []string{"PUT /_ilm/policy/webshellbeat", "PUT /_index_template/logs-webshellbeat.alert", "PUT /_index_template/logs-webshellbeat.event"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %s in %v", want, f.calls)
		}
	}
	b, _ := json.Marshal(f.bodies["PUT /_index_template/logs-webshellbeat.alert"])
	if !strings.Contains(string(b), `"lifecycle":{"name":"webshellbeat"}`) {
		t.Errorf("alert template without the ILM policy: %s", b)
	}
	if !strings.Contains(string(b), `"index_patterns":["logs-webshellbeat.alert-*"]`) || !strings.Contains(string(b), `"priority":200`) {
		t.Errorf("alert template pattern or priority: %s", b)
	}

	// setup.ilm.enabled: false: templates only.
	f = &fakeServer{}
	setupAgainst(t, f, map[string]any{"setup.ilm.enabled": false})
	if strings.Contains(strings.Join(f.calls, ","), "_ilm") {
		t.Errorf("ILM disabled but %v", f.calls)
	}
}
