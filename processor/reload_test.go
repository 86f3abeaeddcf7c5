//go:build unix

package processor

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp/logptest"
)

func reconRuleFor(names string) string {
	return strings.Replace(reconRule, "[whoami, id, uname]", "["+names+"]", 1)
}

func ruleIDsOf(ev *beat.Event) []string {
	v, _ := ev.Fields.GetValue("webshell.rule_ids")
	ids, _ := v.([]string)
	return ids
}

// eventually runs the processor on a fresh recon event until cond holds.
func eventually(t *testing.T, p beat.Processor, name string, cond func(*beat.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		out, err := p.Run(reconEvent(time.Now(), "web1", name, i))
		if err != nil {
			t.Fatal(err)
		}
		if cond(out) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: condition not met in 5s", name)
}

func reloadProc(t *testing.T, hub *Hub, dir string, period string) beat.Processor {
	t.Helper()
	p, err := hub.newWebshell(conf.MustNewConfigFrom(map[string]any{
		"rules": map[string]any{"builtin": false, "paths": []string{dir}, "reload": map[string]any{"enabled": true, "period": period}},
		"state": map[string]any{"path": t.TempDir()},
	}), logptest.NewTestingLogger(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.(interface{ Close() error }).Close() })
	return p
}

// The webshell processor polls its rule folder: an edit is swapped in, a
// broken edit keeps the rules in use, and processors keep running
// throughout.
func TestProcessorReloadsOnChange(t *testing.T) {
	dir := ruleDir(t, map[string]string{"recon.yml": reconRuleFor("whoami")})
	p := reloadProc(t, NewHub(), dir, "20ms")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 { // concurrent Run calls across the swaps
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := p.Run(reconEvent(time.Now(), "web2", "whoami", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	eventually(t, p, "whoami", func(ev *beat.Event) bool { return len(ruleIDsOf(ev)) == 1 })
	if err := os.WriteFile(filepath.Join(dir, "recon.yml"), []byte(reconRuleFor("whoami, uname")), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, p, "uname", func(ev *beat.Event) bool { return len(ruleIDsOf(ev)) == 1 })
	// A broken file: the previous rules stay.
	if err := os.WriteFile(filepath.Join(dir, "broken.yml"), []byte("title: broken\ndetection: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // several polls
	for _, name := range []string{"whoami", "uname"} {
		out, err := p.Run(reconEvent(time.Now(), "web1", name, 9))
		if err != nil || len(ruleIDsOf(out)) != 1 {
			t.Errorf("%s after a broken file: %v %v", name, ruleIDsOf(out), err)
		}
	}
}

// SIGHUP, once the beat runs, reloads the rules (period 0: SIGHUP only)
// instead of stopping the process.
func TestProcessorReloadsOnSIGHUP(t *testing.T) {
	dir := ruleDir(t, map[string]string{"recon.yml": reconRuleFor("whoami")})
	hub := NewHub()
	p := reloadProc(t, hub, dir, "0s")
	hub.Running(logptest.NewTestingLogger(t, ""))
	if err := os.WriteFile(filepath.Join(dir, "recon.yml"), []byte(reconRuleFor("whoami, uname")), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if out, _ := p.Run(reconEvent(time.Now(), "web1", "uname", 1)); len(ruleIDsOf(out)) != 0 {
		t.Fatal("reloaded without SIGHUP while period is 0")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, p, "uname", func(ev *beat.Event) bool { return len(ruleIDsOf(ev)) == 1 })
}
