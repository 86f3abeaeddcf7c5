package processor

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/errorlog"
	"webshellbeat/module/modsec"
)

const accessName = "decode_access_log"

func init() {
	processors.RegisterPlugin(accessName, newAccess)
}

type accessConfig struct {
	Field string `config:"field"`
	// Format is combined (Apache/nginx combined or common), w3c (IIS),
	// json (one object per line, nginx's escape=json: accesslog.ParseJSON)
	// or modsec (an entry of ModSecurity's audit log, its lines joined by
	// the input's multiline parser: module/modsec).
	Format string `config:"format"`
	// Server names the web server in event.module/event.dataset: apache,
	// nginx, iis, tomcat (its AccessLogValve writes the common format),
	// lighttpd (combined, with the served host in the ident column), caddy
	// or traefik (JSON). Unset, it is the format's usual writer:
	// apache, iis or nginx (for JSON, caddy or traefik when the object is
	// theirs).
	Server string `config:"server"`
}

// maxFileParsers bounds the per-file parsers a decode processor keeps: W3C
// files for their #Fields state, error logs for the time of their last line.
const maxFileParsers = 1024

// fileParsers keeps a parser per log.file.path, for formats whose lines
// depend on the lines before them, bounded by maxFileParsers.
type fileParsers[T any] struct {
	mu      sync.Mutex
	parsers map[string]*T
	new     func() *T
	// resume, when set, readies a new parser for a file whose first event
	// it sees is not at the file's start (log.offset): the beat restarted
	// in the middle of the file, or the file's parser was dropped.
	resume func(p *T, path string, offset int64)
}

func newFileParsers[T any](new func() *T) *fileParsers[T] {
	return &fileParsers[T]{parsers: map[string]*T{}, new: new}
}

// parse runs fn with the parser of ev's file, one event at a time.
func (f *fileParsers[T]) parse(ev *beat.Event, fn func(*T) (map[string]any, error)) (map[string]any, error) {
	path, _ := ev.GetValue("log.file.path")
	key, _ := path.(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.parsers[key]
	if !ok {
		if len(f.parsers) >= maxFileParsers {
			clear(f.parsers) // rotated-away files; live ones start again (resume)
		}
		p = f.new()
		if off := logOffset(ev); f.resume != nil && key != "" && off > 0 {
			f.resume(p, key, off)
		}
		f.parsers[key] = p
	}
	return fn(p)
}

// logOffset is the event's log.offset, where filestream read its line.
func logOffset(ev *beat.Event) int64 {
	v, _ := ev.GetValue("log.offset")
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return 0
}

// accessProcessor maps one access-log line to ECS. IIS W3C files declare their
// columns in a #Fields header, so a parser is kept per log.file.path.
type accessProcessor struct {
	cfg accessConfig
	w3c *fileParsers[accesslog.W3C]
}

func newAccess(c *conf.C, log *logp.Logger) (beat.Processor, error) {
	cfg := accessConfig{Field: "message", Format: "combined"}
	if err := unpackStrict(c, []string{"field", "format", "server", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", accessName, err)
	}
	defaultServer := map[string]string{"combined": "apache", "w3c": "iis", "json": "nginx", "modsec": ""}
	if _, ok := defaultServer[cfg.Format]; !ok {
		return nil, fmt.Errorf("%s: format %q is not one of combined, w3c, json, modsec", accessName, cfg.Format)
	}
	if cfg.Format == "modsec" && cfg.Server != "" {
		return nil, fmt.Errorf("%s: format modsec takes no server: ModSecurity's entries are event.module modsecurity, whichever server it runs in", accessName)
	}
	if cfg.Server == "" && cfg.Format != "json" { // JSON objects tell Caddy's and Traefik's
		cfg.Server = defaultServer[cfg.Format]
	}
	switch cfg.Server {
	case "apache", "nginx", "iis", "tomcat", "lighttpd", "caddy", "traefik", "":
	default:
		return nil, fmt.Errorf("%s: server %q is not one of apache, nginx, iis, tomcat, lighttpd, caddy, traefik", accessName, cfg.Server)
	}
	server := cfg.Server
	w3c := newFileParsers(func() *accesslog.W3C {
		return accesslog.NewW3C(accesslog.WithServer(server))
	})
	w3c.resume = func(w *accesslog.W3C, path string, offset int64) {
		if err := resumeW3C(w, path, offset); err != nil {
			log.Warnf("%s: %s: the #Fields header above offset %d could not be read (%v): its lines are read with IIS's default columns until the next header", accessName, path, offset, err)
		}
	}
	return &accessProcessor{cfg: cfg, w3c: w3c}, nil
}

// resumeW3C reads the directives of the W3C file at path above offset.
func resumeW3C(w *accesslog.W3C, path string, offset int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.Resume(f, offset)
}

func (p *accessProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	raw, err := sourceText(ev, p.cfg.Field)
	if err != nil {
		fail(ev, accessName, err)
		return ev, nil
	}
	var doc map[string]any
	switch p.cfg.Format {
	case "w3c":
		doc, err = p.parseW3C(ev, raw)
		if doc == nil && err == nil {
			return nil, nil // a #Fields or #Software directive: not an event
		}
	case "json":
		doc, err = accesslog.ParseJSON(raw, accesslog.WithServer(p.cfg.Server))
	case "modsec":
		// libmodsecurity 3's JSON time names no zone: the machine's, as
		// decode_error_log's default.
		doc, err = modsec.ParseEntry(raw, time.Local)
	default:
		doc, err = accesslog.ParseCombined(raw, accesslog.WithServer(p.cfg.Server))
		if err != nil {
			// An error log line in the same file (one log for both), read
			// as hunt reads it; its time, which has no zone, as the
			// machine's, as decode_error_log's default.
			if errorDoc, ok := errorlog.ParsePrefixed(raw, time.Local); ok {
				doc, err = errorDoc, nil
			}
		}
	}
	if err != nil {
		doc = detection.ErrorDoc(raw, err)
	}
	apply(ev, doc, p.cfg.Field, raw)
	return ev, nil
}

func (p *accessProcessor) parseW3C(ev *beat.Event, raw string) (map[string]any, error) {
	return p.w3c.parse(ev, func(w *accesslog.W3C) (map[string]any, error) { return w.Parse(raw) })
}

func (p *accessProcessor) String() string {
	server := p.cfg.Server
	if server == "" {
		server = "by content"
	}
	return fmt.Sprintf("%s=[format=%s, server=%s]", accessName, p.cfg.Format, server)
}
