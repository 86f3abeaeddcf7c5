// Package beater assembles webshellbeat from filebeat's beater: filebeat's own
// inputs (filestream, journald, winlog on Windows, ...) plus webshellbeat's
// evtx and auditd inputs, and the registration of webshellbeat's processors.
package beater

import (
	inputs "github.com/elastic/beats/v7/filebeat/input/default-inputs"
	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"

	"webshellbeat/input/evtx"
	_ "webshellbeat/processor" // registers decode_windows_event, decode_auditd, decode_access_log, webshell
)

// Inputs is the beat's plugin factory (filebeat's beater.PluginFactory).
func Inputs(info beat.Info, log *logp.Logger, store statestore.States, path *paths.Path) []v2.Plugin {
	plugins := append(inputs.Init(info, log, store, path), evtx.Plugin(log, store))
	return append(plugins, osInputs(log, store)...)
}
