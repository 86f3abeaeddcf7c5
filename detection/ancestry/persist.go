package ancestry

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"webshellbeat/detection"
)

// stateVersion is bumped when the saved shape changes; a file of another
// version is ignored (the table starts empty) rather than misread.
const stateVersion = 1

type savedEntry struct {
	ID     []byte `json:"id"`
	Parent []byte `json:"parent,omitempty"`
	Start  int64  `json:"start,omitempty"`
	Last   int64  `json:"last"`
	PID    int32  `json:"pid,omitempty"`
	PPID   int32  `json:"ppid,omitempty"`
	Exe    string `json:"exe,omitempty"`
	Name   string `json:"name,omitempty"`
	Cmd    string `json:"cmd,omitempty"`
	User   string `json:"user,omitempty"`
	Cwd    string `json:"cwd,omitempty"`
	Flags  uint8  `json:"flags"`
}

type savedState struct {
	Version int                     `json:"version"`
	Saved   time.Time               `json:"saved"` // wall clock, for people only
	Hosts   map[string][]savedEntry `json:"hosts"`
	Now     map[string]int64        `json:"now"`
}

// Save writes the table to path atomically (a temporary file renamed).
func (t *Table) Save(path string) error {
	st := savedState{Version: stateVersion, Saved: time.Now().UTC(), Hosts: map[string][]savedEntry{}, Now: map[string]int64{}}
	t.mu.Lock()
	hosts := make(map[string]*hostTable, len(t.hosts))
	for n, h := range t.hosts {
		hosts[n] = h
	}
	t.mu.Unlock()
	for name, h := range hosts {
		h.mu.Lock()
		list := make([]savedEntry, 0, len(h.byID))
		for _, i := range h.byID {
			e := &h.entries[i]
			se := savedEntry{ID: e.id[:], Start: e.start, Last: e.last, PID: e.pid, PPID: e.ppid,
				Exe: e.exe, Name: e.name, Cmd: e.cmd, User: e.user, Cwd: e.cwd, Flags: e.flags}
			if e.flags&fParent != 0 {
				se.Parent = e.parent[:]
			}
			list = append(list, se)
		}
		st.Hosts[name] = list
		st.Now[name] = h.now
		h.mu.Unlock()
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save process table: %w", err)
	}
	return detection.WriteFileAtomic(path, data)
}

// ErrVersion says a saved table was written by another version.
var ErrVersion = errors.New("process table file has another version")

// Restore loads a table saved by Save into t, which should be empty. A file
// that does not exist is not an error (a first start). Entries beyond the
// table's bounds are dropped as on insertion.
func (t *Table) Restore(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("%s: version %d, want %d: %w", path, st.Version, stateVersion, ErrVersion)
	}
	for name, list := range st.Hosts {
		h := t.host(name, st.Now[name])
		h.mu.Lock()
		if st.Now[name] > h.now {
			h.now = st.Now[name]
			h.swept = h.now
		}
		for _, se := range list {
			if len(se.ID) != 16 || len(h.byID) >= t.opt.MaxProcesses {
				continue
			}
			e := entry{start: se.Start, last: se.Last, pid: se.PID, ppid: se.PPID, exe: h.str(se.Exe),
				name: h.str(se.Name), cmd: se.Cmd, user: h.str(se.User), cwd: h.str(se.Cwd), flags: se.Flags}
			copy(e.id[:], se.ID)
			if len(se.Parent) == 16 {
				copy(e.parent[:], se.Parent)
			} else {
				e.flags &^= fParent
			}
			if _, dup := h.byID[e.id]; dup {
				continue
			}
			i := int32(len(h.entries))
			h.entries = append(h.entries, e)
			h.byID[e.id] = i
			if e.pid > 0 {
				if j, had := h.byPID[e.pid]; !had || h.entries[j].start <= e.start {
					h.byPID[e.pid] = i
				}
			}
		}
		h.mu.Unlock()
	}
	return nil
}
