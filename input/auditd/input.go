// Package auditd is webshellbeat's auditd input (type: auditd). With paths it
// reads audit.log files (raw or ENRICHED) across auditd's rotations
// (reader.go), joins the records of each event with module/auditd's Joiner
// and publishes one ECS event per audit event, resuming from the registry
// after a restart. Without paths it reads the
// kernel's audit stream live over netlink (live.go, live_linux.go): it
// installs its audit rules, reassembles the records of each event, maps them
// the same way and adds the process context that /proc still holds.
package auditd

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/beats/v7/libbeat/statestore"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/input/internal/files"
	mapper "webshellbeat/module/auditd"
)

const pluginName = "auditd"

// checkpointVersion changes when the checkpoint's meaning changes; an old
// checkpoint is then ignored and the file read from the start.
const checkpointVersion = 1

type config struct {
	// Paths are audit.log files or glob patterns.
	Paths []string `config:"paths"`
	// PollInterval is how often a file that reached its end is checked for
	// new lines.
	PollInterval time.Duration `config:"poll_interval" validate:"positive,nonzero"`
	// MaxLineBytes bounds one line; longer lines are reported and skipped.
	MaxLineBytes int `config:"max_line_bytes" validate:"positive,nonzero"`
	// Live holds the options of live mode (no paths).
	Live liveConfig `config:",inline"`
}

// Options lists the input's own options, for the beat's check of misspelt
// ones at start (libbeat ignores an option it does not know).
func Options() []string { return files.Options(config{}) }

func defaultConfig() config {
	return config{PollInterval: 5 * time.Second, MaxLineBytes: 1 << 20, Live: defaultLiveConfig()}
}

// checkpoint is where reading resumes: an offset in the file whose first
// line hashes to Head. Head names the file across auditd's rotation, which
// renames audit.log to audit.log.1 and begins a new audit.log: the offset
// must not be applied to whatever file the path names after a restart. A
// checkpoint of an older release has no Head and is applied to the path.
type checkpoint struct {
	Version int    `json:"version"`
	Offset  int64  `json:"offset"`
	Head    string `json:"head,omitempty"`
}

// Plugin returns the input plugin; store keeps the per-file checkpoints.
func Plugin(log *logp.Logger, store statestore.States) v2.Plugin {
	return v2.Plugin{
		Name:      pluginName,
		Stability: feature.Beta,
		Info:      "auditd input",
		Doc:       "Reads Linux audit logs and joins each event's records into one ECS process/file event",
		Manager: &cursor.InputManager{
			Logger:     log,
			StateStore: store,
			Type:       pluginName,
			Configure:  configure,
		},
	}
}

func configure(cfg *conf.C, _ *logp.Logger) ([]cursor.Source, cursor.Input, error) {
	c := defaultConfig()
	if err := cfg.Unpack(&c); err != nil {
		return nil, nil, err
	}
	if len(c.Paths) == 0 {
		if err := c.Live.validate(); err != nil {
			return nil, nil, fmt.Errorf("auditd input (live): %w", err)
		}
		return []cursor.Source{liveSource{}}, &input{cfg: c, live: true}, nil
	}
	sources, err := files.Expand(c.Paths)
	if err != nil {
		return nil, nil, fmt.Errorf("auditd input: %w", err)
	}
	sources, history := withoutRotations(sources)
	return sources, &input{cfg: c, history: history}, nil
}

// withoutRotations leaves out of sources the rotations of another source
// (audit.log.1 beside audit.log, which a pattern such as audit.log* gives):
// the reader of audit.log follows them itself, and as sources of their own
// they would be read twice, and by a name that changes at each rotation.
// Compressed rotations are left out too. history names the sources whose
// rotations were given: on a first run their reader reads those rotations
// before the file.
func withoutRotations(sources []cursor.Source) (kept []cursor.Source, history map[string]bool) {
	names := map[string]bool{}
	for _, src := range sources {
		names[src.Name()] = true
	}
	history = map[string]bool{}
	for _, src := range sources {
		name := src.Name()
		if compressed(name) { // audit.log.2.gz: not text; hunt reads it
			name = strings.TrimSuffix(name, filepath.Ext(name))
			if of, ok := rotationOf(name); names[name] || ok && names[of] {
				continue
			}
		}
		if of, ok := rotationOf(name); ok && names[of] {
			history[of] = true
			continue
		}
		kept = append(kept, src)
	}
	return kept, history
}

// liveSource is the one source of live mode: the kernel. It has no
// resumable position, so events are published without cursor updates.
type liveSource struct{}

func (liveSource) Name() string { return liveSourceName }

type input struct {
	cfg  config
	live bool
	// history: paths whose rotations the paths setting names too (see
	// withoutRotations).
	history map[string]bool
}

func (in *input) Name() string { return pluginName }

func (in *input) Test(src cursor.Source, tc v2.TestContext) error {
	if in.live {
		return testLive(in.cfg.Live, tc.Logger)
	}
	return files.Readable(src)
}

func (in *input) Run(ctx v2.Context, src cursor.Source, cur cursor.Cursor, pub cursor.Publisher) error {
	if in.live {
		return runLive(ctx, in.cfg.Live, pub)
	}
	log := ctx.Logger.With("path", src.Name())
	var cp checkpoint
	if !cur.IsNew() {
		if err := cur.Unpack(&cp); err != nil || cp.Version != checkpointVersion {
			log.Warnf("ignoring checkpoint (%v, version %d): reading from the start", err, cp.Version)
			cp = checkpoint{}
		}
	}
	r := &reader{path: src.Name(), cfg: in.cfg, pub: pub, log: log, joiner: mapper.NewJoiner(mapper.JoinerConfig{}), history: in.history[src.Name()]}
	defer r.close()
	if err := r.resume(cp); err != nil {
		return err
	}
	for {
		grew, err := r.poll()
		if err != nil {
			return err
		}
		if !grew {
			// Nothing new since the last poll: the events still open are
			// complete as far as this file will tell.
			if err := r.publish(r.joiner.Flush()); err != nil {
				return err
			}
		}
		if !files.Wait(ctx, in.cfg.PollInterval) {
			return nil
		}
	}
}
