package detector

import (
	"fmt"
	"testing"
)

// The held documents stay within their bounds: max_pending requests and
// 2*max_pending processes per host, maxHeldHosts hosts, the least recently
// active forgotten first with all it held.
func TestHoldBounds(t *testing.T) {
	s := &state{held: map[int64]*heldDoc{}, heldBy: map[string]*heldHost{}, maxPending: 3}
	ref := int64(0)
	hold := func(host string, request bool) int64 {
		ref++
		s.hold(host, ref, &heldDoc{}, request)
		return ref
	}
	firstReq, firstProc := hold("a", true), hold("a", false)
	for range 3 {
		hold("a", true)
	}
	for range 5 {
		hold("a", false)
	}
	if s.held[firstReq] != nil || s.held[firstProc] == nil {
		t.Errorf("after 4 requests and 6 processes of max_pending 3: first request held %v, first process held %v; want false, true",
			s.held[firstReq] != nil, s.held[firstProc] != nil)
	}
	hold("a", false)
	if s.held[firstProc] != nil || len(s.held) != 3+6 {
		t.Errorf("after a 7th process: first process held %v, %d held; want false, 9", s.held[firstProc] != nil, len(s.held))
	}
	b := hold("b", true)
	hold("a", true) // a is now the more recently active
	for i := range maxHeldHosts - 2 {
		hold(fmt.Sprint("h", i), true)
	}
	if len(s.heldBy) != maxHeldHosts || s.held[b] == nil {
		t.Fatalf("%d hosts, b held %v; want %d, true", len(s.heldBy), s.held[b] != nil, maxHeldHosts)
	}
	hold("one more", true)
	if _, ok := s.heldBy["b"]; ok || s.held[b] != nil || len(s.heldBy) != maxHeldHosts {
		t.Errorf("past maxHeldHosts: b kept %v (its request %v), %d hosts; want the idlest host, b, forgotten", ok, s.held[b] != nil, len(s.heldBy))
	}
}
