// Package auditd is webshellbeat's auditd input (type: auditd). With paths it
// reads audit.log files (raw or ENRICHED), joins the records of each event
// with module/auditd's Joiner and publishes one ECS event per audit event,
// resuming from the registry after a restart. Without paths it reads the
// kernel's audit stream live over netlink (live.go, live_linux.go): it
// installs its audit rules, reassembles the records of each event, maps them
// the same way and adds the process context that /proc still holds.
package auditd

import (
	"bufio"
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

type checkpoint struct {
	Version int   `json:"version"`
	Offset  int64 `json:"offset"`
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
	return sources, &input{cfg: c}, nil
}

// liveSource is the one source of live mode: the kernel. It has no
// resumable position, so events are published without cursor updates.
type liveSource struct{}

func (liveSource) Name() string { return liveSourceName }

type input struct {
	cfg  config
	live bool
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
	r := &reader{path: src.Name(), cfg: in.cfg, pub: pub, offset: cp.Offset, joiner: mapper.NewJoiner(mapper.JoinerConfig{})}
	for {
		grew, err := r.readAvailable()
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

// reader follows one audit.log file from a byte offset.
type reader struct {
	path   string
	cfg    config
	pub    cursor.Publisher
	joiner *mapper.Joiner
	offset int64 // where the next read starts: the end of the last complete line
}

// readAvailable reads the complete lines added since the last call and
// reports whether there were any. A partial last line is left for later.
func (r *reader) readAvailable() (bool, error) {
	f, err := os.Open(r.path)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", r.path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < r.offset {
		r.offset = 0 // truncated or replaced: start over
		r.joiner = mapper.NewJoiner(mapper.JoinerConfig{})
	}
	if _, err := f.Seek(r.offset, io.SeekStart); err != nil {
		return false, fmt.Errorf("seek %s to %d: %w", r.path, r.offset, err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	grew := false
	for {
		line, err := readLine(br, r.cfg.MaxLineBytes)
		if errors.Is(err, io.EOF) {
			return grew, nil
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return grew, fmt.Errorf("read %s at %d: %w", r.path, r.offset, err)
		}
		r.offset += int64(len(line.raw))
		grew = true
		if errors.Is(err, errLineTooLong) {
			doc := errorDoc(line.text, fmt.Errorf("line ending at offset %d: longer than max_line_bytes (%d)", r.offset, r.cfg.MaxLineBytes))
			if err := r.pubDoc(doc, r.joiner.SafeOffset()); err != nil {
				return grew, err
			}
			continue
		}
		if err := r.publish(r.joiner.Add(line.text, r.offset)); err != nil {
			return grew, err
		}
	}
}

func (r *reader) publish(groups []mapper.Group) error {
	for _, g := range groups {
		doc, _ := mapper.MapGroup(g) // errors are inside doc as error.message
		if err := r.pubDoc(doc, r.joiner.SafeOffset()); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) pubDoc(doc map[string]any, safe int64) error {
	return r.pub.Publish(files.Event(r.path, doc), checkpoint{Version: checkpointVersion, Offset: safe})
}

func errorDoc(raw string, err error) map[string]any {
	return map[string]any{
		"event": map[string]any{"kind": "event", "original": raw, "module": "auditd"},
		"error": map[string]any{"message": err.Error()},
	}
}

var errLineTooLong = errors.New("line too long")

type line struct {
	raw  []byte // the bytes consumed, newline included
	text string // the line without its newline (truncated when too long)
}

// readLine returns the next complete line. A last line without a newline is
// not complete (the writer may still be writing it) and gives io.EOF.
func readLine(br *bufio.Reader, max int) (line, error) {
	var buf []byte
	consumed := 0
	for {
		chunk, err := br.ReadSlice('\n')
		consumed += len(chunk)
		if len(buf) < max {
			buf = append(buf, chunk...)
		}
		switch {
		case err == nil:
			raw := make([]byte, consumed)
			text := string(trimEOL(buf))
			if consumed > max {
				return line{raw: raw, text: text[:min(len(text), max)]}, errLineTooLong
			}
			return line{raw: raw, text: text}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			// Incomplete last line: give the bytes back by not counting them.
			return line{}, io.EOF
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
