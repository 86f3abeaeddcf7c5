package hunt

import (
	"fmt"
	"iter"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// lowerMaxLive sets maxLive to n for the test.
func lowerMaxLive(t *testing.T, n int) {
	old := maxLive
	maxLive = n
	t.Cleanup(func() { maxLive = old })
}

// counted makes streams of records at the given times (seconds), which
// count how many of them are being read at once and how often each was
// started.
type counted struct {
	active, most atomic.Int64
	starts       []atomic.Int64
}

func (c *counted) stream(i int, secs []int) iter.Seq[Record] {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(Record) bool) {
		c.starts[i].Add(1)
		n := c.active.Add(1)
		defer c.active.Add(-1)
		for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
		}
		for _, s := range secs {
			if !yield(Record{Doc: map[string]any{"@timestamp": base.Add(time.Duration(s) * time.Second), "stream": i}}) {
				return
			}
		}
	}
}

// seconds is n times a second apart from first: more records than a
// stream's read-ahead, so that a stream being read is seen as such.
func seconds(first, n int) []int {
	var out []int
	for k := range n {
		out = append(out, first+k)
	}
	return out
}

func secondsOf(recs []Record) []int64 {
	var out []int64
	for _, r := range recs {
		out = append(out, timeOf(r).Unix())
	}
	return out
}

// Streams whose times follow one another (daily logs) are read a few at a
// time: the first maxLive stay open after their first record is read, the
// others are stopped and read again from their start when their time comes.
func TestMergeReadsFewStreamsAtOnce(t *testing.T) {
	lowerMaxLive(t, 3)
	c := &counted{starts: make([]atomic.Int64, 20)}
	var streams []iter.Seq[Record]
	for i := range 20 {
		first := (19 - i) * 1000 // the last stream given is the first in time
		streams = append(streams, c.stream(i, seconds(first, 200)))
	}
	got := slices.Collect(Merge(streams))
	if len(got) != 4000 || !slices.IsSorted(secondsOf(got)) {
		t.Errorf("merged %d records, in time order %v; want 4000 in order", len(got), slices.IsSorted(secondsOf(got)))
	}
	if m := c.most.Load(); m > 4 {
		t.Errorf("%d streams read at once; want at most maxLive (3) and the one whose time came", m)
	}
	for i := range c.starts {
		want := int64(2) // read to its first record, then again in its time
		if i < 3 {
			want = 1 // kept open
		}
		if n := c.starts[i].Load(); n != want {
			t.Errorf("stream %d started %d times, want %d", i, n, want)
		}
	}
	if n := c.active.Load(); n != 0 {
		t.Errorf("%d streams still being read after the merge", n)
	}
}

// Streams whose times overlap are read together, however many there are:
// the order is still the time order, ties in the order the streams were
// given.
func TestMergeOverlappingStreamsBeyondMaxLive(t *testing.T) {
	lowerMaxLive(t, 2)
	c := &counted{starts: make([]atomic.Int64, 6)}
	var streams []iter.Seq[Record]
	for i := range 6 {
		streams = append(streams, c.stream(i, append([]int{i}, seconds(100, 200)...)))
	}
	got := slices.Collect(Merge(streams))
	if len(got) != 6*201 || !slices.IsSorted(secondsOf(got)) {
		t.Fatalf("merged %d records, in time order %v", len(got), slices.IsSorted(secondsOf(got)))
	}
	var ties []int
	for _, r := range got {
		if timeOf(r).Unix()%3600 == 100 {
			ties = append(ties, r.Doc["stream"].(int))
		}
	}
	if !slices.Equal(ties, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("records of one time in stream order %v", ties)
	}
	if m := c.most.Load(); m != 6 {
		t.Errorf("%d streams read at once; their times overlap, so all 6 must be", m)
	}
}

// A folder of daily logs does not hold a descriptor per file, so that
// more files than the descriptor limit are all read; the members of an
// archive, read again from their temporary files, give the same records.
func TestHuntFolderHoldsFewFilesOpen(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	lowerMaxLive(t, 2)
	dir := t.TempDir()
	day := func(d int) string {
		var s string
		for h := range 3 {
			s += fmt.Sprintf("1.2.3.4 - - [%02d/Jun/2025:%02d:00:00 +0000] \"GET /day%d HTTP/1.1\" 200 12 \"-\" \"curl\"\n", d, h*8, d)
		}
		return s
	}
	var members []string
	for d := 1; d <= 30; d++ {
		writeFile(t, dir, fmt.Sprintf("access.log.%02d", 31-d), []byte(day(d)))
		members = append(members, fmt.Sprintf("old/access.log.%02d", d), day(d))
	}
	tgz := writeFile(t, t.TempDir(), "old.tgz", gzipBytes(t, tarBytes(t, members...)))
	fds := func() int {
		ents, _ := os.ReadDir("/proc/self/fd")
		return len(ents)
	}
	before, most := fds(), 0
	st, err := Run([]string{dir}, nopDetector{}, func(map[string]any) {}, nil, OnEvent(func(map[string]any) {
		most = max(most, fds())
	}))
	if err != nil || st.Events != 90 || st.Files != 30 {
		t.Fatalf("read %d events of %d files, %v; want 90 of 30", st.Events, st.Files, err)
	}
	if most-before > 4 {
		t.Errorf("%d descriptors open while reading 30 files one day after another; want the few being read", most-before)
	}
	recs, _ := records(t, tgz)
	if len(recs) != 90 || !slices.IsSorted(secondsOf(recs)) {
		t.Errorf("archive: %d records, in time order %v; want 90 in order", len(recs), slices.IsSorted(secondsOf(recs)))
	}
	if recs[0].Where != tgz+"/old/access.log.01:1" || recs[89].Where != tgz+"/old/access.log.30:3" {
		t.Errorf("archive records from %s to %s", recs[0].Where, recs[89].Where)
	}
}
