package auditd

import "github.com/elastic/elastic-agent-libs/monitoring"

// liveMetrics are live mode's counters, on the input's metrics registry
// (libbeat monitoring: the /inputs endpoint of the HTTP monitoring server).
type liveMetrics struct {
	received       *monitoring.Uint // audit records received from the kernel
	lost           *monitoring.Uint // records the kernel reports lost (its lost counter)
	gaps           *monitoring.Uint // events missing from the sequence, seen by the reassembler
	published      *monitoring.Uint // events published
	badRecords     *monitoring.Uint // records that could not be parsed
	socketOverruns *monitoring.Uint // ENOBUFS on the netlink socket
	rulesPutBack   *monitoring.Uint // configured rules another process deleted, put back
}

func newLiveMetrics(reg *monitoring.Registry) *liveMetrics {
	if reg == nil {
		reg = monitoring.NewRegistry()
	}
	get := func(name string) *monitoring.Uint {
		if v, ok := reg.Get(name).(*monitoring.Uint); ok {
			return v // a restarted input keeps its counters
		}
		return monitoring.NewUint(reg, name)
	}
	return &liveMetrics{
		received:       get("audit_records_received_total"),
		lost:           get("audit_records_lost_total"),
		gaps:           get("audit_reassembly_gaps_total"),
		published:      get("audit_events_published_total"),
		badRecords:     get("audit_records_invalid_total"),
		socketOverruns: get("audit_socket_overruns_total"),
		rulesPutBack:   get("audit_rules_put_back_total"),
	}
}
