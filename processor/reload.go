package processor

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/elastic/elastic-agent-libs/logp"
)

// Running tells the hub that the beat runs: libbeat has installed its
// signal handler (which stops the beat on SIGINT, SIGTERM and SIGHUP). When
// a webshell processor has rules.reload.enabled, the hub then takes SIGHUP
// over: it reloads the rules instead of stopping the beat. The beater
// wrapper calls it at the start of Run.
func (h *Hub) Running(log *logp.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = true
	h.takeSIGHUPLocked(log)
}

// takeSIGHUPLocked takes SIGHUP over once the beat runs and a detector
// reloads its rules. h.mu is held.
func (h *Hub) takeSIGHUPLocked(log *logp.Logger) {
	if !h.running || h.sighup != nil {
		return
	}
	want := false
	for _, s := range h.shared {
		want = want || s.reload
	}
	if !want {
		return
	}
	h.sighup = make(chan os.Signal, 1)
	// signal.Reset drops libbeat's registration of SIGHUP only; SIGINT and
	// SIGTERM still stop the beat.
	signal.Reset(syscall.SIGHUP)
	signal.Notify(h.sighup, syscall.SIGHUP)
	if log != nil {
		log.Infof("SIGHUP reloads the webshell rules (rules.reload.enabled); it no longer stops the beat")
	}
	go func(c chan os.Signal) {
		for range c {
			if log != nil {
				log.Infof("SIGHUP: reloading the webshell rules")
			}
			h.ReloadAll()
		}
	}(h.sighup)
}

// ReloadAll asks every detector with rules.reload.enabled to read its rule
// files again now (what SIGHUP does). It does not wait for the reloads.
func (h *Hub) ReloadAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.shared {
		if !s.reload {
			continue
		}
		select {
		case s.kick <- struct{}{}:
		default: // one is pending already
		}
	}
}

// reloadLoop polls the rule files every period (names, sizes, modification
// times; no file is read unless one changed) and reloads on a kick.
func (s *sharedDetector) reloadLoop(period time.Duration, log *logp.Logger) {
	defer s.wg.Done()
	var tick <-chan time.Time
	if period > 0 {
		t := time.NewTicker(period)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-tick:
			if s.det.Changed() {
				s.reloadRules(false, log)
			}
		case <-s.kick:
			s.reloadRules(true, log)
		}
	}
}

func (s *sharedDetector) reloadRules(force bool, log *logp.Logger) {
	res, err := s.det.Reload(force)
	switch {
	case err != nil:
		log.Errorf("%v", err)
	case res.Unchanged:
	default:
		for _, p := range res.Problems {
			log.Warnf("rule not used or loaded with a warning: %v", p)
		}
		r := res.Rules
		log.Infof("rules reloaded: %d rules (%d routed), %d correlation rules, %d filter rules, from %d files (%d rules left out by min_level and exclude_status)", r.Loaded, r.Routed, r.Correlations, r.Filters, r.Files, r.Left)
	}
}
