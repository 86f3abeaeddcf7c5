package cmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/elastic/beats/v7/libbeat/esleg/eslegclient"
	"github.com/elastic/beats/v7/libbeat/licenser"
	"github.com/elastic/beats/v7/libbeat/outputs/elasticsearch"
	"github.com/elastic/elastic-agent-libs/logp"
	libversion "github.com/elastic/elastic-agent-libs/version"
	"github.com/gofrs/uuid/v5"
)

// Why this file exists: libbeat's root command (cmd.GenRootCmdWithSettings)
// registers licenser.FetchAndVerify as a global connect callback of the
// Elasticsearch output and throws its key away. That callback refuses any
// server without GET /_license, which is every OpenSearch. The registry is
// unexported, so we reach it by linkname and swap that one callback for
// checkServer: OpenSearch is accepted without the license check, Elasticsearch
// gets libbeat's check unchanged.

// callbacksRegistry mirrors libbeat's outputs/elasticsearch.callbacksRegistry
// (libbeat 9.3); TestLicenseCallbackReplaced fails if the layout drifts.
type callbacksRegistry struct {
	callbacks map[uuid.UUID]elasticsearch.ConnectCallback
	mutex     sync.Mutex
}

//go:linkname globalCallbackRegistry github.com/elastic/beats/v7/libbeat/outputs/elasticsearch.globalCallbackRegistry
var globalCallbackRegistry callbacksRegistry

// replaceLicenseCheck swaps licenser.FetchAndVerify for checkServer in the
// global callbacks and reports how many it replaced.
func replaceLicenseCheck() int {
	reg := &globalCallbackRegistry
	reg.mutex.Lock()
	defer reg.mutex.Unlock()
	license := reflect.ValueOf(licenser.FetchAndVerify).Pointer()
	n := 0
	for k, cb := range reg.callbacks {
		if reflect.ValueOf(cb).Pointer() == license {
			reg.callbacks[k] = checkServer
			n++
		}
	}
	return n
}

// rootInfo is the part of GET / that tells OpenSearch from Elasticsearch.
type rootInfo struct {
	Tagline string `json:"tagline"`
	Version struct {
		Number       string `json:"number"`
		Distribution string `json:"distribution"`
	} `json:"version"`
}

// isOpenSearch: version.distribution is "opensearch" unless
// compatibility.override_main_response_version is on; then the version reads
// 7.10.2 with no distribution and only the tagline names OpenSearch.
func (r rootInfo) isOpenSearch() bool {
	return strings.EqualFold(r.Version.Distribution, "opensearch") ||
		strings.Contains(r.Tagline, "OpenSearch")
}

// openSearchAPI is the Elasticsearch version whose API OpenSearch 1.x-3.x
// speak (they forked from it).
var openSearchAPI = *libversion.MustNew("7.10.2")

// checkServer is the connect callback that replaces libbeat's license check.
func checkServer(conn *eslegclient.Connection, log *logp.Logger) error {
	status, body, err := conn.RequestURL(http.MethodGet, conn.URL, nil)
	var info rootInfo
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &info) != nil || !info.isOpenSearch() {
		return licenser.FetchAndVerify(conn, log)
	}
	msg := fmt.Sprintf("connected to OpenSearch %s (%s): no Elastic license check", info.Version.Number, conn.URL)
	if info.Version.Distribution != "" {
		// Without the compatibility override libbeat reads OpenSearch's own
		// number (2.x) as an ancient Elasticsearch and would send _type and
		// bulk "index" (data streams need "create"): speak 7.10.2 instead.
		if setVersion(conn, openSearchAPI) {
			msg += "; speaking the Elasticsearch " + openSearchAPI.String() + " API"
		} else {
			log.Warnf("OpenSearch %s without compatibility.override_main_response_version: could not set the API version; set that option on the server", info.Version.Number)
		}
	}
	log.Info(msg)
	return nil
}

// setVersion sets the unexported version that the connection read from GET /
// (libbeat uses it for the bulk format and the template); false if libbeat's
// Connection no longer has that field.
func setVersion(conn *eslegclient.Connection, v libversion.V) bool {
	f := reflect.ValueOf(conn).Elem().FieldByName("version")
	if !f.IsValid() || f.Type() != reflect.TypeOf(v) {
		return false
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(v))
	return true
}
