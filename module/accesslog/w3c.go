package accesslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
)

// DefaultW3CFields is IIS's default field list, used before any #Fields
// header is seen.
var DefaultW3CFields = []string{
	"date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "s-port",
	"cs-username", "c-ip", "cs(User-Agent)", "cs(Referer)", "sc-status",
	"sc-substatus", "sc-win32-status", "time-taken",
}

// W3C parses IIS W3C extended log lines. It keeps the column layout declared
// by the latest #Fields header, so feed it the lines of one file in order.
// It is not safe for concurrent use.
type W3C struct {
	opts       options
	fields     []string
	headerLine int // line of the #Fields header in use, 0 for the default
	line       int
}

// NewW3C returns a parser for one IIS log file. Options: WithServer (default
// "iis").
func NewW3C(opts ...Option) *W3C {
	return &W3C{opts: buildOptions("iis", opts), fields: DefaultW3CFields}
}

// Fields returns the column names in use.
func (w *W3C) Fields() []string { return w.fields }

// Resume readies the parser for a file read from offset on, as a reader
// that restarts in the middle of a file reads it: the #Fields header in force
// there is above offset, and without it the lines would be read with IIS's
// default columns. It reads the lines before offset for their directives
// only, and counts them so that errors name lines as the file numbers them.
func (w *W3C) Resume(r io.Reader, offset int64) error {
	br := bufio.NewReaderSize(io.LimitReader(r, offset), 64<<10)
	var directive []byte // the line being read, when it is a #Fields line
	atStart := true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if atStart {
				directive = nil
				if bytes.HasPrefix(chunk, []byte("#Fields:")) {
					directive = []byte{}
				}
			}
			if directive != nil {
				directive = append(directive, chunk...)
			}
			if atStart = chunk[len(chunk)-1] == '\n'; atStart {
				if directive == nil {
					w.line++
				} else {
					_, _ = w.Parse(string(directive)) // counts the line; a bad header was reported when read
				}
			}
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if !atStart {
				return errors.New("offset " + strconv.FormatInt(offset, 10) + " is not at the start of a line")
			}
			return nil
		default:
			return err
		}
	}
}

// Parse parses the next line of the file. Directive lines (#Fields sets the
// columns; #Software, #Version, #Date, #Remark are skipped) and blank lines
// return (nil, nil). Errors are *ParseError naming the line number (counted
// by this parser, 1-based).
func (w *W3C) Parse(line string) (map[string]any, error) {
	w.line++
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return nil, nil
	}
	if line[0] == '#' {
		if rest, ok := strings.CutPrefix(line, "#Fields:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return nil, &ParseError{Line: w.line, Msg: "#Fields header declares no fields"}
			}
			w.fields, w.headerLine = f, w.line
		}
		return nil, nil
	}
	if i := firstBinary(line); i >= 0 {
		return nil, &ParseError{Line: w.line, Col: i + 1, Msg: "binary byte: not a text log line"}
	}
	vals := strings.Split(line, " ")
	if len(vals) != len(w.fields) && len(vals) == len(DefaultW3CFields) {
		// Concatenated files (a header, then lines in IIS's default layout)
		// exist in the wild; the default layout is unambiguous by count.
		saved := w.fields
		w.fields = DefaultW3CFields
		doc, err := w.doc(vals)
		w.fields = saved
		return doc, err
	}
	if len(vals) != len(w.fields) {
		src := "IIS's default field list"
		if w.headerLine > 0 {
			src = "the #Fields header on line " + strconv.Itoa(w.headerLine)
		}
		return nil, &ParseError{Line: w.line, Msg: "line has " + strconv.Itoa(len(vals)) + " fields but " + src + " declares " + strconv.Itoa(len(w.fields))}
	}
	return w.doc(vals)
}

