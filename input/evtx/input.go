// Package evtx is webshellbeat's EVTX file input (type: evtx): it reads
// exported Windows event log files on any OS with the pure-Go Velocidex
// parser, maps each record to ECS with module/windows, and resumes by record
// number after a restart.
package evtx

import (
	"fmt"
	"os"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/beats/v7/libbeat/statestore"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/detection"
	"webshellbeat/input/internal/files"
	"webshellbeat/module/windows"
)

const pluginName = "evtx"

// checkpointVersion changes when the checkpoint's meaning changes; an old
// checkpoint is then ignored and the file read from the start.
const checkpointVersion = 1

type config struct {
	// Paths are .evtx files or glob patterns.
	Paths []string `config:"paths"`
	// PollInterval is how often a file is checked for records added after
	// the last one read (a live log copied again, for instance).
	PollInterval time.Duration `config:"poll_interval" validate:"positive,nonzero"`
}

// Options lists the input's own options, for the beat's check of misspelt
// ones at start (libbeat ignores an option it does not know).
func Options() []string { return files.Options(config{}) }

func defaultConfig() config { return config{PollInterval: 10 * time.Second} }

// checkpoint holds the number of the last record read from the file's record
// headers: exported logs renumber these but keep System/EventRecordID, so
// the header number is the one that orders the file.
type checkpoint struct {
	Version  int    `json:"version"`
	RecordID uint64 `json:"record_number"`
}

// Plugin returns the input plugin; store keeps the per-file checkpoints.
func Plugin(log *logp.Logger, store statestore.States) v2.Plugin {
	return v2.Plugin{
		Name:      pluginName,
		Stability: feature.Beta,
		Info:      "evtx input",
		Doc:       "Reads Windows .evtx files on any OS and maps Security 4688 and Sysmon events to ECS",
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
	sources, err := files.Expand(c.Paths)
	if err != nil {
		return nil, nil, fmt.Errorf("evtx input: %w", err)
	}
	return sources, &input{cfg: c}, nil
}

type input struct{ cfg config }

func (in *input) Name() string { return pluginName }

func (in *input) Test(src cursor.Source, _ v2.TestContext) error { return files.Readable(src) }

func (in *input) Run(ctx v2.Context, src cursor.Source, cur cursor.Cursor, pub cursor.Publisher) error {
	log := ctx.Logger.With("path", src.Name())
	var cp checkpoint
	if !cur.IsNew() {
		if err := cur.Unpack(&cp); err != nil || cp.Version != checkpointVersion {
			log.Warnf("ignoring checkpoint (%v, version %d): reading from the start", err, cp.Version)
			cp = checkpoint{}
		}
	}
	cp.Version = checkpointVersion
	for {
		if err := readFile(src.Name(), &cp, pub); err != nil {
			// A file that cannot be opened now may be there at the next poll.
			log.Errorf("%v", err)
		}
		if !files.Wait(ctx, in.cfg.PollInterval) {
			return nil
		}
	}
}

// readFile publishes the records of path after cp.RecordID and advances cp.
// Damaged chunks and records are published as error documents and skipped.
func readFile(path string, cp *checkpoint, pub cursor.Publisher) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	return windows.ReadEVTX(f, cp.RecordID, func(rec *windows.Record, err error) error {
		var doc map[string]any
		if err != nil {
			doc = detection.ErrorDoc("", fmt.Errorf("%s: %w", path, err))
		} else {
			doc = rec.ECS()
			cp.RecordID = max(cp.RecordID, rec.EVTXRecordNumber)
		}
		return publish(pub, path, doc, *cp)
	})
}

func publish(pub cursor.Publisher, path string, doc map[string]any, cp checkpoint) error {
	return pub.Publish(files.Event(path, doc), cp)
}
