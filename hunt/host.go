package hunt

import "webshellbeat/detection"

// WithHost gives host.name to the documents whose source names no host
// (access logs, audit logs without node=) before det sees them, as the
// beat gives every event its own name. The detector links a request to the
// process it started, and an upload to its use, only within one host: a
// hunt over one server's Sysmon events (which carry the computer's name)
// and its access logs (which carry none) needs the name to join them.
func WithHost(det Detector, name string) Detector {
	if name == "" {
		return det
	}
	if dd, ok := det.(DerivingDetector); ok {
		return hostDeriving{hostDetector{det, name}, dd}
	}
	return hostDetector{det, name}
}

type hostDetector struct {
	det  Detector
	name string
}

func (h hostDetector) fill(doc map[string]any) {
	if detection.LookupString(doc, "host.name") == "" {
		detection.Put(doc, "host.name", h.name)
	}
}

func (h hostDetector) Detect(doc map[string]any) bool {
	h.fill(doc)
	return h.det.Detect(doc)
}

type hostDeriving struct {
	hostDetector
	dd DerivingDetector
}

func (h hostDeriving) DetectAll(doc map[string]any) (bool, []map[string]any, []map[string]any) {
	h.fill(doc)
	return h.dd.DetectAll(doc)
}

func (h hostDeriving) FlushAll() ([]map[string]any, []map[string]any) { return h.dd.FlushAll() }
