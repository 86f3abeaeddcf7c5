//go:build linux

package auditd

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/paths"
	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/elastic/go-libaudit/v2/auparse"

	"webshellbeat/input/internal/files"
	mapper "webshellbeat/module/auditd"
)

const procRoot = "/proc"

// liveSession is one run of live mode: the clients, what was changed in the
// kernel (to restore it), and the pipeline from netlink to the publisher.
type liveSession struct {
	cfg     liveConfig
	log     *logp.Logger
	metrics *liveMetrics

	control *libaudit.AuditClient // rules and status
	data    *libaudit.AuditClient // events
	socket  string

	state    kernelState
	status   *libaudit.AuditStatus
	lastLost uint32

	// undo is what the session changes in the kernel, put back on exit
	// (unicast: the rules replaced and the settings; both: the rules
	// added), and saved at undoPath before each change. prev is the undo
	// log a run left that could not undo its changes (see undoLog).
	undo      undoLog
	undoPath  string
	undoSaved bool
	prev      *undoLog

	// wanted are the configured rules, kept loaded by checkRules; refused
	// are those the kernel would not take (at start: b32 without IA32
	// emulation, a missing folder; later: audit locked), not tried again.
	wanted  []auditRule
	refused map[string]bool
}

var setters = map[string]func(c *libaudit.AuditClient, v uint32) error{
	backlogLimit:    func(c *libaudit.AuditClient, v uint32) error { return c.SetBacklogLimit(v, libaudit.NoWait) },
	rateLimit:       func(c *libaudit.AuditClient, v uint32) error { return c.SetRateLimit(v, libaudit.NoWait) },
	backlogWaitTime: func(c *libaudit.AuditClient, v uint32) error { return c.SetBacklogWaitTime(int32(v), libaudit.NoWait) },
}

// preflight checks what can be checked before touching the kernel: the
// socket choice and the capabilities it needs. It returns the session with
// its control client open.
func openLive(cfg liveConfig, log *logp.Logger, metrics *liveMetrics, undoPath string) (*liveSession, error) {
	s := &liveSession{cfg: cfg, log: log, metrics: metrics, undoPath: undoPath}
	var uts syscall.Utsname
	release := ""
	if syscall.Uname(&uts) == nil {
		var b strings.Builder
		for _, c := range uts.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		release = b.String()
	}
	s.state.multicast = hasMulticast(release)

	// Capabilities first: the kernel's EPERM does not say which one.
	if st, err := os.ReadFile(procRoot + "/self/status"); err == nil {
		if capEff, err := parseCapEff(string(st)); err == nil {
			sock := cfg.SocketType
			if sock == socketAuto {
				sock = socketUnicast // both need CAP_AUDIT_CONTROL to read the status
			}
			if err := checkCapabilities(capEff, sock, true); err != nil {
				return nil, err
			}
		}
	}

	control, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return nil, classify("open the audit netlink socket", err, s.state)
	}
	s.control = control
	status, err := control.GetStatus()
	if err != nil {
		control.Close()
		return nil, classify("read the kernel's audit status", err, s.state)
	}
	s.status = status
	s.lastLost = status.Lost
	s.state.locked = status.Enabled == 2
	s.state.ownerPID = status.PID
	if status.PID != 0 {
		if b, err := os.ReadFile(fmt.Sprintf("%s/%d/comm", procRoot, status.PID)); err == nil {
			s.state.ownerAlive = true
			s.state.ownerName = strings.TrimSpace(string(b))
		}
	}
	sock, why, err := chooseSocket(cfg.SocketType, s.state, os.Getpid())
	if err != nil {
		control.Close()
		return nil, err
	}
	s.socket = sock
	log.Infow("auditd live: "+why, "socket_type", sock, "kernel_audit_status", status)
	s.undo = undoLog{PID: os.Getpid(), Socket: sock}
	if undoPath == "" {
		return s, nil
	}
	prev, err := loadUndo(undoPath)
	if err != nil {
		log.Warnf("auditd live: the undo log of an earlier run is unreadable, ignored: %v", err)
	}
	if prev != nil {
		log.Warnf("auditd live: the run of pid %d (%s) stopped without undoing its audit changes (killed?): %s undoes them", prev.PID, prev.Socket, undoPath)
	}
	s.prev = prev
	return s, nil
}

