package compile

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// LitIndex finds which of many literals occur in a string, in one pass over
// the string whatever the number of literals (the prefilter indexes 8,000
// SigmaHQ CommandLine substrings in one).
//
//   - A literal of four bytes or more is indexed by one 4-byte gram inside it:
//     the gram the fewest literals of the index share, since a gram common
//     among rule literals (".exe", "\win") is common in real values too. At
//     each position of the text, the gram is tested against a 64 Kbit filter
//     that stays in the L1 cache, and only a hit probes the table.
//   - A literal of two or three bytes is indexed by its first two bytes, in a
//     second filter tested in the same pass.
//   - A one-byte literal is found with strings.IndexByte.
//
// Matching is byte-exact: an index of lowered literals is scanned over
// lowered text. Immutable after NewLitIndex, safe for concurrent use.
type LitIndex struct {
	lits  []string
	long  *gramTable // 4-grams
	short *gramTable // 2-grams of 2- and 3-byte literals
	ones  []int32
}

// litAt is a literal whose indexed gram starts off bytes into it.
type litAt struct {
	lit int32
	off int32
}

// NewLitIndex indexes lits; hits are reported by position in lits. Empty
// literals are ignored.
func NewLitIndex(lits []string) *LitIndex {
	x := &LitIndex{lits: lits}
	freq := gramFrequencies(lits)
	long, short := map[uint32][]litAt{}, map[uint32][]litAt{}
	for i, l := range lits {
		switch {
		case len(l) >= 4:
			off := rarestGram(l, freq)
			g := gram4(l, off)
			long[g] = append(long[g], litAt{int32(i), int32(off)})
		case len(l) >= 2:
			g := gram2(l, 0)
			short[g] = append(short[g], litAt{int32(i), 0})
		case len(l) == 1:
			x.ones = append(x.ones, int32(i))
		}
	}
	x.long = newGramTable(long)
	x.short = newGramTable(short)
	return x
}

// gramFrequencies counts, per 4-gram, the literals that contain it.
func gramFrequencies(lits []string) map[uint32]int32 {
	freq := map[uint32]int32{}
	seen := map[uint32]bool{}
	for _, l := range lits {
		clear(seen)
		for i := 0; i+4 <= len(l); i++ {
			if g := gram4(l, i); !seen[g] {
				seen[g] = true
				freq[g]++
			}
		}
	}
	return freq
}

// rarestGram returns the offset of l's least shared 4-gram (the first of
// equals).
func rarestGram(l string, freq map[uint32]int32) int {
	best := 0
	for i := 1; i+4 <= len(l); i++ {
		if freq[gram4(l, i)] < freq[gram4(l, best)] {
			best = i
		}
	}
	return best
}

// AppendHits appends to dst the position of each literal found in s (a
// literal found twice may be reported twice).
func (x *LitIndex) AppendHits(dst []int32, s string) []int32 {
	n := len(s)
	long, short := x.long, x.short
	i := 0
	for ; i+4 <= n; i++ {
		g := gram4(s, i)
		if long != nil && long.maybe(g) {
			dst = x.verify(dst, s, i, long.lookup(g))
		}
		if short != nil && short.maybe(g&0xffff) {
			dst = x.verify(dst, s, i, short.lookup(g&0xffff))
		}
	}
	for ; short != nil && i+2 <= n; i++ { // the last grams, too short for gram4
		if g := gram2(s, i); short.maybe(g) {
			dst = x.verify(dst, s, i, short.lookup(g))
		}
	}
	for _, li := range x.ones {
		if strings.IndexByte(s, x.lits[li][0]) >= 0 {
			dst = append(dst, li)
		}
	}
	return dst
}

// verify checks the literals whose gram was seen at position i of s.
func (x *LitIndex) verify(dst []int32, s string, i int, cands []litAt) []int32 {
	for _, c := range cands {
		l := x.lits[c.lit]
		start := i - int(c.off)
		if start >= 0 && start+len(l) <= len(s) && s[start:start+len(l)] == l {
			dst = append(dst, c.lit)
		}
	}
	return dst
}

// gram4 reads the 4 bytes of s at i in one load (the caller checks the
// bounds).
func gram4(s string, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice(unsafe.StringData(s[i:]), 4))
}

func gram2(s string, i int) uint32 {
	_ = s[i+1]
	return uint32(s[i]) | uint32(s[i+1])<<8
}

// gramTable maps grams to the literals indexed by them: a bit filter over
// hashed grams, then open addressing.
type gramTable struct {
	filter [1 << 10]uint64 // 2^16 bits
	keys   []uint32
	spans  []span // per slot: the slot's literals in at
	at     []litAt
	shift  uint32
}

type span struct{ start, end int32 }

// newGramTable returns nil for no grams, so that scans skip the table.
func newGramTable(byGram map[uint32][]litAt) *gramTable {
	if len(byGram) == 0 {
		return nil
	}
	bits := uint32(1)
	for 1<<bits < 2*len(byGram) {
		bits++
	}
	t := &gramTable{keys: make([]uint32, 1<<bits), spans: make([]span, 1<<bits), shift: 32 - bits}
	for g, lits := range byGram {
		h := filterHash(g)
		t.filter[h>>6] |= 1 << (h & 63)
		slot := t.slot(g)
		for t.spans[slot].end != 0 {
			slot = (slot + 1) & uint32(len(t.keys)-1)
		}
		t.keys[slot] = g
		t.spans[slot] = span{int32(len(t.at)), int32(len(t.at) + len(lits))}
		t.at = append(t.at, lits...)
	}
	return t
}

func filterHash(g uint32) uint32 { return (g * 2654435761) >> 16 }

func (t *gramTable) slot(g uint32) uint32 { return (g * 0x9e3779b1) >> t.shift }

func (t *gramTable) maybe(g uint32) bool {
	h := filterHash(g)
	return t.filter[h>>6]&(1<<(h&63)) != 0
}

func (t *gramTable) lookup(g uint32) []litAt {
	mask := uint32(len(t.keys) - 1)
	for slot := t.slot(g); t.spans[slot].end != 0; slot = (slot + 1) & mask {
		if t.keys[slot] == g {
			sp := t.spans[slot]
			return t.at[sp.start:sp.end]
		}
	}
	return nil
}
