//go:build linux

package tests

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
)

// A burst of processes, faster than a web server starts them: 10,000 execs
// from 8 parallel workers, read from the kernel as a user runs the beat
// (its own audit rules; unicast, or the multicast group beside a running
// auditd). Interleaved records of parallel execs are what the reassembler
// and the process table must keep apart. Each exec must come out once, with
// xargs as its parent: none lost, none doubled.
func TestLiveAuditBurst(t *testing.T) {
	liveReady(t)
	dir := t.TempDir()
	startLiveBeat(t, dir, "webshellbeat.inputs:\n- type: auditd\n  id: audit-burst\n")

	const n = 10000
	marker := fmt.Sprintf("wsbburst%d-", time.Now().UnixNano())
	start := time.Now()
	execBurst(t, n, marker)
	took := time.Since(start)
	t.Logf("%d execs in %v (%.0f/s)", n, took.Round(time.Millisecond), n/took.Seconds())

	var seen map[int]int
	var orphans int
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(2 * time.Second) {
		seen, orphans = burstEvents(t, dir, marker)
		if len(seen) == n || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("all in the output %v after the burst ended", (time.Since(start) - took).Round(time.Second))
	var missing, doubled []int
	for i := 1; i <= n; i++ {
		switch seen[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			doubled = append(doubled, i)
		}
	}
	if len(missing) > 0 || len(doubled) > 0 {
		t.Errorf("of %d execs: %d missing (first %v), %d more than once (first %v)", n, len(missing), first(missing), len(doubled), first(doubled))
	}
	if orphans > 0 {
		t.Errorf("%d of the burst's process events have no xargs parent", orphans)
	}
}

// execBurst runs /bin/true n times from 8 parallel xargs workers, with the
// argument marker1 ... marker<n>.
func execBurst(t *testing.T, n int, marker string) {
	t.Helper()
	burst := fmt.Sprintf("seq 1 %d | sed 's/^/%s/' | xargs -P 8 -n 1 /bin/true", n, marker)
	if out, err := exec.Command("sh", "-c", burst).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", burst, err, out)
	}
}

// burstEvents counts the process events of the burst in the output by the
// number after marker in their argument, and those without xargs as parent.
func burstEvents(t *testing.T, dir, marker string) (seen map[int]int, orphans int) {
	seen = map[int]int{}
	for _, d := range readDocs(t, dir) {
		if isDerived(d) || detection.LookupString(d, "event.action") != "executed" {
			continue
		}
		v, _ := detection.Lookup(d, "process.args")
		args, _ := v.([]any)
		if len(args) != 2 {
			continue
		}
		arg, _ := args[1].(string)
		i, err := strconv.Atoi(strings.TrimPrefix(arg, marker))
		if !strings.HasPrefix(arg, marker) || err != nil {
			continue
		}
		seen[i]++
		if detection.LookupString(d, "process.parent.name") != "xargs" {
			orphans++
		}
	}
	return seen, orphans
}

func first(l []int) []int { return l[:min(len(l), 5)] }
