// Package errorlog maps the lines of Apache httpd's and nginx's error logs
// (in the fields of filebeat's apache.error and nginx.error datasets),
// php-fpm's and PHP's own logs and Tomcat's to nested ECS documents. It is
// a pure library: no I/O, no libbeat.
//
// A web shell shows there in a way no access log shows it: under mod_php,
// a command the shell runs inherits Apache's standard error, which is the
// error log, so "sh: 1: wget: not found" or an interactive shell's "can't
// access tty; job control turned off" (a reverse shell) are written into
// it as they are, without the log's own prefix. Such a line is an event of
// its own (tags: unprefixed), as is a continued message (PHP's stack
// traces).
package errorlog

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"webshellbeat/module/accesslog"
)

// Server names for Parse: which server wrote the log. PHPFPM is php-fpm's
// own log (php-fpm.conf's error_log), where a worker's standard error
// lands when the pool catches it (catch_workers_output, which the php:fpm
// container image sets): under nginx + php-fpm that is where a web shell's
// commands' errors go.
//
// PHP is PHP's own error_log (php.ini), whose lines name their zone:
// "[26-Nov-2026 11:08:11 UTC] PHP Fatal error:  Uncaught Error: Call to
// undefined function system()" is what a web shell leaves where
// disable_functions took its command functions away.
//
// Tomcat is Tomcat's own log (catalina.out, catalina.DATE.log,
// localhost.DATE.log) in its default OneLineFormatter: "26-Nov-2026
// 13:54:20.278 SEVERE [thread] logger message". A JSP web shell whose
// command cannot start throws, and Tomcat logs the exception there with
// its cause: "Caused by: java.io.IOException: Cannot run program "nc":
// error=2, No such file or directory".
const (
	Apache = "apache"
	Nginx  = "nginx"
	PHPFPM = "php_fpm"
	PHP    = "php"
	Tomcat = "tomcat"
)

// ErrNoTime is returned for an unprefixed line when no time is known yet
// (the file's first line, or the beat's first line after a restart).
var ErrNoTime = errors.New("an error log line without its prefix, and no earlier line to date it by")

// Parser maps the lines of one error log file in order. Times in error logs
// have no zone: they are read in Zone. An unprefixed line takes the time
// of the last prefixed one.
type Parser struct {
	Server   string         // Apache, Nginx, PHPFPM, PHP or Tomcat; "": the first prefixed line tells
	Zone     *time.Location // nil: UTC
	last     time.Time
	module   string
	zoned    bool           // the time last read came with its zone (PHP's lines, access lines)
	lastZone *time.Location // the zone PHP's lines named last
	// jsp is the page a Tomcat exception is about ("An exception occurred
	// processing [/x.jsp] at line [2]"), for the record's later lines,
	// among them the "Caused by" that names the program; "" outside one.
	jsp     string
	jspLine int64
}

// Parse maps one line. A line of neither prefix is an unprefixed event of
// the server of the earlier lines; before any, an error (ErrNoTime).
func (p *Parser) Parse(line string) (map[string]any, error) {
	line = strings.TrimRight(line, "\r\n")
	server := p.Server
	if server == "" {
		server = p.module // told by an earlier line
	}
	var doc map[string]any
	var err error
	switch {
	case (server == "" || server == PHP) && fpmPrefix(line) && line[21] == ' ': // a zone after the time
		doc, err = p.php(line)
		server = PHP
	case (server == "" || server == PHPFPM) && fpmPrefix(line):
		doc, err = p.fpm(line)
		server = PHPFPM
	case (server == "" || server == Tomcat) && tomcatPrefix(line):
		doc, err = p.tomcat(line)
		server = Tomcat
	case server != Nginx && server != PHPFPM && server != PHP && server != Tomcat && strings.HasPrefix(line, "["):
		doc, err = p.apache(line)
		server = Apache
	case server != Apache && server != Tomcat && len(line) >= 19 && line[4] == '/' && line[7] == '/' && line[10] == ' ':
		doc, err = p.nginx(line)
		server = Nginx
	default:
		return p.unprefixed(line)
	}
	if err != nil {
		// In an Apache or php-fpm log a bracketed line that is not the
		// prefix is a command's output ("[*] done"); nginx's children do
		// not write there, so there it is a damaged line.
		if server != Nginx && (p.module != "" || p.Server != "") {
			return p.unprefixed(line)
		}
		return nil, err
	}
	p.module, p.last = server, doc["@timestamp"].(time.Time)
	p.jsp, p.jspLine = "", 0 // a new record
	if server != PHP {
		p.zoned = false // php sets it
	}
	ecsEvent(doc, server)
	return doc, nil
}

