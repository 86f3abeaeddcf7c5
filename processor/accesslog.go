package processor

import (
	"fmt"
	"sync"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/detection"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/errorlog"
)

const accessName = "decode_access_log"

func init() {
	processors.RegisterPlugin(accessName, newAccess)
}

type accessConfig struct {
	Field string `config:"field"`
	// Format is combined (Apache/nginx combined or common), w3c (IIS) or
	// json (one object per line, nginx's escape=json: accesslog.ParseJSON).
	Format string `config:"format"`
	// Server names the web server in event.module/event.dataset: apache,
	// nginx, iis, tomcat (its AccessLogValve writes the common format),
	// caddy or traefik (JSON). Unset, it is the format's usual writer:
	// apache, iis or nginx (for JSON, caddy or traefik when the object is
	// theirs).
	Server string `config:"server"`
}

// maxFileParsers bounds the per-file parsers a decode processor keeps: W3C
// files for their #Fields state, error logs for the time of their last line.
const maxFileParsers = 1024

// accessProcessor maps one access-log line to ECS. IIS W3C files declare their
// columns in a #Fields header, so a parser is kept per log.file.path.
type accessProcessor struct {
	cfg accessConfig
	mu  sync.Mutex
	w3c map[string]*accesslog.W3C
}

func newAccess(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	cfg := accessConfig{Field: "message", Format: "combined"}
	if err := unpackStrict(c, []string{"field", "format", "server", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", accessName, err)
	}
	defaultServer := map[string]string{"combined": "apache", "w3c": "iis", "json": "nginx"}
	if _, ok := defaultServer[cfg.Format]; !ok {
		return nil, fmt.Errorf("%s: format %q is not one of combined, w3c, json", accessName, cfg.Format)
	}
	if cfg.Server == "" && cfg.Format != "json" { // JSON objects tell Caddy's and Traefik's
		cfg.Server = defaultServer[cfg.Format]
	}
	switch cfg.Server {
	case "apache", "nginx", "iis", "tomcat", "caddy", "traefik", "":
	default:
		return nil, fmt.Errorf("%s: server %q is not one of apache, nginx, iis, tomcat, caddy, traefik", accessName, cfg.Server)
	}
	return &accessProcessor{cfg: cfg, w3c: map[string]*accesslog.W3C{}}, nil
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
	default:
		doc, err = accesslog.ParseCombined(raw, accesslog.WithServer(p.cfg.Server))
		if _, isError := errorlog.IsErrorLog(raw); err != nil && isError {
			// An error log line in the same file (one log for both), read
			// as hunt reads it; its time, which has no zone, as the
			// machine's, as decode_error_log's default.
			errorLine := errorlog.Parser{Zone: time.Local}
			doc, err = errorLine.Parse(raw)
		}
	}
	if err != nil {
		doc = detection.ErrorDoc(raw, err)
	}
	apply(ev, doc, p.cfg.Field, raw)
	return ev, nil
}

func (p *accessProcessor) parseW3C(ev *beat.Event, raw string) (map[string]any, error) {
	path, _ := ev.GetValue("log.file.path")
	key, _ := path.(string)
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.w3c[key]
	if !ok {
		if len(p.w3c) >= maxFileParsers {
			clear(p.w3c) // rotated-away files; live ones re-learn at their next header
		}
		w = accesslog.NewW3C(accesslog.WithServer(p.cfg.Server))
		p.w3c[key] = w
	}
	return w.Parse(raw)
}

func (p *accessProcessor) String() string {
	server := p.cfg.Server
	if server == "" {
		server = "by content"
	}
	return fmt.Sprintf("%s=[format=%s, server=%s]", accessName, p.cfg.Format, server)
}