// installRules puts the configured rules in the kernel. Unicast (the beat
// owns audit): the rules there are saved, replaced, and put back on exit.
// Multicast (auditd beside it): the rules missing are added beside auditd's
// and only those are deleted on exit. The rules an earlier run left (prev)
// are taken out first.
func (s *liveSession) installRules() error {
	rules, err := s.cfg.rules()
	if err != nil {
		return err
	}
	if self, err := ignoreSelfRule(os.Getpid()); err == nil {
		rules = append([]auditRule{self}, rules...)
		s.undo.SelfRule = self.data
	}
	if s.state.locked {
		s.log.Warnf("auditd live: audit rules are locked (enabled=2): the %d configured rules are not installed; the loaded rules decide what is seen", len(rules))
		return nil
	}
	existing, err := s.control.GetRules()
	if err != nil {
		return classify("list the audit rules", err, s.state)
	}
	existing = s.dropStale(existing)
	have := map[string]bool{}
	if s.socket == socketUnicast {
		s.undo.Replaced = true
		s.undo.SavedRules = existing
		if p := s.prev; p != nil && p.Socket == socketUnicast && p.Replaced {
			s.undo.SavedRules = union(p.SavedRules, existing) // what the earlier run found
		}
	} else {
		for _, r := range existing {
			have[string(r)] = true
		}
	}
	for _, r := range rules {
		if !have[string(r.data)] {
			s.undo.AddedRules = append(s.undo.AddedRules, r.data)
		}
	}
	if err := s.saveUndo(); err != nil {
		return err
	}
	if s.socket == socketUnicast {
		for i, r := range existing {
			if err := s.control.DeleteRule(r); err != nil {
				return classify(fmt.Sprintf("delete existing audit rule %d of %d", i+1, len(existing)), err, s.state)
			}
		}
		if n := len(s.undo.SavedRules); n > 0 {
			s.log.Infof("auditd live: replaced %d audit rules (restored on exit)", n)
		}
	}
	s.wanted, s.refused = rules, map[string]bool{}
	failed := 0
	for _, r := range rules {
		if have[string(r.data)] {
			s.log.Infof("auditd live: audit rule already loaded: %s", r.text)
			continue
		}
		if err := s.control.AddRule(r.data); err != nil {
			if strings.Contains(err.Error(), "rule exists") {
				continue
			}
			failed++
			s.refused[string(r.data)] = true
			s.log.Warnf("auditd live: audit rule %q not installed: %v", r.text, classify("add audit rule", err, s.state))
			continue
		}
		s.log.Infof("auditd live: audit rule installed: %s", r.text)
	}
	if failed == len(rules) && failed > 0 {
		return fmt.Errorf("auditd live: none of the %d audit rules could be installed (see the warnings above)", failed)
	}
	return nil
}

// dropStale deletes from the kernel the rules of existing that an earlier
// run left and that are surely its own (see undoLog.stale), and returns the
// others.
func (s *liveSession) dropStale(existing [][]byte) [][]byte {
	stale := map[string]bool{}
	for _, r := range s.prev.stale(s.socket) {
		stale[string(r)] = true
	}
	var kept [][]byte
	dropped := 0
	for _, r := range existing {
		if !stale[string(r)] {
			kept = append(kept, r)
			continue
		}
		if err := s.control.DeleteRule(r); err != nil {
			s.log.Warnf("auditd live: could not delete an audit rule an earlier run left: %v", err)
			continue
		}
		dropped++
	}
	if dropped > 0 {
		s.log.Infof("auditd live: deleted %d audit rules an earlier run left", dropped)
	}
	return kept
}

// saveUndo writes the undo log before the change it records.
func (s *liveSession) saveUndo() error {
	if err := s.undo.save(s.undoPath); err != nil {
		return fmt.Errorf("auditd live: cannot write %s, which lets the next run undo the audit changes of one that is killed: %w", s.undoPath, err)
	}
	s.undoSaved = true
	return nil
}

// restoreRules undoes installRules.
func (s *liveSession) restoreRules() {
	if s.control == nil || !s.undoSaved {
		return
	}
	deleted := 0 // the kernel's answer is not read: a rule it refused at start counts too
	for _, r := range s.undo.AddedRules {
		if err := s.control.DeleteRule(r); err != nil {
			s.log.Warnf("auditd live: could not delete an audit rule on exit: %v", err)
			continue
		}
		deleted++
	}
	if !s.undo.Replaced {
		if deleted > 0 {
			s.log.Infof("auditd live: removed the %d audit rules it had added", deleted)
		}
		return
	}
	restored := 0
	for _, r := range s.undo.SavedRules {
		if err := s.control.AddRule(r); err != nil {
			s.log.Warnf("auditd live: could not restore a previous audit rule: %v", err)
			continue
		}
		restored++
	}
	s.log.Infof("auditd live: removed %d rules, restored %d previous audit rules", deleted, restored)
}

