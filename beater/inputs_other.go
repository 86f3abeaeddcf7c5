//go:build !windows

package beater

import (
	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/input/auditd"
)

// osInputs adds the auditd input, which go-libaudit limits to Unix builds.
func osInputs(log *logp.Logger, store statestore.States) []v2.Plugin {
	return []v2.Plugin{auditd.Plugin(log, store)}
}
