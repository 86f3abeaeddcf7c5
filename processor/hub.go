package processor

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/beat/events"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/elastic-agent-libs/paths"

	"webshellbeat/config"
	"webshellbeat/detection/ancestry"
	"webshellbeat/detector"
)

// metaDerived marks an event the hub published: the webshell processor
// passes it through untouched (it was already detected and routed).
const metaDerived = "webshell_derived"

// Hub gives webshell processors what a 1-in/1-out processor lacks: a way
// out for the documents the detector derives (correlation alerts, updated
// copies, session summaries), published on the beat's pipeline, and one
// shared detector per configuration, so that processors placed on several
// inputs share one process table and one set of correlation windows.
//
// cmd creates one Hub, registers its Constructor as the webshell processor
// and hands it to the beater wrapper (beater.RootCommand), which gives it
// the pipeline once libbeat has built it. There is no package-level state.
type Hub struct {
	mu       sync.Mutex
	pipeline beat.PipelineConnector
	client   beat.Client
	shared   map[string]*sharedDetector
	// dropped counts derived documents that could not be published (no
	// pipeline yet, or connecting failed).
	dropped int64
	lookup  func(pid int) (ancestry.Process, bool)
	// running: the beat runs (Running was called), so libbeat's own signal
	// handler is in place and SIGHUP can be taken over for rule reloads.
	running bool
	sighup  chan os.Signal // non-nil once SIGHUP is taken over
}

// SetProcLookup gives every webshell detector of the hub, present and
// future, the live Linux input's /proc lookup: a parent pid the process
// table does not know is looked up with it before any inference.
func (h *Hub) SetProcLookup(fn func(pid int) (ancestry.Process, bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lookup = fn
	for _, s := range h.shared {
		s.det.SetProcLookup(fn)
	}
}

type sharedDetector struct {
	det    *detector.Detector
	refs   int
	reload bool          // rules.reload.enabled
	kick   chan struct{} // SIGHUP: reload now
	stop   chan struct{}
	wg     sync.WaitGroup // the save and reload loops
}

// NewHub returns a Hub without a pipeline: until SetPipeline, derived
// documents are counted and dropped.
func NewHub() *Hub { return &Hub{shared: map[string]*sharedDetector{}} }

// SetPipeline gives the hub the beat's publisher (b.Publisher).
func (h *Hub) SetPipeline(p beat.PipelineConnector) {
	h.mu.Lock()
	h.pipeline = p
	h.mu.Unlock()
}

// Constructor is the webshell processor's constructor, bound to the hub.
func (h *Hub) Constructor() processors.Constructor {
	return func(c *conf.C, log *logp.Logger) (beat.Processor, error) { return h.newWebshell(c, log) }
}

// Register registers the webshell processor with libbeat, bound to h.
func (h *Hub) Register() { processors.RegisterPlugin(webshellName, h.Constructor()) }

func (h *Hub) publish(log *logp.Logger, det *detector.Detector, derived []detector.Derived) {
	if len(derived) == 0 {
		return
	}
	h.mu.Lock()
	if h.client == nil && h.pipeline != nil {
		c, err := h.pipeline.ConnectWith(beat.ClientConfig{})
		if err != nil {
			log.Errorf("cannot connect to the pipeline to publish derived documents: %v", err)
		} else {
			h.client = c
		}
	}
	client := h.client
	if client == nil {
		h.dropped += int64(len(derived))
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	for _, d := range derived {
		if d.Verdict == detector.Drop {
			continue
		}
		doc := d.Doc
		if d.Verdict == detector.Alert {
			logAlert(log, "derived alert", doc)
		}
		ts, _ := doc["@timestamp"].(time.Time)
		delete(doc, "@timestamp")
		client.Publish(beat.Event{
			Timestamp: ts,
			Fields:    mapstr.M(doc),
			Meta:      mapstr.M{events.FieldMetaRawIndex: det.Index(d.Verdict), metaDerived: true},
		})
	}
}

// detector returns the shared detector of cfg, creating it (and restoring
// its state) the first time.
func (h *Hub) detector(cfg config.Detection, log *logp.Logger) (*detector.Detector, error) {
	key, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.shared[string(key)]; s != nil {
		s.refs++
		return s.det, nil
	}
	det, err := detector.New(cfg)
	if err != nil {
		return nil, err
	}
	if det.Restored != "" {
		log.Info(det.Restored)
	}
	if h.lookup != nil {
		det.SetProcLookup(h.lookup)
	}
	s := &sharedDetector{det: det, refs: 1, reload: cfg.Rules.Reload.Enabled, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	h.shared[string(key)] = s
	s.wg.Add(1)
	go s.saveLoop(cfg.State.SaveInterval, log)
	if s.reload {
		s.wg.Add(1)
		go s.reloadLoop(cfg.Rules.Reload.Period, log)
		h.takeSIGHUPLocked(log)
	}
	return det, nil
}

// saveLoop saves the state periodically. The schedule is wall-clock time;
// everything the state decides is on event time.
func (s *sharedDetector) saveLoop(every time.Duration, log *logp.Logger) {
	defer s.wg.Done()
	if every <= 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.det.Save(); err != nil {
				log.Warnf("saving detection state: %v", err)
			}
		}
	}
}

// release drops a processor's reference; the last one saves the state.
func (h *Hub) release(det *detector.Detector) error {
	h.mu.Lock()
	var last *sharedDetector
	for k, s := range h.shared {
		if s.det == det {
			s.refs--
			if s.refs == 0 {
				delete(h.shared, k)
				last = s
			}
			break
		}
	}
	h.mu.Unlock()
	if last == nil {
		return nil
	}
	close(last.stop)
	last.wg.Wait()
	if err := det.Save(); err != nil {
		return fmt.Errorf("%s processor: saving state: %w", webshellName, err)
	}
	return nil
}

// defaultStatePath is where the beat keeps detection state.
func defaultStatePath() string { return paths.Resolve(paths.Data, "webshellbeat") }
