package windows

import "time"

// Some JSON exports write TimeCreated in the collector's local time with a
// "Z", as if it were UTC. In OTRF's ProxyLogon set (flat JSON) every one of
// the 4,679 Sysmon events has TimeCreated = UtcTime - 5 h (US Eastern) plus
// a logging delay of 0 to 2.4 s. A record carries no zone of its own, so
// the error can only be learnt from a Sysmon event (its UtcTime is UTC) and
// applied to the whole stream, Security events included, so that they stay
// in step with the Sysmon events they go with.

const (
	zoneStep   = 15 * time.Minute // time zones are whole quarter-hours from UTC
	maxZone    = 14 * time.Hour
	maxLogLag  = 5 * time.Minute // UtcTime to TimeCreated: Sysmon's own delay
	maxLogLead = time.Minute     // clock granularity, reordering
)

// ZoneError tells by how much r's TimeCreated is ahead of UTC because a
// local time was written as UTC: TimeCreated - UtcTime, to the nearest
// quarter-hour. ok is false when r cannot tell: not Sysmon, no UtcTime, or
// a gap that is no zone plus a plausible logging delay. A record whose
// TimeCreated is right (EVTX SystemTime, winlogbeat) gives 0.
func ZoneError(r *Record) (zone time.Duration, ok bool) {
	if r == nil || !r.IsSysmon() || r.TimeCreated.IsZero() {
		return 0, false
	}
	ut, found := r.EventData.Get("UtcTime")
	if !found {
		return 0, false
	}
	u, parsed := parseTime(ut)
	if !parsed {
		return 0, false
	}
	gap := r.TimeCreated.Sub(u)
	zone = gap.Round(zoneStep)
	if lag := gap - zone; lag < -maxLogLead || lag > maxLogLag || zone.Abs() > maxZone {
		return 0, false
	}
	return zone, true
}

// FixZone takes a zone error found by ZoneError out of r's TimeCreated.
func (r *Record) FixZone(zone time.Duration) {
	if r != nil && zone != 0 && !r.TimeCreated.IsZero() {
		r.TimeCreated = r.TimeCreated.Add(-zone)
	}
}