// ParsePrefixed maps line, in zone, when it bears the prefix of an Apache
// or nginx error log line; ok is false otherwise. It reads one line alone
// (no earlier line dates or names it), as for a line found in another log.
func ParsePrefixed(line string, zone *time.Location) (doc map[string]any, ok bool) {
	p := Parser{Zone: zone}
	doc, err := p.Parse(line)
	return doc, err == nil
}

// IsErrorLog reports whether line is the prefixed line of an Apache or
// nginx error log.
func IsErrorLog(line string) bool {
	_, ok := ParsePrefixed(line, nil)
	return ok
}

// DateBy sets the time of unprefixed lines until a prefixed one is read:
// the beat dates the first line it reads of a file by when it read it.
func (p *Parser) DateBy(t time.Time) {
	if p.last.IsZero() {
		p.last = t
	}
}

func (p *Parser) zone() *time.Location {
	if p.Zone == nil {
		return time.UTC
	}
	return p.Zone
}

// apache reads "[time] [module:level] [pid N:tid M] [client a:p] message"
// (2.4; 2.2 has "[level]" and no pid).
func (p *Parser) apache(line string) (map[string]any, error) {
	stamp, rest, ok := bracket(line)
	if !ok {
		return nil, fmt.Errorf("col 1: no ] after the time")
	}
	ts, err := apacheTime(stamp, p.zone())
	if err != nil {
		return nil, fmt.Errorf("col 2: %v", err)
	}
	doc := map[string]any{"@timestamp": ts}
	level := ""
	for strings.HasPrefix(rest, "[") {
		item, after, ok := bracket(rest)
		if !ok {
			break
		}
		switch {
		case strings.HasPrefix(item, "pid "):
			pid, tid, _ := strings.Cut(item[4:], ":tid ")
			if proc := processFields(pid, tid); proc != nil {
				doc["process"] = proc
			}
		case strings.HasPrefix(item, "client "):
			putSource(doc, item[7:])
		case level == "":
			module, lvl, ok := strings.Cut(item, ":")
			if !ok {
				module, lvl = "", item
			}
			if lvl == "" {
				return nil, fmt.Errorf("empty [level] after the time")
			}
			level = lvl
			if module != "" {
				doc["apache"] = map[string]any{"error": map[string]any{"module": module}}
			}
		default:
			return finish(doc, level, rest), nil // a bracket of the message
		}
		rest = after
	}
	if level == "" {
		return nil, fmt.Errorf("no [level] after the time")
	}
	// 2.4 may write the source file and an error status before the client:
	// "mod_rewrite.c(470): [client a:p] message".
	if before, after, ok := strings.Cut(rest, ": [client "); ok && doc["source"] == nil {
		if client, msg, ok := strings.Cut(after, "] "); ok {
			putSource(doc, client)
			rest = before + ": " + msg
		}
	}
	msg, referrer, _ := strings.Cut(rest, ", referer: ")
	if referrer != "" {
		doc["http"] = map[string]any{"request": map[string]any{"referrer": referrer}}
	}
	return finish(doc, level, msg), nil
}

