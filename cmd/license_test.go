package cmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/elastic/beats/v7/libbeat/esleg/eslegclient"
	"github.com/elastic/beats/v7/libbeat/licenser"
	"github.com/elastic/elastic-agent-libs/logp"
)

// TestLicenseCallbackReplaced: after RootCmd, libbeat's global callbacks hold
// checkServer in place of licenser.FetchAndVerify (this also checks that the
// mirrored registry layout still matches libbeat's).
func TestLicenseCallbackReplaced(t *testing.T) {
	RootCmd()
	license := reflect.ValueOf(licenser.FetchAndVerify).Pointer()
	ours := reflect.ValueOf(checkServer).Pointer()
	globalCallbackRegistry.mutex.Lock()
	defer globalCallbackRegistry.mutex.Unlock()
	n := 0
	for _, cb := range globalCallbackRegistry.callbacks {
		switch reflect.ValueOf(cb).Pointer() {
		case license:
			t.Error("libbeat's license callback is still registered")
		case ours:
			n++
		}
	}
	if n != 1 {
		t.Errorf("checkServer registered %d times, want 1 (callbacks: %d)", n, len(globalCallbackRegistry.callbacks))
	}
}

const (
	// GET / of OpenSearch 2.19 with compatibility.override_main_response_version
	// off, and on (no distribution, version 7.10.2).
	openSearchRoot       = `{"name":"n","cluster_name":"c","version":{"distribution":"opensearch","number":"2.19.6","build_type":"tar","lucene_version":"9.12.3","minimum_wire_compatibility_version":"7.10.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`
	openSearchCompatRoot = `{"name":"n","cluster_name":"c","version":{"number":"7.10.2","build_type":"tar","lucene_version":"9.12.3"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`
	elasticRoot          = `{"name":"n","cluster_name":"c","version":{"number":"9.3.0","build_flavor":"default","build_type":"tar","lucene_version":"10.3.1"},"tagline":"You Know, for Search"}`
	elasticLicense       = `{"license":{"status":"active","uid":"u","type":"basic","issue_date":"2025-01-01T00:00:00.000Z","issue_date_in_millis":1735689600000,"max_nodes":1000,"issued_to":"c","issuer":"elasticsearch","start_date_in_millis":-1}}`
)

// server answers GET / with root and GET /_license with license (404 if
// empty), and counts the license requests.
func server(t *testing.T, root, license string) (*httptest.Server, *atomic.Int32) {
	var licenseCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/":
			w.Write([]byte(root))
		case strings.HasPrefix(r.URL.Path, "/_license"):
			licenseCalls.Add(1)
			if license == "" {
				http.Error(w, `{"error":"no handler found for uri [/_license]"}`, http.StatusNotFound)
				return
			}
			w.Write([]byte(license))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &licenseCalls
}

func connect(t *testing.T, url string) *eslegclient.Connection {
	t.Helper()
	conn, err := eslegclient.NewConnection(eslegclient.ConnectionSettings{URL: url}, logp.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Connect(context.Background()); err != nil { // GET /, no callbacks
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestCheckServer(t *testing.T) {
	cases := []struct {
		name, root, license string
		wantErr             bool
		wantLicenseCalls    int32
		wantVersion         string
	}{
		{"opensearch", openSearchRoot, "", false, 0, "7.10.2"},
		{"opensearch compat override", openSearchCompatRoot, "", false, 0, "7.10.2"},
		{"elasticsearch", elasticRoot, elasticLicense, false, 1, "9.3.0"},
		{"elasticsearch without _license", elasticRoot, "", true, 1, "9.3.0"},
		{"unknown server", `{"hello":"world"}`, "", true, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, calls := server(t, c.root, c.license)
			conn := connect(t, srv.URL)
			err := checkServer(conn, logp.NewNopLogger())
			if (err != nil) != c.wantErr {
				t.Errorf("checkServer: %v, want error %v", err, c.wantErr)
			}
			if got := calls.Load(); got != c.wantLicenseCalls {
				t.Errorf("GET /_license %d times, want %d", got, c.wantLicenseCalls)
			}
			if c.wantVersion != "" {
				if v := conn.GetVersion(); v.String() != c.wantVersion {
					t.Errorf("connection version %s, want %s", v.String(), c.wantVersion)
				}
			}
		})
	}
}

// TestCheckServerUnreachable: when GET / fails, libbeat's check decides (and
// fails), as it would without this file.
func TestCheckServerUnreachable(t *testing.T) {
	srv, _ := server(t, openSearchRoot, "")
	conn := connect(t, srv.URL)
	srv.Close()
	if err := checkServer(conn, logp.NewNopLogger()); err == nil {
		t.Error("checkServer accepted a server that does not answer")
	}
}
