package auditd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"webshellbeat/detection"
)

// undoLog is what a live session changes in the kernel, written to path.data
// before each change and removed once the changes are undone. A run that
// could not undo them (killed with SIGKILL or by the OOM killer, a machine
// that lost power is rebooted and needs nothing) leaves it, and the next run
// undoes them: otherwise its rule that keeps the beat's own calls out of
// the audit stream (-F pid=<beat>) would stay and hide whatever process
// gets that pid next, and the rules and settings the beat replaced would
// never come back.
type undoLog struct {
	PID    int    `json:"pid"`
	Socket string `json:"socket"`
	// Replaced: the rules loaded before (SavedRules) were deleted (unicast).
	Replaced   bool     `json:"replaced,omitempty"`
	SavedRules [][]byte `json:"saved_rules,omitempty"`
	// AddedRules are the rules the session adds, SelfRule among them.
	AddedRules  [][]byte       `json:"added_rules,omitempty"`
	SelfRule    []byte         `json:"self_rule,omitempty"`
	Settings    []savedSetting `json:"settings,omitempty"`
	EnabledByUs bool           `json:"enabled_by_us,omitempty"`
}

// savedSetting is a kernel audit setting: its value before, and the value
// the session set.
type savedSetting struct {
	Name   string `json:"name"`
	Before uint32 `json:"before"`
	Set    uint32 `json:"set"`
}

// Kernel audit settings a unicast session sets, by their name in the undo
// log and the logs.
const (
	backlogLimit    = "backlog limit"
	rateLimit       = "rate limit"
	backlogWaitTime = "backlog wait time"
)

// undoFileName is the undo log's name in path.data: one per beat, as one
// live input at a time can own the kernel's audit socket.
const undoFileName = "auditd-live-undo.json"

// loadUndo reads the undo log a run left at path; nil when there is none.
func loadUndo(path string) (*undoLog, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var u undoLog
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &u, nil
}

// save writes u to path whole or not at all, and to disk, before the
// change it records is made.
func (u *undoLog) save(path string) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return detection.WriteFileAtomic(path, b)
}

// setting returns the value the run saw before it set name, if it set it.
func (u *undoLog) setting(name string) (savedSetting, bool) {
	if u == nil {
		return savedSetting{}, false
	}
	for _, s := range u.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return savedSetting{}, false
}

// stale lists the rules u's run added that are surely its own, for a
// session on socket now to delete: all of them, unless that run was
// unicast and now auditd runs (it may have loaded the same rules since);
// then only the rule that names that run's pid.
func (u *undoLog) stale(now string) [][]byte {
	switch {
	case u == nil:
		return nil
	case u.Socket == socketMulticast || now == socketUnicast:
		return u.AddedRules
	case u.SelfRule != nil:
		return [][]byte{u.SelfRule}
	}
	return nil
}

// union is a, then the rules of b not in a.
func union(a, b [][]byte) [][]byte {
	out := slices.Clone(a)
	for _, r := range b {
		if !hasRule(a, r) {
			out = append(out, r)
		}
	}
	return out
}

// hasRule reports whether rules holds r (the kernel's wire format).
func hasRule(rules [][]byte, r []byte) bool {
	return slices.ContainsFunc(rules, func(x []byte) bool { return bytes.Equal(x, r) })
}
