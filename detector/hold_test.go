package detector

import (
	"fmt"
	"testing"
)

// The held documents stay within their bounds: max_pending requests,
// 2*max_pending alert processes and as many quiet ones per host,
// maxHeldHosts hosts, the least recently active forgotten first with all it
// held.
func TestHoldBounds(t *testing.T) {
	s := &state{held: map[int64]*heldDoc{}, heldBy: map[string]*heldHost{}, maxPending: 3}
	ref := int64(0)
	hold := func(host string, kind heldKind) int64 {
		ref++
		s.hold(host, ref, &heldDoc{}, kind)
		return ref
	}
	firstReq, firstProc := hold("a", heldRequest), hold("a", heldAlert)
	for range 3 {
		hold("a", heldRequest)
	}
	for range 5 {
		hold("a", heldAlert)
	}
	if s.held[firstReq] != nil || s.held[firstProc] == nil {
		t.Errorf("after 4 requests and 6 processes of max_pending 3: first request held %v, first process held %v; want false, true",
			s.held[firstReq] != nil, s.held[firstProc] != nil)
	}
	secondProc := firstProc + 4 // the first three refs after firstProc were requests
	for range 20 {              // a busy site's quiet processes push out none of the alerts
		hold("a", heldQuiet)
	}
	if s.held[firstProc] == nil || len(s.held) != 3+6+6 {
		t.Errorf("after 20 quiet processes: first alert process held %v, %d held; want true, 15", s.held[firstProc] != nil, len(s.held))
	}
	hold("a", heldAlert)
	if s.held[firstProc] != nil || s.held[secondProc] == nil || len(s.held) != 3+6+6 {
		t.Errorf("after a 7th alert process: first process held %v, second %v, %d held; want false, true, 15", s.held[firstProc] != nil, s.held[secondProc] != nil, len(s.held))
	}
	b := hold("b", heldRequest)
	hold("a", heldRequest) // a is now the more recently active
	for i := range maxHeldHosts - 2 {
		hold(fmt.Sprint("h", i), heldRequest)
	}
	if len(s.heldBy) != maxHeldHosts || s.held[b] == nil {
		t.Fatalf("%d hosts, b held %v; want %d, true", len(s.heldBy), s.held[b] != nil, maxHeldHosts)
	}
	hold("one more", heldRequest)
	if _, ok := s.heldBy["b"]; ok || s.held[b] != nil || len(s.heldBy) != maxHeldHosts {
		t.Errorf("past maxHeldHosts: b kept %v (its request %v), %d hosts; want the idlest host, b, forgotten", ok, s.held[b] != nil, len(s.heldBy))
	}
}