// openData opens the event socket and, in unicast mode, configures the
// kernel and registers the beat as the audit daemon.
func (s *liveSession) openData() error {
	if s.socket == socketMulticast {
		c, err := libaudit.NewMulticastAuditClient(nil)
		if err != nil {
			return classify("join the audit multicast group", err, s.state)
		}
		s.data = c
		if s.status.Enabled == 0 {
			s.undo.EnabledByUs = true
			if err := s.saveUndo(); err != nil {
				return err
			}
			if err := s.control.SetEnabled(true, libaudit.WaitForReply); err != nil {
				s.undo.EnabledByUs = false
				s.log.Warnf("auditd live: audit is disabled in the kernel and could not be enabled: %v", err)
			}
		}
		return nil
	}
	c, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return classify("open the audit netlink socket", err, s.state)
	}
	s.data = c
	st := s.status
	if err := s.set(c, backlogLimit, st.BacklogLimit, s.cfg.BacklogLimit, s.cfg.BacklogLimit > 0); err != nil {
		return err
	}
	if err := s.set(c, rateLimit, st.RateLimit, s.cfg.RateLimit, true); err != nil {
		return err
	}
	// Do not make audited processes (the web server) wait when the beat
	// falls behind: the kernel drops and counts instead (the lost metric).
	if err := s.set(c, backlogWaitTime, st.BacklogWaitTime, 0, st.FeatureBitmap&libaudit.AuditFeatureBitmapBacklogWaitTime != 0); err != nil {
		return err
	}
	p := s.prev
	if st.Enabled == 0 || p != nil && p.Socket == socketUnicast && p.EnabledByUs {
		s.undo.EnabledByUs = true
		if err := s.saveUndo(); err != nil {
			return err
		}
	}
	if st.Enabled == 0 {
		if err := c.SetEnabled(true, libaudit.NoWait); err != nil {
			return classify("enable audit", err, s.state)
		}
	}
	if err := c.WaitForPendingACKs(); err != nil {
		return classify("configure audit", err, s.state)
	}
	var err2 error
	for i := 0; i < 5; i++ {
		err2 = c.SetPID(libaudit.WaitForReply)
		if err2 == nil || !(errors.Is(err2, syscall.EINTR) || errors.Is(err2, syscall.ENOBUFS)) {
			break
		}
		drain(c)
	}
	if err2 != nil {
		if errors.Is(err2, syscall.EEXIST) {
			// Someone registered between the status read and now.
			if st2, err := s.control.GetStatus(); err == nil {
				s.state.ownerPID = st2.PID
			}
		}
		return classify("register as the audit daemon (set the audit PID)", err2, s.state)
	}
	return nil
}

// set sets a kernel audit setting to want (when apply), noting in the undo
// log the value to put back: the one an earlier unicast run found, if the
// kernel still has what that run set.
func (s *liveSession) set(c *libaudit.AuditClient, name string, current, want uint32, apply bool) error {
	if !apply {
		return nil
	}
	before := current
	if p, ok := s.prev.setting(name); ok && s.prev.Socket == socketUnicast && current == p.Set {
		before = p.Before
	}
	if before != want {
		s.undo.Settings = append(s.undo.Settings, savedSetting{Name: name, Before: before, Set: want})
		if err := s.saveUndo(); err != nil {
			return err
		}
	}
	if current == want {
		return nil
	}
	if err := setters[name](c, want); err != nil {
		return classify("set the audit "+name, err, s.state)
	}
	return nil
}

func drain(c *libaudit.AuditClient) {
	noParse := func([]byte) ([]syscall.NetlinkMessage, error) { return nil, nil }
	for i := 0; i < 10000; i++ {
		if _, err := c.Netlink.Receive(true, noParse); errors.Is(err, syscall.EAGAIN) {
			return
		}
	}
}

