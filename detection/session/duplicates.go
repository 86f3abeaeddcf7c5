package session

import (
	"strings"
	"sync"
	"time"
)

// Start names one process start as two sources report it alike: a host
// that runs Sysmon and audits process creation (Security 4688) logs every
// start twice, with the same pid, parent pid and image, a few milliseconds
// apart.
type Start struct {
	Host       string
	PID, PPID  int
	Executable string // compared case-insensitively
}

// Duplicates finds the second report of a process start that raised an
// alert from another source, so that one process raises one alert.
type Duplicates struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	seen   map[Start]reported
}

type reported struct {
	at     time.Time
	source string
}

// DuplicateWindow is how far apart in event time two sources' reports of
// one start may be: Sysmon's UtcTime and 4688's TimeCreated differ by
// milliseconds; a pid reused with the same parent and image within this
// time is very unlikely.
const DuplicateWindow = 2 * time.Second

// NewDuplicates remembers up to max starts (0: 10,000).
func NewDuplicates(max int) *Duplicates {
	if max <= 0 {
		max = 10000
	}
	return &Duplicates{window: DuplicateWindow, max: max, seen: map[Start]reported{}}
}

// Observe notes an alert on a process start from source (the event's
// provider) at event time at. It returns the source and time of an earlier
// alert on the same start from another source, with true when this one
// repeats it. A start reported again by the same source is no duplicate.
func (d *Duplicates) Observe(s Start, source string, at time.Time) (string, time.Time, bool) {
	if s.PID <= 0 || s.Executable == "" || source == "" {
		return "", time.Time{}, false
	}
	s.Executable = strings.ToLower(s.Executable)
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.seen[s]; ok && r.source != source && absDur(at.Sub(r.at)) <= d.window {
		return r.source, r.at, true
	}
	if len(d.seen) >= d.max {
		sweep(d.seen, at, d.window, d.max, func(r reported) time.Time { return r.at })
	}
	d.seen[s] = reported{at: at, source: source}
	return "", time.Time{}, false
}

// sweep drops the entries of m whose time (when) is more than window away
// from at, or all of them when that leaves max or more (a burst within one
// window): the bound of the Duplicates and Bursts tables.
func sweep[K comparable, V any](m map[K]V, at time.Time, window time.Duration, max int, when func(V) time.Time) {
	for k, v := range m {
		if absDur(at.Sub(when(v))) > window {
			delete(m, k)
		}
	}
	if len(m) >= max {
		clear(m)
	}
}

func absDur(x time.Duration) time.Duration {
	if x < 0 {
		return -x
	}
	return x
}
