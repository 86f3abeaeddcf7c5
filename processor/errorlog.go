package processor

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/detection"
	"webshellbeat/module/errorlog"
)

const errorLogName = "decode_error_log"

func init() {
	processors.RegisterPlugin(errorLogName, newErrorLog)
}

type errorLogConfig struct {
	Field string `config:"field"`
	// Server is apache, nginx, php_fpm (php-fpm's own log), php (PHP's
	// error_log) or tomcat (catalina.out, localhost.DATE.log); unset, each
	// file's lines tell.
	Server string `config:"server"`
	// Timezone is the zone the server writes its times in (they carry
	// none): Local, the machine's, by default (the beat runs on the web
	// server), or an IANA name such as UTC or Europe/Berlin. PHP's
	// error_log names its zone in each line, which wins.
	Timezone string `config:"timezone"`
}

// errorLogProcessor maps one error log line to ECS. A line without the
// log's prefix (a mod_php command's output) is dated by the line before it
// in the same file, so a parser is kept per log.file.path.
type errorLogProcessor struct {
	cfg     errorLogConfig
	parsers *fileParsers[errorlog.Parser]
}

func newErrorLog(c *conf.C, _ *logp.Logger) (beat.Processor, error) {
	cfg := errorLogConfig{Field: "message", Timezone: "Local"}
	if err := unpackStrict(c, []string{"field", "server", "timezone", "when"}, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", errorLogName, err)
	}
	switch cfg.Server {
	case errorlog.Apache, errorlog.Nginx, errorlog.PHPFPM, errorlog.PHP, errorlog.Tomcat, "":
	default:
		return nil, fmt.Errorf("%s: server %q is not one of apache, nginx, php_fpm, php, tomcat", errorLogName, cfg.Server)
	}
	zone, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("%s: timezone %q: %w", errorLogName, cfg.Timezone, err)
	}
	return &errorLogProcessor{cfg: cfg, parsers: newFileParsers(func() *errorlog.Parser {
		return &errorlog.Parser{Server: cfg.Server, Zone: zone}
	})}, nil
}

func (p *errorLogProcessor) Run(ev *beat.Event) (*beat.Event, error) {
	raw, err := sourceText(ev, p.cfg.Field)
	if err != nil {
		fail(ev, errorLogName, err)
		return ev, nil
	}
	if strings.TrimSpace(raw) == "" {
		return nil, nil // a blank line (a command's output may end with one) is no event, as in hunt
	}
	doc, err := p.parsers.parse(ev, func(parser *errorlog.Parser) (map[string]any, error) {
		// Access lines in the same file (one file for both logs) are read
		// as hunt reads them.
		doc, err := parser.ParseMixed(raw)
		if errors.Is(err, errorlog.ErrNoTime) {
			// The file's first line read since the beat started has no
			// prefix: dated by when it was read.
			parser.DateBy(ev.Timestamp)
			doc, err = parser.Parse(raw)
		}
		return doc, err
	})
	if err != nil {
		doc = detection.ErrorDoc(raw, err)
	}
	apply(ev, doc, p.cfg.Field, raw)
	return ev, nil
}

func (p *errorLogProcessor) String() string {
	server := p.cfg.Server
	if server == "" {
		server = "by content"
	}
	return fmt.Sprintf("%s=[server=%s, timezone=%s]", errorLogName, server, p.cfg.Timezone)
}