// close undoes what the session changed, in reverse order, and removes the
// undo log.
func (s *liveSession) close() {
	if s.data != nil {
		if err := s.data.Close(); err != nil { // unicast: clears the audit PID
			s.log.Debugf("auditd live: close: %v", err)
		}
		s.data = nil
	}
	if s.control == nil {
		return
	}
	s.restoreRules()
	s.restoreSettings()
	if s.undo.EnabledByUs {
		if err := s.control.SetEnabled(false, libaudit.WaitForReply); err != nil {
			s.log.Warnf("auditd live: could not disable audit again: %v", err)
		}
	}
	if s.undoSaved {
		if err := os.Remove(s.undoPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warnf("auditd live: %v", err)
		}
	}
	s.control.Close()
	s.control = nil
}

// restoreSettings puts back the kernel settings openData changed.
func (s *liveSession) restoreSettings() {
	if len(s.undo.Settings) == 0 {
		return
	}
	var restored []string
	for _, k := range s.undo.Settings {
		if err := setters[k.Name](s.control, k.Before); err != nil {
			s.log.Warnf("auditd live: could not restore the audit %s (%d) on exit: %v", k.Name, k.Before, err)
			continue
		}
		restored = append(restored, fmt.Sprintf("%s %d", k.Name, k.Before))
	}
	if err := s.control.WaitForPendingACKs(); err != nil {
		s.log.Warnf("auditd live: restoring the audit settings on exit: %v", err)
	} else if len(restored) > 0 {
		s.log.Infof("auditd live: restored the kernel's audit %s", strings.Join(restored, ", "))
	}
}

// checkRules puts back the configured rules that another process deleted.
// An auditd restart loads its rules after -D (augenrules --load), which
// deletes every rule, the beat's too: without them the beat would read on,
// blind to execve, and say nothing.
func (s *liveSession) checkRules() {
	if len(s.wanted) == 0 {
		return
	}
	loaded, err := s.control.GetRules()
	if err != nil {
		s.log.Debugf("auditd live: list the audit rules: %v", err)
		return
	}
	have := map[string]bool{}
	for _, r := range loaded {
		have[string(r)] = true
	}
	var back []string
	for _, r := range s.wanted {
		if have[string(r.data)] || s.refused[string(r.data)] {
			continue
		}
		// Put back, it is the beat's to delete on exit even if auditd
		// had loaded it at start.
		if !hasRule(s.undo.AddedRules, r.data) {
			s.undo.AddedRules = append(s.undo.AddedRules, r.data)
			if err := s.saveUndo(); err != nil {
				s.log.Warn(err)
				return
			}
		}
		if err := s.control.AddRule(r.data); err != nil && !strings.Contains(err.Error(), "rule exists") {
			s.refused[string(r.data)] = true // once: audit may be locked now (-e 2 ends many rule files)
			s.log.Warnf("auditd live: audit rule %q, deleted by another process, could not be put back (not tried again): %v", r.text, classify("add audit rule", err, s.state))
			continue
		}
		back = append(back, r.text)
	}
	if len(back) > 0 {
		s.metrics.rulesPutBack.Add(uint64(len(back)))
		s.log.Warnf("auditd live: another process deleted %d of its audit rules (auditctl -D, or augenrules --load as auditd starts): put back %s", len(back), strings.Join(back, "; "))
	}
}

// checkLost adds the kernel's lost-record count since the last check.
func (s *liveSession) checkLost() {
	st, err := s.control.GetStatus()
	if err != nil {
		s.log.Debugf("auditd live: status: %v", err)
		return
	}
	if d := int64(st.Lost - s.lastLost); st.Lost >= s.lastLost && d > 0 {
		s.metrics.lost.Add(uint64(d))
		s.log.Warnf("auditd live: the kernel lost %d audit records (backlog limit %d, rate limit %d): raise backlog_limit or reduce the rules", d, st.BacklogLimit, st.RateLimit)
	}
	s.lastLost = st.Lost
}

// stream receives the reassembler's callbacks.
type stream struct {
	out     chan<- []*auparse.AuditMessage
	done    <-chan struct{}
	metrics *liveMetrics
	log     *logp.Logger
}

func (st *stream) ReassemblyComplete(msgs []*auparse.AuditMessage) {
	select {
	case st.out <- msgs:
	case <-st.done:
	}
}

func (st *stream) EventsLost(n int) {
	if n <= 0 {
		return
	}
	st.metrics.gaps.Add(uint64(n))
	st.log.Warnf("auditd live: %d audit events missing from the sequence (lost by the kernel or the socket, or too late to reassemble)", n)
}

