package auditd

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestUndoLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", undoFileName)
	if u, err := loadUndo(path); u != nil || err != nil {
		t.Fatalf("no undo log: got %v, %v", u, err)
	}
	want := &undoLog{
		PID: 42, Socket: socketUnicast, Replaced: true,
		SavedRules:  [][]byte{{1, 2, 3}},
		AddedRules:  [][]byte{{9}, {0, 255}},
		SelfRule:    []byte{9},
		Settings:    []savedSetting{{Name: backlogLimit, Before: 64, Set: 8192}},
		EnabledByUs: true,
	}
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadUndo(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("loaded %+v, %v; saved %+v", got, err, want)
	}
	if s, ok := got.setting(backlogLimit); !ok || s.Before != 64 {
		t.Errorf("setting(backlog limit) = %+v, %v", s, ok)
	}
	if _, ok := got.setting(rateLimit); ok {
		t.Error("setting(rate limit): found, never set")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
}

func TestUndoLogUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), undoFileName)
	if err := os.WriteFile(path, []byte(`{"pid": 4`), 0o600); err != nil {
		t.Fatal(err)
	}
	if u, err := loadUndo(path); u != nil || err == nil {
		t.Fatalf("a cut undo log: got %v, %v; want an error", u, err)
	}
}

// The rules a killed run left that the next run deletes: all it added,
// except when it was unicast and auditd runs now (auditd may have loaded
// the same rules since): then only its own pid's rule.
func TestUndoLogStale(t *testing.T) {
	added := [][]byte{{1}, {2}, {3}}
	for _, c := range []struct {
		was, now string
		want     [][]byte
	}{
		{socketUnicast, socketUnicast, added},
		{socketMulticast, socketMulticast, added},
		{socketMulticast, socketUnicast, added},
		{socketUnicast, socketMulticast, [][]byte{{1}}},
	} {
		u := &undoLog{Socket: c.was, AddedRules: added, SelfRule: []byte{1}}
		if got := u.stale(c.now); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s, then %s: stale %v, want %v", c.was, c.now, got, c.want)
		}
	}
	var none *undoLog
	if got := none.stale(socketUnicast); got != nil {
		t.Errorf("no undo log: stale %v", got)
	}
	if _, ok := none.setting(rateLimit); ok {
		t.Error("no undo log: a setting found")
	}
}

func TestUnion(t *testing.T) {
	got := union([][]byte{{1}, {2}}, [][]byte{{2}, {3}})
	if want := [][]byte{{1}, {2}, {3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("union = %v, want %v", got, want)
	}
}