// processFields are process.pid and process.thread.id of a line's process
// and thread numbers ("pid 7:tid 8", nginx's "7#8"); nil when pid is not a
// number.
func processFields(pid, tid string) map[string]any {
	n, err := strconv.ParseInt(pid, 10, 64)
	if err != nil {
		return nil
	}
	proc := map[string]any{"pid": n}
	if t, err := strconv.ParseInt(tid, 10, 64); err == nil {
		proc["thread"] = map[string]any{"id": t}
	}
	return proc
}

// bracket splits "[x] rest" into x and rest.
func bracket(s string) (item, rest string, ok bool) {
	end := strings.IndexByte(s, ']')
	if !strings.HasPrefix(s, "[") || end < 0 {
		return "", s, false
	}
	return s[1:end], strings.TrimLeft(s[end+1:], " "), true
}

// apacheLayouts are the times Apache writes: "Thu Oct 13 12:24:49.880562
// 2022" (2.4's default %{u}t), "Thu Oct 13 12:24:49 2022" (2.2, %t) and
// the compact ISO form of an ErrorLogFormat with %{cu}t or %{c}t.
var apacheLayouts = []string{"Mon Jan _2 15:04:05.000000 2006", "Mon Jan _2 15:04:05 2006", "2006-01-02 15:04:05.000000", "2006-01-02 15:04:05"}

