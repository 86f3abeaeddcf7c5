package detector

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"webshellbeat/detection"
	"webshellbeat/detection/aggregate"
)

// correlationsFile holds the windows of the Sigma correlation rules, per
// chain of correlation rules (corrUnit), keyed by a hash of what the rules
// say: a chain whose rules changed while the beat was down starts empty, as
// a reload that changes them does.
const correlationsFile = "correlations.json"

type savedCorrelations struct {
	Version int                        `json:"version"`
	Units   map[string]aggregate.Saved `json:"units"`
}

const correlationsVersion = 1

func unitHash(u *corrUnit) string {
	sum := sha256.Sum256([]byte(u.key))
	return hex.EncodeToString(sum[:12])
}

// saveCorrelations writes the windows of rs's correlators.
func saveCorrelations(dir string, rs *ruleSet) error {
	st := savedCorrelations{Version: correlationsVersion, Units: map[string]aggregate.Saved{}}
	for _, u := range rs.units {
		if s := u.c.Snapshot(); len(s.Corrs) > 0 {
			st.Units[unitHash(u)] = s
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save correlation windows: %w", err)
	}
	return detection.WriteFileAtomic(filepath.Join(dir, correlationsFile), data)
}

// restoreCorrelations loads saved windows into rs's correlators, which
// have seen no event yet, and says what it did (nothing when nothing was
// saved). A file that cannot be read or has another version is reported
// and ignored: the beat starts with empty windows rather than not at all.
func restoreCorrelations(dir string, rs *ruleSet) string {
	path := filepath.Join(dir, correlationsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("correlation windows not restored: %v", err)
	}
	var st savedCorrelations
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Sprintf("correlation windows not restored: %s: %v", path, err)
	}
	if st.Version != correlationsVersion {
		return fmt.Sprintf("correlation windows not restored: %s has version %d, want %d", path, st.Version, correlationsVersion)
	}
	restored, skipped, changed := 0, 0, 0
	used := map[string]bool{}
	for _, u := range rs.units {
		h := unitHash(u)
		s, ok := st.Units[h]
		if !ok {
			continue
		}
		used[h] = true
		n, bad := u.c.Restore(s)
		restored += n
		skipped += bad
	}
	for h, s := range st.Units {
		if !used[h] {
			changed += s.Groups()
		}
	}
	if restored+skipped+changed == 0 {
		return "" // nothing was saved: not worth a log line
	}
	return fmt.Sprintf("correlation windows restored from %s: %d groups; %d skipped (not fitting their rule), %d dropped (their rules changed or are gone)", path, restored, skipped, changed)
}