// runLive reads the kernel's audit stream until ctx is cancelled.
func runLive(ctx v2.Context, cfg liveConfig, pub cursor.Publisher) error {
	log := ctx.Logger.With("source", liveSourceName)
	metrics := newLiveMetrics(ctx.MetricsRegistry)

	s, err := openLive(cfg, log, metrics, paths.Resolve(paths.Data, undoFileName))
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.installRules(); err != nil {
		return err
	}
	if err := s.openData(); err != nil {
		return err
	}

	procs := newProcTable(procRoot, cfg.ProcessCacheSize)
	n := procs.snapshot()
	log.Infof("auditd live: reading audit events from the kernel (%s); %d running processes known", s.socket, n)
	var names idNamer
	if cfg.ResolveIDs {
		names = newIDNames("/etc/passwd", "/etc/group")
	}

	stopRecv := make(chan struct{}) // closed to stop receiving
	abandon := make(chan struct{})  // closed when nothing more is published
	defer close(abandon)
	events := make(chan []*auparse.AuditMessage, 1024)
	st := &stream{out: events, done: abandon, metrics: metrics, log: log}
	reasm, err := libaudit.NewReassembler(cfg.ReassemblerMaxInFlight, cfg.ReassemblerTimeout, st)
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // receive: netlink -> reassembler
		defer wg.Done()
		for {
			select {
			case <-stopRecv:
				return
			default:
			}
			raw, err := s.data.Receive(false)
			if err != nil {
				switch {
				case errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EAGAIN):
				case errors.Is(err, syscall.ENOBUFS):
					metrics.socketOverruns.Inc()
					log.Warn("auditd live: the netlink socket overflowed (ENOBUFS): records were lost")
				case errors.Is(err, syscall.EBADF):
					return
				default:
					log.Debugf("auditd live: receive: %v", err)
				}
				continue
			}
			if skipRecord(raw.Type) {
				continue
			}
			metrics.received.Inc()
			if err := reasm.Push(raw.Type, raw.Data); err != nil {
				metrics.badRecords.Inc()
				log.Debugw("auditd live: unparsable audit record dropped", "type", raw.Type, "data", string(raw.Data), "error", err)
			}
		}
	}()
	go func() { // evict events whose end never came
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopRecv:
				return
			case <-tick.C:
				if reasm.Maintain() != nil {
					return
				}
			}
		}
	}()

	lostTick := time.NewTicker(cfg.LostCheckInterval)
	defer lostTick.Stop()
	rulesTick := time.NewTicker(cfg.RulesCheckInterval)
	defer rulesTick.Stop()

	publish := func(msgs []*auparse.AuditMessage) error {
		doc, _ := mapper.Map(lines(msgs, names)) // errors are inside doc as error.message
		if doc == nil {
			return nil
		}
		procs.enrich(doc)
		metrics.published.Inc()
		return pub.Publish(files.Event("", doc), nil)
	}

	var runErr error
loop:
	for {
		select {
		case <-ctx.Cancelation.Done():
			break loop
		case msgs := <-events:
			if err := publish(msgs); err != nil {
				if ctx.Cancelation.Err() == nil {
					runErr = err
				}
				break loop
			}
		case <-lostTick.C:
			if s.socket == socketUnicast {
				s.checkLost()
			}
		case <-rulesTick.C:
			s.checkRules()
		}
	}

	// Shut down: stop the receiver (a status request wakes a blocked
	// receive), flush what the reassembler holds, publish it.
	close(stopRecv)
	_, _ = s.data.GetStatusAsync(false)
	flushed := make(chan struct{})
	go func() {
		wg.Wait()
		_ = reasm.Close()
		close(flushed)
	}()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case msgs := <-events:
			_ = publish(msgs)
			continue
		case <-flushed:
			for len(events) > 0 {
				_ = publish(<-events)
			}
		case <-deadline:
			log.Warn("auditd live: gave up waiting for the receiver to stop")
		}
		break
	}
	log.Infow("auditd live: stopped", "records_received", metrics.received.Get(), "events_published", metrics.published.Get(),
		"records_lost", metrics.lost.Get(), "reassembly_gaps", metrics.gaps.Get())
	return runErr
}

// testLive checks that live mode could start (for `webshellbeat test config`
// style checks): the socket choice and capabilities.
func testLive(cfg liveConfig, log *logp.Logger) error {
	s, err := openLive(cfg, log, newLiveMetrics(nil), "") // changes nothing: no undo log
	if err != nil {
		return err
	}
	s.close()
	return nil
}
