package session

import (
	"fmt"
	"testing"
	"time"
)

// A writer's writes a few milliseconds apart are one burst, keyed by the
// first path; a pause longer than BurstGap, or another writer, begins a
// new one; a write slightly out of event-time order stays in its burst.
func TestBursts(t *testing.T) {
	b := NewBursts(0)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 300 {
		if k := b.Key("web1|4242|php-fpm8.2", fmt.Sprintf("/p/f%d.php", i), t0.Add(time.Duration(i)*5*time.Millisecond)); k != "/p/f0.php" {
			t.Fatalf("write %d: key %q, want the burst's first path", i, k)
		}
	}
	if k := b.Key("web1|4242|php-fpm8.2", "/p/late.php", t0.Add(time.Second)); k != "/p/f0.php" {
		t.Errorf("a write 1 s into the burst, read after later ones: key %q", k)
	}
	if k := b.Key("web1|5151|php-fpm8.2", "/u/shell.php", t0.Add(2*time.Second)); k != "/u/shell.php" {
		t.Errorf("another worker's write during the burst: key %q, want its own path", k)
	}
	if k := b.Key("web1|4242|php-fpm8.2", "/u/x.php", t0.Add(3*time.Second+BurstGap)); k != "/u/x.php" {
		t.Errorf("a write after a pause longer than the gap: key %q, want its own path", k)
	}
	if k := b.Key("", "/u/y.php", t0); k != "/u/y.php" {
		t.Errorf("no writer: key %q, want the path", k)
	}
}

// The table is bounded: at max writers, the bursts that ended are dropped.
func TestBurstsBounded(t *testing.T) {
	b := NewBursts(10)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i := range 100 {
		b.Key(fmt.Sprint(i), "/f.php", t0.Add(time.Duration(i)*time.Minute))
	}
	if n := len(b.last); n > 10 {
		t.Errorf("%d writers kept, want at most 10", n)
	}
}
