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
//   - When every literal is long (keyword searches: "sekurlsa::"), the text
//     is instead skipped through as in Wu-Manber, several bytes at a time.
//
// A folding index holds lowered literals and finds them in text that is
// either ASCII, in any case, or already lowered (see Event.ScanValues): its
// grams ignore bit 0x20 of each byte, and a candidate is verified with ASCII
// case folding. This spares lowering every value only to scan it. Immutable
// after NewLitIndex, safe for concurrent use.
type LitIndex struct {
	lits  []string
	fold  bool
	long  *gramTable // 4-grams
	short *gramTable // 2-grams of 2- and 3-byte literals
	ones  []int32
	skip  *skipTable
}

// litAt is a literal whose indexed gram starts off bytes into it.
type litAt struct {
	lit int32
	off int32
}

// NewLitIndex indexes lits (lowered ones when fold); hits are reported by
// position in lits. Empty literals are ignored.
func NewLitIndex(lits []string, fold bool) *LitIndex {
	x := &LitIndex{lits: lits, fold: fold}
	if x.skip = newSkipTable(lits, x.foldMask(4)); x.skip != nil {
		return x
	}
	freq := gramFrequencies(lits, x.foldMask(4))
	long, short := map[uint32][]litAt{}, map[uint32][]litAt{}
	for i, l := range lits {
		switch {
		case len(l) >= 4:
			off := rarestGram(l, freq, x.foldMask(4))
			g := gram4(l, off) | x.foldMask(4)
			long[g] = append(long[g], litAt{int32(i), int32(off)})
		case len(l) >= 2:
			g := gram2(l, 0) | x.foldMask(2)
			short[g] = append(short[g], litAt{int32(i), 0})
		case len(l) == 1:
			x.ones = append(x.ones, int32(i))
		}
	}
	x.long = newGramTable(long)
	x.short = newGramTable(short)
	return x
}

