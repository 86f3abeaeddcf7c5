package compile

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// bruteHits is what AppendHits must find: the literals that occur in the
// text, lowered first when the index folds.
func bruteHits(lits []string, s string, fold bool) []int32 {
	if fold {
		s = strings.ToLower(s)
	}
	var out []int32
	for i, l := range lits {
		if l != "" && strings.Contains(s, l) {
			out = append(out, int32(i))
		}
	}
	return out
}

func distinct(hits []int32) []int32 {
	out := slices.Clone(hits)
	slices.Sort(out)
	return slices.Compact(out)
}

// checkIndex compares the index with the brute-force search on s, which a
// folding index scans as Event.ScanValues would give it.
func checkIndex(t *testing.T, lits []string, s string) {
	t.Helper()
	for _, fold := range []bool{false, true} {
		idxLits := lits
		if fold {
			idxLits = make([]string, len(lits))
			for i, l := range lits {
				idxLits[i] = strings.ToLower(l)
			}
		}
		text := s
		if _, ascii := classify(s); fold && !ascii {
			text = strings.ToLower(s)
		}
		got := distinct(NewLitIndex(idxLits, fold).AppendHits(nil, text))
		if want := bruteHits(idxLits, s, fold); !slices.Equal(got, want) {
			t.Fatalf("fold=%v lits %q in %q: got %v, want %v", fold, idxLits, s, got, want)
		}
	}
}

// TestLitIndexAgainstBruteForce runs literal sets of every shape the index
// handles (one-byte, short, long, all long enough to skip; shared grams;
// mixed case, non-ASCII) over random texts built from their own pieces,
// short and long (see skipSplit).
func TestLitIndexAgainstBruteForce(t *testing.T) {
	sets := [][]string{
		{"a", "-", ":"},
		{" -p", "/c", "^^", "\\\\", "{0}"},
		{"\\cmd.exe", "cmd.exe /c", ".exe", "whoami", "powershell", "-enc", "x"},
		{"sekurlsa::", "lsadump::", "Kiwi Legit Printer", "gentilkiwi.com", "privilege::debug"},
		{"aaaaaaaa", "aaaaaaab", "baaaaaaaa"},
		{"Microsoft®", "é", "İstanbul", "\u212aelvin"},
	}
	rng := rand.New(rand.NewPCG(7, 9))
	noise := []string{"C:\\Windows\\", " /c ", "A", "b", "®", "::", "SEKURLSA", "a", "\xff", "-"}
	for _, lits := range sets {
		for n := 0; n < 400; n++ {
			var b strings.Builder
			pieces := rng.IntN(8)
			if n%4 == 0 { // long enough for the two-halves skip scan
				pieces = 40 + rng.IntN(160)
			}
			for k := pieces; k >= 0; k-- {
				if rng.IntN(2) == 0 {
					l := lits[rng.IntN(len(lits))]
					if rng.IntN(2) == 0 {
						l = strings.ToUpper(l)
					}
					b.WriteString(l)
				} else {
					b.WriteString(noise[rng.IntN(len(noise))])
				}
			}
			checkIndex(t, lits, b.String())
		}
	}
}

func FuzzLitIndex(f *testing.F) {
	f.Add("sekurlsa::,lsadump::", "xx SEKURLSA::LogonPasswords")
	f.Add("\\cmd.exe,/c,-", "C:\\Windows\\CMD.EXE /C whoami")
	f.Fuzz(func(t *testing.T, lits, s string) {
		checkIndex(t, strings.Split(lits, ","), s)
	})
}
