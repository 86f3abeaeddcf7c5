package beater

import (
	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/elastic-agent-libs/logp"
)

// osInputs adds nothing on Windows: filebeat's own winlog input is already in
// the list, and the auditd input needs go-libaudit, which builds on Unix only.
func osInputs(*logp.Logger, statestore.States) []v2.Plugin { return nil }
