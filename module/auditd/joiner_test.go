package auditd

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func rec(typ string, seq int, body string) string {
	return fmt.Sprintf("type=%s msg=audit(1700000000.%03d:%d): %s", typ, seq%1000, seq, body)
}

type fed struct {
	groups []Group
	j      *Joiner
}

func feed(cfg JoinerConfig, lines ...string) fed {
	j := NewJoiner(cfg)
	var out []Group
	var off int64
	for _, l := range lines {
		off += int64(len(l)) + 1
		out = append(out, j.Add(l, off)...)
	}
	return fed{append(out, j.Flush()...), j}
}

func ids(gs []Group) []string {
	var s []string
	for _, g := range gs {
		if g.Err != nil {
			s = append(s, fmt.Sprintf("err@%d", g.Err.Line))
			continue
		}
		s = append(s, fmt.Sprintf("%d/%d/%s", g.Sequence, len(g.Lines), g.Completion))
	}
	return s
}

func TestJoiner(t *testing.T) {
	tests := []struct {
		name  string
		cfg   JoinerConfig
		lines []string
		want  []string
	}{
		{"eoe-completes", JoinerConfig{}, []string{rec("SYSCALL", 1, "a=1"), rec("EOE", 1, ""), rec("SYSCALL", 2, "a=1")},
			[]string{"1/2/eoe", "2/1/flush"}},
		{"interleaved", JoinerConfig{}, []string{rec("SYSCALL", 2, ""), rec("SYSCALL", 1, ""), rec("PATH", 2, ""), rec("PATH", 1, "")},
			[]string{"2/2/flush", "1/2/flush"}},
		{"later-events", JoinerConfig{LaterEvents: 2}, []string{rec("SYSCALL", 1, ""), rec("SYSCALL", 2, ""), rec("SYSCALL", 3, ""), rec("SYSCALL", 4, "")},
			[]string{"1/1/later_events", "2/1/later_events", "3/1/flush", "4/1/flush"}},
		{"seq-window", JoinerConfig{SeqWindow: 5}, []string{rec("SYSCALL", 1, ""), rec("SYSCALL", 7, "")},
			[]string{"1/1/seq_window", "7/1/flush"}},
		{"max-open-evicts", JoinerConfig{MaxOpen: 2}, []string{rec("SYSCALL", 1, ""), rec("SYSCALL", 2, ""), rec("SYSCALL", 3, "")},
			[]string{"1/1/evicted", "2/1/flush", "3/1/flush"}},
		{"late-record", JoinerConfig{LaterEvents: 1}, []string{rec("SYSCALL", 1, ""), rec("SYSCALL", 2, ""), rec("SYSCALL", 3, ""), rec("PATH", 1, "")},
			[]string{"1/1/later_events", "2/1/later_events", "err@4", "3/1/flush"}},
		{"not-audit", JoinerConfig{}, []string{"garbage", rec("SYSCALL", 1, ""), "", "type=SYSCALL no header"},
			[]string{"err@1", "err@4", "1/1/flush"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(feed(tc.cfg, tc.lines...).groups)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJoinerErrorsSayWhere(t *testing.T) {
	tests := []struct {
		line string
		want error
		text string
	}{
		{"hello", ErrNoType, `line 1: no type= field at the start of the line (starts with "hello")`},
		{"type=SYSCALL pid=1", ErrNoHeader, "line 1: no msg=audit("},
		{"type=SYSCALL msg=audit(x.y:z): a=1", ErrBadHeader, "line 1: malformed msg=audit("},
		{"type=FOO msg=audit(1.1:1): a=1", ErrUnknownType, `line 1: unknown record type "FOO"`},
		{"type=SYSCALL msg=audit(1.1:1", ErrBadHeader, "no closing parenthesis"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			gs := feed(JoinerConfig{}, tc.line).groups
			if len(gs) != 1 || gs[0].Err == nil {
				t.Fatalf("want one error group, got %v", ids(gs))
			}
			if !errors.Is(gs[0].Err, tc.want) {
				t.Errorf("error %v is not %v", gs[0].Err, tc.want)
			}
			if !strings.Contains(gs[0].Err.Error(), tc.text) {
				t.Errorf("error %q does not contain %q", gs[0].Err, tc.text)
			}
			d, err := MapGroup(gs[0])
			if err == nil || get(d, "event", "original") != tc.line {
				t.Errorf("error doc = %v", d)
			}
		})
	}
}

func TestJoinerOffsets(t *testing.T) {
	a, b, c := rec("SYSCALL", 1, "x=1"), rec("SYSCALL", 2, "x=2"), rec("PATH", 1, "name=/y")
	j := NewJoiner(JoinerConfig{})
	ea := int64(len(a) + 1)
	eb := ea + int64(len(b)+1)
	ec := eb + int64(len(c)+1)
	j.Add(a, ea)
	j.Add(b, eb)
	if got := j.SafeOffset(); got != 0 {
		t.Errorf("SafeOffset with event 1 open = %d, want 0", got)
	}
	j.Add(c, ec)
	gs := j.Flush()
	if len(gs) != 2 || gs[0].EndOffset != ec || gs[0].StartOffset != 0 || gs[1].StartOffset != ea || gs[1].EndOffset != eb {
		t.Errorf("offsets: %+v", gs)
	}
	if gs[0].Raw() != a+"\n"+c || !slices.Equal(gs[0].LineNumbers, []int{1, 3}) {
		t.Errorf("raw/lines: %q %v", gs[0].Raw(), gs[0].LineNumbers)
	}
	if got := j.SafeOffset(); got != ec {
		t.Errorf("SafeOffset after flush = %d, want %d", got, ec)
	}
	if st := j.Stats(); st.Interleaved != 1 || st.Groups != 2 {
		t.Errorf("stats %+v", st)
	}
}

func FuzzJoiner(f *testing.F) {
	f.Add(rec("SYSCALL", 1, "a=1") + "\n" + rec("EOE", 1, "") + "\njunk\n" + rec("PATH", 2, ""))
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		r := feed(JoinerConfig{MaxOpen: 4, LaterEvents: 3, SeqWindow: 8, Recent: 8}, lines...)
		// Every non-blank line is accounted for exactly once.
		n := 0
		for _, g := range r.groups {
			n += len(g.Lines)
		}
		st := r.j.Stats()
		if int64(n)+st.Blank+lateEOE(r) != st.Lines {
			t.Fatalf("lines %d = emitted %d + blank %d (+late EOE)", st.Lines, n, st.Blank)
		}
		if r.j.Open() != 0 {
			t.Fatal("open events after Flush")
		}
	})
}

// lateEOE counts late records that were silently dropped (EOE only).
func lateEOE(r fed) int64 {
	var errs int64
	for _, g := range r.groups {
		if g.Err != nil && errors.Is(g.Err, ErrLateRecord) {
			errs++
		}
	}
	return r.j.Stats().LateRecords - errs
}