// apacheTime reads one of apacheLayouts.
func apacheTime(s string, zone *time.Location) (time.Time, error) {
	for _, layout := range apacheLayouts {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil && t.Year() >= 1970 {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not Apache's (Thu Oct 13 12:24:49.880562 2022)", s)
}

// fpmPrefix reports whether line begins as php-fpm's lines do:
// "[25-Nov-2026 19:02:20".
func fpmPrefix(line string) bool {
	return len(line) > 21 && line[0] == '[' && line[3] == '-' && line[7] == '-' && line[12] == ' ' && line[15] == ':' && line[18] == ':'
}

// fpmLayouts are php-fpm's times: microseconds at log_level = debug.
var fpmLayouts = []string{"02-Jan-2006 15:04:05", "02-Jan-2006 15:04:05.000000"}

// fpmLevels are php-fpm's levels (zlog.c).
var fpmLevels = map[string]bool{"DEBUG": true, "NOTICE": true, "WARNING": true, "ERROR": true, "ALERT": true}

// fpm reads php-fpm's "[25-Nov-2026 19:02:20] NOTICE: message", at
// log_level = debug "[...] DEBUG: pid 7, fpm_event_loop(), line 417:
// message", and a worker's output as a pool that catches it logs it:
// "[...] WARNING: [pool www] child 29 said into stderr: "sh: 1: nc: not
// found"" (the message is kept whole; the pool and the child are fields).
func (p *Parser) fpm(line string) (map[string]any, error) {
	stamp, rest, _ := bracket(line)
	var ts time.Time
	err := fmt.Errorf("col 2: time %q is not php-fpm's (25-Nov-2026 19:02:20)", stamp)
	for _, layout := range fpmLayouts {
		if t, perr := time.ParseInLocation(layout, stamp, p.zone()); perr == nil && t.Year() >= 1970 {
			ts, err = t, nil
			break
		}
	}
	if err != nil {
		return nil, err
	}
	level, msg, ok := strings.Cut(rest, ": ")
	if !ok || !fpmLevels[level] {
		return nil, fmt.Errorf("col %d: no DEBUG, NOTICE, WARNING, ERROR or ALERT after the time", len(line)-len(rest)+1)
	}
	doc := map[string]any{"@timestamp": ts}
	if pid, after, ok := strings.Cut(msg, ", "); ok && strings.HasPrefix(pid, "pid ") {
		if proc := processFields(pid[4:], ""); proc != nil {
			doc["process"] = proc
		}
		if _, after, ok := strings.Cut(after, "), line "); ok { // the function and line of php-fpm's source
			_, msg, _ = strings.Cut(after, ": ")
		}
	}
	if pool, after, ok := bracket(msg); ok && strings.HasPrefix(pool, "pool ") {
		doc["php_fpm"] = map[string]any{"pool": map[string]any{"name": pool[5:]}}
		if child, _, ok := strings.Cut(strings.TrimPrefix(after, "child "), " said into "); ok && strings.HasPrefix(after, "child ") {
			if proc := processFields(child, ""); proc != nil {
				doc["process"] = proc
			}
		}
	}
	return finish(doc, strings.ToLower(level), msg), nil
}

// tomcatPrefix reports whether line begins as Tomcat's OneLineFormatter
// lines do: "26-Nov-2026 13:54:20.278 ".
func tomcatPrefix(line string) bool {
	return len(line) > 25 && line[2] == '-' && line[6] == '-' && line[11] == ' ' && line[14] == ':' && line[17] == ':' && line[20] == '.' && line[24] == ' '
}

// tomcat reads "26-Nov-2026 13:54:20.278 SEVERE [thread] logger message"
// (JULI's levels: SEVERE, WARNING, INFO, CONFIG, FINE, FINER, FINEST). The
// lines of a stack trace that follow are unprefixed events.
func (p *Parser) tomcat(line string) (map[string]any, error) {
	ts, err := time.ParseInLocation("02-Jan-2006 15:04:05.000", line[:24], p.zone())
	if err != nil || ts.Year() < 1970 {
		return nil, fmt.Errorf("col 1: time %q is not Tomcat's (26-Nov-2026 13:54:20.278)", line[:24])
	}
	level, rest, _ := strings.Cut(line[25:], " ")
	if !tomcatLevels[level] {
		return nil, fmt.Errorf("col 26: no SEVERE, WARNING, INFO, CONFIG or FINE level after the time")
	}
	doc := map[string]any{"@timestamp": ts}
	if thread, after, ok := bracket(rest); ok {
		doc["process"] = map[string]any{"thread": map[string]any{"name": thread}}
		rest = after
	}
	logger, msg, ok := strings.Cut(rest, " ")
	if !ok || !strings.Contains(logger, ".") { // no class.method before the message
		logger, msg = "", rest
	}
	finish(doc, strings.ToLower(level), msg)
	if logger != "" {
		doc["log"].(map[string]any)["logger"] = logger
	}
	return doc, nil
}

var tomcatLevels = map[string]bool{"SEVERE": true, "WARNING": true, "INFO": true, "CONFIG": true, "FINE": true, "FINER": true, "FINEST": true}

// php reads PHP's error_log: "[26-Nov-2026 11:08:11 UTC] PHP Warning:  message",
// the time in date.timezone, which the line names (an unknown name: the
// Parser's Zone); a line the application logged with error_log() has no
// "PHP <level>:" and no level.
func (p *Parser) php(line string) (map[string]any, error) {
	stamp, rest, ok := bracket(line)
	if !ok || len(stamp) < 22 {
		return nil, fmt.Errorf("col 1: no time and zone in brackets")
	}
	zone := p.namedZone(stamp[21:])
	p.zoned = zone != nil
	if zone == nil {
		zone = p.zone()
	}
	ts, err := time.ParseInLocation("02-Jan-2006 15:04:05", stamp[:20], zone)
	if err != nil || ts.Year() < 1970 {
		return nil, fmt.Errorf("col 2: time %q is not PHP's (26-Nov-2026 11:08:11 UTC)", stamp)
	}
	doc := map[string]any{"@timestamp": ts, "message": strings.TrimSpace(rest)}
	if level, msg, ok := strings.Cut(rest, ":  "); ok && strings.HasPrefix(level, "PHP ") {
		doc["log"] = map[string]any{"level": strings.ToLower(level[4:])}
		doc["message"] = strings.TrimSpace(msg)
	}
	putOrigin(doc, rest)
	return doc, nil
}

// namedZone is the zone a PHP line names, nil when unknown. The last one is
// kept: loading a zone reads the zone database, and a log names one zone.
func (p *Parser) namedZone(name string) *time.Location {
	if p.lastZone != nil && p.lastZone.String() == name {
		return p.lastZone
	}
	zone, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	p.lastZone = zone
	return zone
}

// nginx reads "2026/11/25 10:00:00 [error] 123#456: *7 message, client: a,
// server: s, request: "GET / HTTP/1.1", host: "h"".
func (p *Parser) nginx(line string) (map[string]any, error) {
	ts, err := time.ParseInLocation("2006/01/02 15:04:05", line[:19], p.zone())
	if err != nil {
		return nil, fmt.Errorf("col 1: time %q is not nginx's (2026/11/25 10:00:00)", line[:19])
	}
	if ts.Year() < 1970 {
		return nil, fmt.Errorf("col 1: time %q is before 1970", line[:19])
	}
	level, rest, ok := bracket(strings.TrimLeft(line[19:], " "))
	if !ok || level == "" {
		return nil, fmt.Errorf("col 21: no [level] after the time")
	}
	doc := map[string]any{"@timestamp": ts}
	if ids, after, ok := strings.Cut(rest, ": "); ok && strings.Contains(ids, "#") {
		pid, tid, _ := strings.Cut(ids, "#")
		if proc := processFields(pid, tid); proc != nil {
			doc["process"] = proc
			rest = after
		}
	}
	if conn, after, ok := strings.Cut(rest, " "); ok && strings.HasPrefix(conn, "*") {
		if n, err := strconv.ParseInt(conn[1:], 10, 64); err == nil {
			doc["nginx"] = map[string]any{"error": map[string]any{"connection_id": n}}
			rest = after
		}
	}
	msg, ctx := nginxContext(rest)
	if c := ctx["client"]; c != "" {
		putSource(doc, c)
	}
	if req := ctx["request"]; req != "" {
		method, target, _ := strings.Cut(req, " ")
		target, version, _ := strings.Cut(target, " ")
		u, _ := accesslog.URLFields(target)
		if h := ctx["host"]; h != "" {
			u["domain"] = h
		}
		doc["url"] = u
		http := map[string]any{"request": map[string]any{"method": method}}
		if v, ok := strings.CutPrefix(version, "HTTP/"); ok {
			http["version"] = v
		}
		if r := ctx["referrer"]; r != "" {
			http["request"].(map[string]any)["referrer"] = r
		}
		doc["http"] = http
	}
	return finish(doc, level, msg), nil
}

// nginxContext splits nginx's trailing ", client: a, server: s, request:
// "...", upstream: "...", host: "...", referrer: "..."" off a message.
func nginxContext(s string) (msg string, ctx map[string]string) {
	ctx = map[string]string{}
	i := strings.Index(s, ", client: ")
	if i < 0 {
		return s, ctx
	}
	msg, rest := s[:i], s[i+2:]
	for rest != "" {
		key, after, ok := strings.Cut(rest, ": ")
		if !ok {
			break
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				break
			}
			value, rest = after[1:end+1], after[end+2:]
		} else {
			value, rest, _ = strings.Cut(after, ",")
		}
		ctx[key] = value
		rest = strings.TrimPrefix(strings.TrimLeft(rest, ","), " ")
	}
	return msg, ctx
}

func finish(doc map[string]any, level, msg string) map[string]any {
	doc["log"] = map[string]any{"level": level}
	doc["message"] = strings.TrimSpace(msg)
	putOrigin(doc, msg)
	return doc
}

// putOrigin sets log.origin.file to the script a PHP message names.
func putOrigin(doc map[string]any, msg string) {
	if file, line, ok := phpOrigin(msg); ok {
		setOrigin(doc, file, line)
	}
}

// setOrigin sets log.origin.file: the script or page a line is about.
func setOrigin(doc map[string]any, file string, line int64) {
	log, _ := doc["log"].(map[string]any)
	if log == nil {
		log = map[string]any{}
		doc["log"] = log
	}
	log["origin"] = map[string]any{"file": map[string]any{"name": file, "line": line}}
}

// phpScript is where a PHP message names the script that raised it:
// "... in /var/www/html/x.php on line 3", or an uncaught exception's
// "... in /var/www/html/x.php:3".
var phpScript = regexp.MustCompile(`\bin ((?:/|[A-Za-z]:\\)[^"\n]*?\.(?:php[0-9]?|phtml|phar|inc))(?: on line |:)(\d{1,9})\b`)

// phpOrigin returns the script and line of a PHP message (log.origin.file):
// a web shell's own file, when it is the script whose system() failed.
// The first one named is the script that raised it; a stack trace names
// others after it.
func phpOrigin(msg string) (file string, line int64, ok bool) {
	if !strings.Contains(msg, "PHP ") {
		return "", 0, false
	}
	m := phpScript.FindStringSubmatch(msg)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	return m[1], n, err == nil
}

// unprefixed is a line without the log's prefix: output of a child process
// (mod_php's commands) or a message's continuation, dated by the line
// before it.
func (p *Parser) unprefixed(line string) (map[string]any, error) {
	if p.last.IsZero() {
		return nil, ErrNoTime
	}
	doc := Output(line, p.KnownServer(), p.last)
	if p.KnownServer() == Tomcat {
		if m := jasperPage.FindStringSubmatch(line); m != nil {
			p.jsp, p.jspLine = m[1], 0
			if n, err := strconv.ParseInt(m[2], 10, 64); err == nil {
				p.jspLine = n
			}
		}
		if p.jsp != "" {
			setOrigin(doc, p.jsp, p.jspLine)
		}
	}
	return doc, nil
}

// jasperPage is how Tomcat's JSP engine names the page of an exception, by
// its path in the web application.
var jasperPage = regexp.MustCompile(`An exception occurred processing \[(/[^\]]*)\] at line \[(\d{1,9})\]`)

// Zoned reports whether the time of the last line mapped came with its
// zone (PHP's error_log names it; an access line's has its offset), as do
// the unprefixed lines dated by it, so that no zone is to be assumed.
func (p *Parser) Zoned() bool { return p.zoned }

// KnownServer is the server of the log: Server, or else the one its
// prefixed lines told so far ("" before any).
func (p *Parser) KnownServer() string {
	if p.module != "" {
		return p.module
	}
	return p.Server
}

// ParseMixed maps a line of a server's whole output (`docker logs`, one
// file for both logs): an access line (combined or common) is an access
// event, and its time, which has its zone, dates the unprefixed lines
// after it (a command's output follows the request that ran it, and the
// last error line may be days older: a container's start-up); any other
// line is Parse's.
func (p *Parser) ParseMixed(line string) (map[string]any, error) {
	if doc, err := accesslog.ParseCombined(line, accesslog.WithServer(p.WebServer())); err == nil {
		p.last, p.zoned = doc["@timestamp"].(time.Time), true
		return doc, nil
	}
	return p.Parse(line)
}

// WebServer is the web server whose access lines may share this log's
// output (`docker logs`, a container's file, one file for both logs):
// KnownServer, but "" for php-fpm's and PHP's logs, which hold none of
// their own.
func (p *Parser) WebServer() string {
	if s := p.KnownServer(); s != PHPFPM && s != PHP {
		return s
	}
	return ""
}

// Output is a line that server's process wrote at t without the log's
// prefix (a command's standard error under mod_php, a continued message)
// as an event of server's error log (tags: unprefixed). With server ""
// (no line has told yet) it is Apache's: a command's output is mod_php's.
func Output(line, server string, t time.Time) map[string]any {
	if server == "" {
		server = Apache
	}
	doc := map[string]any{"@timestamp": t, "message": line, "tags": []string{"unprefixed"}}
	ecsEvent(doc, server)
	return doc
}

// ecsEvent sets the event fields.
func ecsEvent(doc map[string]any, server string) {
	doc["event"] = map[string]any{
		"kind":     "event",
		"category": []string{"web"},
		"type":     []string{"error"},
		"module":   server,
		"dataset":  server + ".error",
	}
}

// putSource sets source.* from a client address, when there is one.
func putSource(doc map[string]any, client string) {
	if src := accesslog.Endpoint(client); src != nil {
		doc["source"] = src
	}
}