// MinLen is the length of the shortest literal (0 for none).
func (x *LitIndex) MinLen() int {
	if len(x.lits) == 0 {
		return 0
	}
	n := len(x.lits[0])
	for _, l := range x.lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// foldMask is or-ed into grams of n bytes: bit 0x20 of each byte when
// folding (it tells 'A' from 'a'), nothing otherwise.
func (x *LitIndex) foldMask(n int) uint32 {
	if !x.fold {
		return 0
	}
	return 0x20202020 >> (8 * (4 - n))
}

// gramFrequencies counts, per 4-gram, the literals that contain it.
func gramFrequencies(lits []string, mask uint32) map[uint32]int32 {
	freq := map[uint32]int32{}
	seen := map[uint32]bool{}
	for _, l := range lits {
		clear(seen)
		for i := 0; i+4 <= len(l); i++ {
			if g := gram4(l, i) | mask; !seen[g] {
				seen[g] = true
				freq[g]++
			}
		}
	}
	return freq
}

// rarestGram returns the offset of l's least shared 4-gram (the first of
// equals).
func rarestGram(l string, freq map[uint32]int32, mask uint32) int {
	best := 0
	for i := 1; i+4 <= len(l); i++ {
		if freq[gram4(l, i)|mask] < freq[gram4(l, best)|mask] {
			best = i
		}
	}
	return best
}

// AppendHits appends to dst the position of each literal found in s (a
// literal found twice may be reported twice).
func (x *LitIndex) AppendHits(dst []int32, s string) []int32 {
	if x.skip != nil {
		return x.skipHits(dst, s)
	}
	n := len(s)
	long, short := x.long, x.short
	m4, m2 := x.foldMask(4), x.foldMask(2)
	i := 0
	for ; i+4 <= n; i++ {
		g := gram4(s, i) | m4
		if long != nil && long.maybe(g) {
			dst = x.verify(dst, s, i, long.lookup(g))
		}
		if short != nil && short.maybe(g&0xffff) {
			dst = x.verify(dst, s, i, short.lookup(g&0xffff))
		}
	}
	for ; short != nil && i+2 <= n; i++ { // the last grams, too short for gram4
		if g := gram2(s, i) | m2; short.maybe(g) {
			dst = x.verify(dst, s, i, short.lookup(g))
		}
	}
	for _, li := range x.ones {
		if x.hasByte(s, x.lits[li][0]) {
			dst = append(dst, li)
		}
	}
	return dst
}

func (x *LitIndex) hasByte(s string, c byte) bool {
	if strings.IndexByte(s, c) >= 0 {
		return true
	}
	return x.fold && 'a' <= c && c <= 'z' && strings.IndexByte(s, c-'a'+'A') >= 0
}

// verify checks the literals whose gram was seen at position i of s.
func (x *LitIndex) verify(dst []int32, s string, i int, cands []litAt) []int32 {
	for _, c := range cands {
		l := x.lits[c.lit]
		start := i - int(c.off)
		if start < 0 || start+len(l) > len(s) {
			continue
		}
		if t := s[start : start+len(l)]; x.fold && equalLowered(t, l) || !x.fold && t == l {
			dst = append(dst, c.lit)
		}
	}
	return dst
}

// equalLowered reports whether t, with its ASCII letters lowered, is l (of
// the same length), a word at a time. A word of t that is not all ASCII
// comes from a value that ScanValues lowered whole, so it is compared as is.
func equalLowered(t, l string) bool {
	n := len(l)
	if n >= 8 {
		for i := 0; ; i += 8 {
			if i+8 > n {
				i = n - 8 // the last word overlaps the one before
			}
			w := load64(t, i)
			if w&high8 == 0 {
				w |= upperMask(w) >> 2
			}
			if w != load64(l, i) {
				return false
			}
			if i == n-8 {
				return true
			}
		}
	}
	for i := 0; i < n; i++ {
		c := t[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != l[i] {
			return false
		}
	}
	return true
}

// skipMin is the shortest literal length for a skipping scan: below it,
// skips are too short to pay for themselves.
const skipMin = 8

// skipTable is a Wu-Manber scan over 4-grams: a window of m bytes (the
// shortest literal) slides along the text; the gram at its end says how far
// it can move before some literal's first m bytes could line up, and only
// a shift of zero probes the literals that end their first m bytes with it.
type skipTable struct {
	m     int
	mask  uint32
	shift [1 << 12]uint8
	tails *gramTable
}

func newSkipTable(lits []string, mask uint32) *skipTable {
	m := 255
	for _, l := range lits {
		m = min(m, len(l))
	}
	if len(lits) == 0 || m < skipMin {
		return nil
	}
	t := &skipTable{m: m, mask: mask}
	for i := range t.shift {
		t.shift[i] = uint8(m - 3)
	}
	tails := map[uint32][]litAt{}
	for i, l := range lits {
		for j := 3; j < m; j++ {
			h := skipHash(gram4(l, j-3) | mask)
			t.shift[h] = min(t.shift[h], uint8(m-1-j))
		}
		g := gram4(l, m-4) | mask
		tails[g] = append(tails[g], litAt{int32(i), int32(m - 4)})
	}
	t.tails = newGramTable(tails)
	return t
}

func skipHash(g uint32) uint32 { return (g * 2654435761) >> 20 }

func (x *LitIndex) skipHits(dst []int32, s string) []int32 {
	t := x.skip
	if len(s) < skipSplit {
		return x.skipRange(dst, s, t.m-1, len(s))
	}
	// Each step waits on the load of the one before, so a long text is
	// scanned as two halves at once: a window belongs to the half where it
	// ends, and a literal is found in the window of its first m bytes.
	mid := len(s) / 2
	pa, pb := t.m-1, mid
	for pa < mid && pb < len(s) {
		ga := gram4(s, pa-3) | t.mask
		gb := gram4(s, pb-3) | t.mask
		sa, sb := int(t.shift[skipHash(ga)]), int(t.shift[skipHash(gb)])
		if sa == 0 {
			if t.tails.maybe(ga) {
				dst = x.verify(dst, s, pa-3, t.tails.lookup(ga))
			}
			sa = 1
		}
		if sb == 0 {
			if t.tails.maybe(gb) {
				dst = x.verify(dst, s, pb-3, t.tails.lookup(gb))
			}
			sb = 1
		}
		pa, pb = pa+sa, pb+sb
	}
	dst = x.skipRange(dst, s, pa, mid)
	return x.skipRange(dst, s, max(pb, mid), len(s))
}

// skipSplit is the text length from which skipHits scans two halves.
const skipSplit = 256

// skipRange finds the literals whose first m bytes end at p..end-1.
func (x *LitIndex) skipRange(dst []int32, s string, p, end int) []int32 {
	t := x.skip
	for p < end {
		g := gram4(s, p-3) | t.mask
		if sh := t.shift[skipHash(g)]; sh > 0 {
			p += int(sh)
			continue
		}
		if t.tails.maybe(g) {
			dst = x.verify(dst, s, p-3, t.tails.lookup(g))
		}
		p++
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
// hashed grams, then open addressing. A slot holds its gram and its span
// of literals together, so a probe reads one cache line.
type gramTable struct {
	filter [filterWords]uint64
	slots  []gramSlot
	at     []litAt
	shift  uint32
}

// filterBits is the size of a gramTable's filter: 2^17 bits (16 KiB) keeps
// false probes rare with the ten thousand literals of SigmaHQ's command
// lines, and still fits the L1 cache.
const (
	filterBits  = 17
	filterWords = 1 << (filterBits - 6)
)

type gramSlot struct {
	key        uint32
	start, end int32 // the slot's literals in at; end 0: empty
}

// newGramTable returns nil for no grams, so that scans skip the table.
func newGramTable(byGram map[uint32][]litAt) *gramTable {
	if len(byGram) == 0 {
		return nil
	}
	bits := uint32(1)
	for 1<<bits < 2*len(byGram) {
		bits++
	}
	t := &gramTable{slots: make([]gramSlot, 1<<bits), shift: 32 - bits}
	for g, lits := range byGram {
		h := filterHash(g)
		t.filter[h>>6] |= 1 << (h & 63)
		slot := t.slot(g)
		for t.slots[slot].end != 0 {
			slot = (slot + 1) & uint32(len(t.slots)-1)
		}
		t.slots[slot] = gramSlot{g, int32(len(t.at)), int32(len(t.at) + len(lits))}
		t.at = append(t.at, lits...)
	}
	return t
}

func filterHash(g uint32) uint32 { return (g * 2654435761) >> (32 - filterBits) }

func (t *gramTable) slot(g uint32) uint32 { return (g * 0x9e3779b1) >> t.shift }

func (t *gramTable) maybe(g uint32) bool {
	h := filterHash(g)
	return t.filter[h>>6]&(1<<(h&63)) != 0
}

func (t *gramTable) lookup(g uint32) []litAt {
	mask := uint32(len(t.slots) - 1)
	for slot := t.slot(g); t.slots[slot].end != 0; slot = (slot + 1) & mask {
		if sl := &t.slots[slot]; sl.key == g {
			return t.at[sl.start:sl.end]
		}
	}
	return nil
}
