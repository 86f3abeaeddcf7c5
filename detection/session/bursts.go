package session

import (
	"sync"
	"time"
)

// Bursts groups the script writes of one writer that follow each other
// closely into one burst: a CMS extracting a plugin or applying an update
// (WordPress, Drupal, Joomla, as the web server's account) writes tens to
// thousands of scripts within seconds, and that is one action, to be one
// session, not one session per file. A lone upload, or one a minute after
// the writer's last write, begins a burst of its own.
type Bursts struct {
	mu   sync.Mutex
	gap  time.Duration
	max  int
	last map[string]burst // writer -> its latest burst
}

type burst struct {
	key  string    // the path of the burst's first write
	last time.Time // event time of its latest write
}

// BurstGap is the longest pause between two writes of one burst. An
// extraction writes its files a few milliseconds apart; a person uploading
// a second shell is much slower than this.
const BurstGap = 10 * time.Second

// NewBursts remembers the latest burst of up to max writers (0: 10,000).
func NewBursts(max int) *Bursts {
	if max <= 0 {
		max = 10000
	}
	return &Bursts{gap: BurstGap, max: max, last: map[string]burst{}}
}

// Key returns the key of the burst that writer's write of path at event
// time at belongs to: the path of the burst's first write, or path itself
// when this write begins one. writer names the writing process on its host
// (host, then its entity id or pid and name); "" gives path.
func (b *Bursts) Key(writer, path string, at time.Time) string {
	if writer == "" {
		return path
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if prev, ok := b.last[writer]; ok && absDur(at.Sub(prev.last)) <= b.gap {
		if at.After(prev.last) {
			prev.last = at
		}
		b.last[writer] = prev
		return prev.key
	}
	if len(b.last) >= b.max {
		sweep(b.last, at, b.gap, b.max, func(r burst) time.Time { return r.last })
	}
	b.last[writer] = burst{key: path, last: at}
	return path
}
