package processor

import (
	"github.com/elastic/elastic-agent-libs/monitoring"

	"webshellbeat/detector"
)

// metricsName is the hub's entry in the beat's stats registry: the HTTP
// monitoring endpoint's /stats shows it as "webshell", beside "libbeat"
// and "filebeat", and the periodic metrics log line includes it.
const metricsName = "webshell"

// SetMonitoring reports the hub's detectors in reg (the beat's stats
// registry, b.Monitoring.StatsRegistry()): the sums over every shared
// detector, and the derived documents the hub could not publish. Calling
// it again with a registry that has the entry already does nothing.
func (h *Hub) SetMonitoring(reg *monitoring.Registry) {
	if reg == nil || reg.Get(metricsName) != nil {
		return
	}
	monitoring.NewFunc(reg, metricsName, h.reportMetrics, monitoring.Report)
}

func (h *Hub) reportMetrics(_ monitoring.Mode, v monitoring.Visitor) {
	h.mu.Lock()
	dets := make([]*detector.Detector, 0, len(h.shared))
	for _, s := range h.shared {
		dets = append(dets, s.det)
	}
	dropped := h.dropped
	h.mu.Unlock()
	// Summed outside the hub's lock, which publishing takes: the sums lock
	// the process table and every correlator in turn.
	var sum detector.Metrics
	for _, d := range dets {
		sum.Add(d.Metrics())
	}

	v.OnRegistryStart()
	defer v.OnRegistryFinished()
	monitoring.ReportInt(v, "events", sum.Events)
	monitoring.ReportInt(v, "alerts", sum.Alerts)
	monitoring.ReportInt(v, "derived", sum.Derived)
	monitoring.ReportInt(v, "derived_dropped", dropped)
	monitoring.ReportNamespace(v, "rules", func() {
		monitoring.ReportInt(v, "loaded", int64(sum.Rules.Loaded))
		monitoring.ReportInt(v, "routed", int64(sum.Rules.Routed))
		monitoring.ReportInt(v, "correlations", int64(sum.Rules.Correlations))
		monitoring.ReportInt(v, "rejected", int64(sum.Rules.Rejected))
		monitoring.ReportInt(v, "left_out", int64(sum.Rules.Left))
		monitoring.ReportInt(v, "reloads", sum.Reloads.OK)
		monitoring.ReportInt(v, "reloads_failed", sum.Reloads.Failed)
	})
	monitoring.ReportNamespace(v, "processes", func() {
		p := sum.Processes
		monitoring.ReportInt(v, "tracked", int64(p.Processes))
		monitoring.ReportInt(v, "hosts", int64(p.Hosts))
		monitoring.ReportInt(v, "evicted", p.Evicted)
		monitoring.ReportInt(v, "expired", p.Expired)
		monitoring.ReportInt(v, "hosts_dropped", p.HostsDrop)
	})
	monitoring.ReportNamespace(v, "correlation", func() {
		c := sum.Correlation
		monitoring.ReportInt(v, "groups", int64(c.Groups))
		monitoring.ReportInt(v, "groups_evicted", int64(c.EvictedGroups))
		monitoring.ReportInt(v, "events_dropped", int64(c.DroppedEvents))
		monitoring.ReportInt(v, "events_late", int64(c.LateEvents))
		monitoring.ReportInt(v, "alerts", int64(c.Alerts))
	})
}
