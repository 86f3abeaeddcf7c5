package auditd

import (
	"testing"
	"time"

	"github.com/elastic/elastic-agent-libs/logp/logptest"
	"github.com/elastic/elastic-agent-libs/monitoring"
	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"
)

// The reassembler (go-libaudit's, as live mode runs it) fed records out of
// order and with an event missing: each complete event reaches the stream
// with all its records, in sequence order, and the missing one is counted as
// a gap on the input's metrics.
func TestReassemblyOutOfOrderAndLost(t *testing.T) {
	out := make(chan []*auparse.AuditMessage, 16)
	done := make(chan struct{})
	defer close(done)
	reg := monitoring.NewRegistry()
	metrics := newLiveMetrics(reg)
	st := &stream{out: out, done: done, metrics: metrics, log: logptest.NewTestingLogger(t, "")}
	reasm, err := libaudit.NewReassembler(16, 50*time.Millisecond, st)
	if err != nil {
		t.Fatal(err)
	}
	defer reasm.Close()

	rec := func(typ auparse.AuditMessageType, seq, body string) {
		t.Helper()
		if err := reasm.Push(typ, []byte("audit(1700000000.000:"+seq+"): "+body)); err != nil {
			t.Fatalf("push %s: %v", seq, err)
		}
	}
	// Event 101 complete; 102 never arrives (lost); 104's records come
	// interleaved with 103's.
	rec(auparse.AUDIT_SYSCALL, "101", `arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=2 uid=33 comm="sh" exe="/bin/dash"`)
	rec(auparse.AUDIT_EXECVE, "101", `argc=3 a0="sh" a1="-c" a2="id"`)
	rec(auparse.AUDIT_EOE, "101", ``)
	rec(auparse.AUDIT_SYSCALL, "103", `arch=c000003e syscall=59 success=yes exit=0 ppid=2 pid=3 uid=33 comm="id" exe="/usr/bin/id"`)
	rec(auparse.AUDIT_SYSCALL, "104", `arch=c000003e syscall=59 success=yes exit=0 ppid=2 pid=4 uid=33 comm="whoami" exe="/usr/bin/whoami"`)
	rec(auparse.AUDIT_EXECVE, "103", `argc=1 a0="id"`)
	rec(auparse.AUDIT_EXECVE, "104", `argc=1 a0="whoami"`)
	rec(auparse.AUDIT_EOE, "104", ``)
	rec(auparse.AUDIT_EOE, "103", ``)

	var seqs []uint32
	deadline := time.After(2 * time.Second)
	for len(seqs) < 3 {
		select {
		case msgs := <-out:
			if len(msgs) != 2 {
				t.Errorf("event %d: %d records, want SYSCALL and EXECVE", msgs[0].Sequence, len(msgs))
			}
			seqs = append(seqs, msgs[0].Sequence)
		case <-deadline:
			t.Fatalf("events reassembled: %v, want 101, 103, 104", seqs)
		case <-time.After(20 * time.Millisecond):
			if err := reasm.Maintain(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if seqs[0] != 101 || seqs[1] != 103 || seqs[2] != 104 {
		t.Errorf("order %v, want 101 103 104", seqs)
	}
	if got := metrics.gaps.Get(); got != 1 {
		t.Errorf("audit_reassembly_gaps_total = %d, want 1 (event 102)", got)
	}
}
