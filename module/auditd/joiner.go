package auditd

import (
	"fmt"
	"strings"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// JoinerConfig bounds the Joiner. The zero value of a field means its default.
type JoinerConfig struct {
	// MaxOpen is the most events kept open at once (default 256). When a new
	// event would exceed it, the oldest open event is emitted early.
	MaxOpen int
	// LaterEvents completes an open event once this many newer events have
	// started after it (default 16). Records of one event are adjacent in
	// practice, but the kernel may interleave two events a little.
	LaterEvents int
	// SeqWindow completes an open event once a record arrives whose serial is
	// more than SeqWindow above the event's serial (default 64).
	SeqWindow uint32
	// Recent is how many emitted event ids are remembered so that a record
	// arriving after its event was emitted is reported, not emitted as a new
	// partial event (default 4*MaxOpen).
	Recent int
}

func (c JoinerConfig) withDefaults() JoinerConfig {
	if c.MaxOpen <= 0 {
		c.MaxOpen = 256
	}
	if c.LaterEvents <= 0 {
		c.LaterEvents = 16
	}
	if c.SeqWindow == 0 {
		c.SeqWindow = 64
	}
	if c.Recent <= 0 {
		c.Recent = 4 * c.MaxOpen
	}
	return c
}

// Completion says why a Group was emitted.
type Completion string

const (
	CompleteEOE       Completion = "eoe"          // an EOE record ended it
	CompleteLater     Completion = "later_events" // LaterEvents newer events started
	CompleteSeqWindow Completion = "seq_window"   // a serial beyond SeqWindow arrived
	CompleteFlush     Completion = "flush"        // Flush at end of input
	CompleteEvicted   Completion = "evicted"      // MaxOpen reached; emitted early
)

// LineError says why a line is not (or no longer) part of an event.
type LineError struct {
	Line   int    // 1-based line number, counted by the Joiner (one Add = one line)
	Offset int64  // end offset of the line, as passed to Add
	Err    error  // wraps one of the Err* sentinels, or ErrLateRecord
	Raw    string // the line
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrLateRecord reports a record whose event had already been emitted.
var ErrLateRecord = fmt.Errorf("record arrived after its event was emitted")

// Group is one output of the Joiner: either the records of one event, or a
// line that could not be used (Err != nil, Lines holds that line only).
type Group struct {
	ID          string    // "seconds.millis:serial" from msg=audit(...)
	Sequence    uint32    // serial of the event
	Timestamp   time.Time // audit timestamp, UTC
	Lines       []string  // raw lines in file order (EOE included)
	LineNumbers []int     // 1-based line number of each entry of Lines
	StartOffset int64     // offset where the first line starts (end of the line before it)
	EndOffset   int64     // end offset of the last line of the group, as passed to Add
	Completion  Completion
	Err         *LineError
}

// Raw returns the lines joined with "\n" (for event.original).
func (g *Group) Raw() string { return strings.Join(g.Lines, "\n") }

// JoinerStats counts what the Joiner did. Every record is accounted for:
// emitted in a group, or reported in a Group with Err.
type JoinerStats struct {
	Lines       int64 // lines seen by Add
	Blank       int64 // blank lines skipped silently
	Groups      int64 // groups emitted (not counting errors)
	NotAudit    int64 // lines that are not audit records (emitted as errors)
	LateRecords int64 // records for an already emitted event (emitted as errors)
	Evicted     int64 // events emitted early because MaxOpen was reached
	Interleaved int64 // records that arrived while a newer event was open
}

type openGroup struct {
	g       Group
	ordinal int64 // how many events had started before this one
	done    bool
}

// Joiner groups audit.log lines into events. It is deterministic: completion
// depends only on the input, never on the wall clock. It is not safe for
// concurrent use; use one Joiner per file.
type Joiner struct {
	cfg      JoinerConfig
	open     map[string]*openGroup
	order    []*openGroup // creation order, with done entries compacted away from the front
	started  int64        // events started so far
	lineNo   int
	lastEnd  int64 // end offset of the previous line
	recent   map[string]struct{}
	recentQ  []string
	recentAt int
	stats    JoinerStats
	out      []Group
}

// NewJoiner returns a Joiner with cfg's defaults filled in.
func NewJoiner(cfg JoinerConfig) *Joiner {
	cfg = cfg.withDefaults()
	return &Joiner{
		cfg:     cfg,
		open:    make(map[string]*openGroup, cfg.MaxOpen),
		recent:  make(map[string]struct{}, cfg.Recent),
		recentQ: make([]string, 0, cfg.Recent),
	}
}

// Stats returns the counters so far.
func (j *Joiner) Stats() JoinerStats { return j.stats }

// Open returns how many events are waiting for more records.
func (j *Joiner) Open() int { return len(j.open) }

// SafeOffset is the offset up to which every line has been emitted: a
// checkpoint there loses nothing on restart.
func (j *Joiner) SafeOffset() int64 {
	for _, og := range j.order {
		if !og.done {
			return og.g.StartOffset
		}
	}
	return j.lastEnd
}

// Resume tells a new Joiner that the file is read from offset on, so that
// SafeOffset never falls behind it (to 0, a whole file read again after a
// restart while an event was open).
func (j *Joiner) Resume(offset int64) { j.lastEnd = offset }

// Add feeds one line (without its newline) whose end, in the file, is at
// offset (the position after its newline, where reading would resume). It
// returns the groups completed by this line, in completion order; the slice
// is the caller's.
func (j *Joiner) Add(line string, offset int64) []Group {
	j.out = nil
	j.lineNo++
	j.stats.Lines++
	start := j.lastEnd
	j.lastEnd = offset

	h, _, err := parseHeader(line)
	if err != nil {
		if err == ErrEmptyLine {
			j.stats.Blank++
			return nil
		}
		j.stats.NotAudit++
		j.emitError(line, start, offset, err)
		return j.take()
	}

	if og, ok := j.open[h.id]; ok {
		if j.order[len(j.order)-1] != og {
			j.stats.Interleaved++
		}
		og.g.Lines = append(og.g.Lines, line)
		og.g.LineNumbers = append(og.g.LineNumbers, j.lineNo)
		og.g.EndOffset = offset
		if h.typ == auparse.AUDIT_EOE {
			j.complete(og, CompleteEOE)
		}
		j.expire(h.seq)
		return j.take()
	}
	if _, ok := j.recent[h.id]; ok {
		j.stats.LateRecords++
		if h.typ == auparse.AUDIT_EOE {
			return nil // a late end marker carries no data
		}
		j.emitError(line, start, offset, fmt.Errorf("%w (event audit(%s))", ErrLateRecord, h.id))
		return j.take()
	}

	// A new event: first let older ones complete (it counts as a later
	// event for them).
	ordinal := j.started
	j.started++
	j.expire(h.seq)
	for len(j.open) >= j.cfg.MaxOpen {
		oldest := j.oldest()
		if oldest == nil {
			break
		}
		j.stats.Evicted++
		j.complete(oldest, CompleteEvicted)
	}
	og := &openGroup{
		g: Group{
			ID:          h.id,
			Sequence:    h.seq,
			Timestamp:   h.stamp,
			Lines:       []string{line},
			LineNumbers: []int{j.lineNo},
			StartOffset: start,
			EndOffset:   offset,
		},
		ordinal: ordinal,
	}
	if h.typ == auparse.AUDIT_EOE { // an EOE alone: nothing to wait for
		j.remember(h.id)
		og.g.Completion = CompleteEOE
		j.stats.Groups++
		j.out = append(j.out, og.g)
		return j.take()
	}
	j.open[h.id] = og
	j.order = append(j.order, og)
	return j.take()
}

// Flush emits every open event, oldest first. Call it at end of input.
func (j *Joiner) Flush() []Group {
	j.out = nil
	for _, og := range j.order {
		if !og.done {
			j.complete(og, CompleteFlush)
		}
	}
	j.order = j.order[:0]
	return j.take()
}

func (j *Joiner) take() []Group {
	out := j.out
	j.out = nil
	j.compact()
	return out
}

func (j *Joiner) emitError(line string, start, offset int64, err error) {
	j.out = append(j.out, Group{
		Lines:       []string{line},
		LineNumbers: []int{j.lineNo},
		StartOffset: start,
		EndOffset:   offset,
		Err:         &LineError{Line: j.lineNo, Offset: offset, Err: err, Raw: line},
	})
}

// expire completes the open events that can no longer receive records.
func (j *Joiner) expire(seq uint32) {
	for _, og := range j.order {
		if og.done {
			continue
		}
		switch {
		case j.started-1-og.ordinal >= int64(j.cfg.LaterEvents):
			j.complete(og, CompleteLater)
		case seq > og.g.Sequence && seq-og.g.Sequence > j.cfg.SeqWindow:
			j.complete(og, CompleteSeqWindow)
		default:
			// order is creation order, so later entries are newer: stop at
			// the first that is still live.
			return
		}
	}
}

// OldestOpen returns the audit time of the oldest event still open (records
// may still join it), and false when none is: a reader that interleaves
// other sources' records with the Joiner's events holds the records newer
// than that, so that its stream stays in time order.
func (j *Joiner) OldestOpen() (time.Time, bool) {
	if og := j.oldest(); og != nil {
		return og.g.Timestamp, true
	}
	return time.Time{}, false
}

func (j *Joiner) oldest() *openGroup {
	for _, og := range j.order {
		if !og.done {
			return og
		}
	}
	return nil
}

func (j *Joiner) complete(og *openGroup, why Completion) {
	og.done = true
	og.g.Completion = why
	delete(j.open, og.g.ID)
	j.remember(og.g.ID)
	j.stats.Groups++
	j.out = append(j.out, og.g)
}

func (j *Joiner) remember(id string) {
	if len(j.recentQ) < j.cfg.Recent {
		j.recentQ = append(j.recentQ, id)
	} else {
		delete(j.recent, j.recentQ[j.recentAt])
		j.recentQ[j.recentAt] = id
		j.recentAt = (j.recentAt + 1) % j.cfg.Recent
	}
	j.recent[id] = struct{}{}
}

func (j *Joiner) compact() {
	i := 0
	for i < len(j.order) && j.order[i].done {
		j.order[i] = nil
		i++
	}
	if i > 0 {
		n := copy(j.order, j.order[i:])
		for k := n; k < len(j.order); k++ {
			j.order[k] = nil
		}
		j.order = j.order[:n]
	}
}