func (w *W3C) doc(vals []string) (map[string]any, error) {
	var date, clock, stem, query, host string
	source := map[string]any{}
	dest := map[string]any{}
	req := map[string]any{}
	resp := map[string]any{}
	httpm := map[string]any{}
	iis := map[string]any{}
	doc := map[string]any{}
	var user string
	var status int64 = -1
	col := 1
	bad := func(name, v string) error {
		return &ParseError{Line: w.line, Col: col, Msg: name + " " + strconv.Quote(detection.Clip(v, 30)) + " is not a number"}
	}
	for i, name := range w.fields {
		v := vals[i]
		if i > 0 {
			col += len(vals[i-1]) + 1
		}
		if v == "-" {
			continue
		}
		switch strings.ToLower(name) {
		case "date":
			date = v
		case "time":
			clock = v
		case "s-ip":
			dest["ip"] = v
		case "s-port":
			p, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(name, v)
			}
			dest["port"] = p
		case "c-ip":
			source["ip"] = v
			source["address"] = v
		case "c-port":
			if p, err := strconv.ParseInt(v, 10, 64); err == nil {
				source["port"] = p
			}
		case "cs-method":
			req["method"] = v
		case "cs-uri-stem":
			stem = v
		case "cs-uri-query":
			query = v
		case "cs-uri":
			// The whole URI in one field (HTTP.sys's HTTPERR logs, W3C
			// writers other than IIS): split as IIS splits its stem and query.
			if stem == "" {
				stem, query, _ = strings.Cut(v, "?")
			}
		case "cs-username":
			user = v
		case "cs(user-agent)":
			doc["user_agent"] = map[string]any{"original": strings.ReplaceAll(v, "+", " ")}
		case "cs(referer)":
			req["referrer"] = v
		case "cs(content-type)": // IIS's custom field for the request header
			req["mime_type"] = strings.ReplaceAll(v, "+", " ")
		case "cs-host":
			host = v
		case "cs-version":
			httpm["version"] = strings.TrimPrefix(v, "HTTP/")
		case "sc-status":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(name, v)
			}
			status = n
			resp["status_code"] = n
		case "sc-substatus":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(name, v)
			}
			iis["sub_status"] = n
		case "sc-win32-status":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(name, v)
			}
			iis["win32_status"] = n
		case "sc-bytes":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				resp["body"] = map[string]any{"bytes": n}
			}
		case "cs-bytes":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				req["body"] = map[string]any{"bytes": n}
			}
		case "time-taken":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, bad(name, v)
			}
			doc["event.duration"] = n * int64(time.Millisecond)
		case "s-sitename":
			iis["site_name"] = v
		case "s-computername":
			iis["server_name"] = v
		case "x-forwarded-for", "cs(x-forwarded-for)":
			// IIS's custom field for the header (W3C writes spaces as "+").
			if list := ipList(strings.ReplaceAll(v, "+", " ")); list != nil {
				iis["remote_ip_list"] = list
			}
		}
	}
	if date == "" || clock == "" {
		return nil, &ParseError{Line: w.line, Msg: "no date and time fields"}
	}
	ts, err := time.Parse("2006-01-02 15:04:05", date+" "+clock)
	if err != nil {
		ts, err = time.Parse("2006-01-02 15:04:05.999999999", date+" "+clock)
		if err != nil {
			return nil, &ParseError{Line: w.line, Col: 1, Msg: "bad date/time " + strconv.Quote(detection.Clip(date+" "+clock, 40))}
		}
	}
	event := map[string]any{
		"kind":     "event",
		"category": []string{"web"},
		"type":     []string{"access"},
		"module":   w.opts.server,
		"dataset":  w.opts.server + ".access",
	}
	if d, ok := doc["event.duration"]; ok {
		event["duration"] = d
		delete(doc, "event.duration")
	}
	if status >= 0 {
		if status < 400 {
			event["outcome"] = "success"
		} else {
			event["outcome"] = "failure"
		}
	}
	doc["@timestamp"] = ts.UTC()
	doc["event"] = event
	if len(source) > 0 {
		doc["source"] = source
	}
	if len(dest) > 0 {
		doc["destination"] = dest
	}
	if user != "" {
		doc["user"] = map[string]any{"name": user}
	}
	if len(req) > 0 {
		httpm["request"] = req
	}
	if len(resp) > 0 {
		httpm["response"] = resp
	}
	if len(httpm) > 0 {
		doc["http"] = httpm
	}
	if stem != "" {
		original := stem
		if query != "" {
			original += "?" + query
		}
		u, ws := urlFields(original, query)
		u["path"] = stem // the stem is the path, even if it holds '?' or '#'
		delete(u, "fragment")
		if ext := extension(stem); ext != "" {
			u["extension"] = ext
		} else {
			delete(u, "extension")
		}
		HostFields(u, host)
		doc["url"] = u
		if ws != nil {
			doc["webshell"] = map[string]any{"url": ws}
		}
	}
	if len(iis) > 0 {
		doc["iis"] = map[string]any{"access": iis}
	}
	return doc, nil
}

// Format is what Detect recognises.
type Format int

const (
	FormatUnknown   Format = iota
	FormatCombined         // Apache/nginx combined (or vhost_combined)
	FormatCommon           // Apache/nginx common (no referrer and user agent)
	FormatW3CHeader        // an IIS W3C directive line (#Software, #Fields...)
)

func (f Format) String() string {
	switch f {
	case FormatCombined:
		return "combined"
	case FormatCommon:
		return "common"
	case FormatW3CHeader:
		return "w3c-header"
	}
	return "unknown"
}

// IsW3CHeader reports whether line is an IIS W3C directive (#Software,
// #Version, #Date, #Fields, #Remark): what a reader of lines checks before
// parsing one, without Detect's trial parse of the combined format.
func IsW3CHeader(line string) bool {
	for _, p := range []string{"#Software:", "#Version:", "#Date:", "#Fields:", "#Remark:"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// Detect recognises the format of one line by its content, so a hunt over
// files can pick a parser. Feed it a few lines and take the majority.
func Detect(line string) Format {
	line = strings.TrimRight(line, "\r\n")
	if IsW3CHeader(line) {
		return FormatW3CHeader
	}
	var c clf
	if err := c.parse(line); err != nil {
		// A well-shaped line with an unusable request ("-" 408) still tells
		// the format.
		if c.status == 0 || c.stamp.IsZero() {
			return FormatUnknown
		}
	}
	if c.hasAgent {
		return FormatCombined
	}
	return FormatCommon
}
