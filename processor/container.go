package processor

import (
	"fmt"
	"maps"
	"strings"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/module/container"
)

const containerName = "decode_container_log"

func init() {
	processors.RegisterPlugin(containerName, newContainer)
}

type containerConfig struct {
	Field string `config:"field"`
	// Server names the web server of the container: apache, nginx,
	// php_fpm (the php:fpm image), or another server decode_access_log
	// takes. Unset, each file's error log lines tell (the httpd, nginx and
	// php:fpm images log one at start-up), and access lines before them
	// are Apache's.
	Server string `config:"server"`
}

// containerProcessor maps a web server container's output, line by line,
// after filestream's container parser has taken each line out of the
// runtime's entry (message, stream, and the runtime's time as the event's):
// access lines, error log lines and other output (module/container's
// Decoder). The Decoder learns the server from a file's lines, so one is
// kept per log.file.path.
type containerProcessor struct {
	cfg      containerConfig
	decoders *fileParsers[container.Decoder]
}

func newContainer(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	cfg := containerConfig{Field: "message"}
	if err := unpackStrict(c, []string{"field", "server", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", containerName, err)
	}
	switch cfg.Server {
	case "apache", "nginx", "php_fpm", "iis", "tomcat", "caddy", "traefik", "":
	default:
		return nil, fmt.Errorf("%s: server %q is not one of apache, nginx, php_fpm, iis, tomcat, caddy, traefik", containerName, cfg.Server)
	}
	return &containerProcessor{cfg: cfg, decoders: newFileParsers(func() *container.Decoder {
		return container.NewDecoder(cfg.Server)
	})}, nil
}

func (p *containerProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	raw, err := sourceText(ev, p.cfg.Field)
	if err != nil {
		if _, noField := ev.GetValue(p.cfg.Field); noField != nil && hasStream(ev) {
			return nil, nil // the container parser sets no message for an empty line
		}
		fail(ev, containerName, err)
		return ev, nil
	}
	line, err := p.line(ev, raw)
	if err != nil {
		fail(ev, containerName, err)
		return ev, nil
	}
	doc, _ := p.decoders.parse(ev, func(d *container.Decoder) (map[string]any, error) {
		return d.Decode(line), nil
	})
	if doc == nil {
		return nil, nil // a blank line is no event, as in hunt
	}
	path, _ := ev.GetValue("log.file.path")
	if s, ok := path.(string); ok {
		maps.Copy(doc, container.FromPath(s))
	}
	apply(ev, doc, p.cfg.Field, line.Text)
	return ev, nil
}

// line is the container's line the event holds: filestream's container
// parser leaves it in the field, with the stream beside it; without the
// parser the field holds the runtime's whole entry, which is read here
// (but a line split over entries stays split: the parser joins them).
func (p *containerProcessor) line(ev *beat.Event, raw string) (container.Line, error) {
	if hasStream(ev) { // Docker's lines keep their newline there
		s, _ := ev.Fields["stream"].(string)
		return container.Line{Time: ev.Timestamp, Stream: s, Text: strings.TrimRight(raw, "\r\n")}, nil
	}
	l, partial, err := container.Parse(raw)
	if err != nil {
		return l, fmt.Errorf("no stream field (filestream's container parser sets it), and not a runtime's entry: %w", err)
	}
	if partial {
		return l, fmt.Errorf("a part of a line split over entries: add filestream's container parser (parsers: [container: ~]), which joins them")
	}
	return l, nil
}

func (p *containerProcessor) String() string {
	server := p.cfg.Server
	if server == "" {
		server = "by content"
	}
	return fmt.Sprintf("%s=[server=%s]", containerName, server)
}

// hasStream reports whether filestream's container parser read the event.
func hasStream(ev *beat.Event) bool {
	_, ok := ev.Fields["stream"]
	return ok
}
