// Package evtx is webshellbeat's EVTX file input (type: evtx): it reads
// exported Windows event log files on any OS with the pure-Go Velocidex
// parser, maps each record to ECS with module/windows, and resumes by record
// number after a restart; a file replaced at its path (an export made
// again) is read from its start.
package evtx

import (
	"errors"
	"fmt"
	"io"
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
// the header number is the one that orders the file. Last names that
// record (its channel, computer, EventRecordID and time), so that a file
// replaced at the same path (an export made again with wevtutil epl /ow,
// renumbered from 1) is read from its start instead of from the old
// number: the records it shares with the old file get the same _id.
type checkpoint struct {
	Version  int    `json:"version"`
	RecordID uint64 `json:"record_number"`
	Last     string `json:"last,omitempty"`
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
		if err := readFile(src.Name(), &cp, pub, log); err != nil {
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
func readFile(path string, cp *checkpoint, pub cursor.Publisher, log *logp.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	if cp.RecordID > 0 && cp.Last != "" && !holdsLast(f, *cp) {
		log.Infof("%s is not the file read before (its record %d is another event, or it has none): reading it from its start", path, cp.RecordID)
		*cp = checkpoint{Version: checkpointVersion}
	}
	return windows.ReadEVTX(f, cp.RecordID, func(rec *windows.Record, err error) error {
		var doc map[string]any
		if err != nil {
			doc = detection.ErrorDoc("", fmt.Errorf("%s: %w", path, err))
		} else {
			doc = rec.ECS()
			if rec.EVTXRecordNumber >= cp.RecordID {
				cp.RecordID, cp.Last = rec.EVTXRecordNumber, recordName(rec)
			}
		}
		return publish(pub, path, doc, *cp)
	})
}

// recordName names a record across copies and exports of its log.
func recordName(rec *windows.Record) string {
	return fmt.Sprintf("%s|%s|%d|%s", rec.Channel, rec.Computer, rec.RecordID, rec.TimeCreated.UTC().Format(time.RFC3339Nano))
}

var errFound = errors.New("found")

// holdsLast reports whether f is the file cp was taken from: its record
// numbered cp.RecordID is the one cp names, or it has no record so numbered
// but later ones (a live log copied again after it wrapped).
func holdsLast(f io.ReadSeeker, cp checkpoint) bool {
	same := false
	_ = windows.ReadEVTX(f, cp.RecordID-1, func(rec *windows.Record, err error) error {
		if err != nil {
			return nil
		}
		same = rec.EVTXRecordNumber > cp.RecordID || recordName(rec) == cp.Last
		return errFound
	})
	return same
}

func publish(pub cursor.Publisher, path string, doc map[string]any, cp checkpoint) error {
	return pub.Publish(files.Event(path, doc), cp)
}
