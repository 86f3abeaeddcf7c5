package modsec

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
)

// boundary matches a section's boundary line and captures the entry's id
// and the section's letter: "--6a3bb639-A--" (ModSecurity 2),
// "---GNx8cPth---A--" (libmodsecurity 3).
var boundary = regexp.MustCompile(`^-{2,3}([0-9a-zA-Z]{6,})-{1,3}([A-Z])--\s*$`)

// Section returns the letter of the section line opens ("A" opens an
// entry, "Z" ends it), or "" when line is no boundary.
func Section(line string) string {
	if m := boundaryOf(line); m != nil {
		return m[2]
	}
	return ""
}

// boundaryOf is boundary's match of line: nil, or the line, the entry's id
// and the section's letter.
func boundaryOf(line string) []string {
	if !strings.HasPrefix(line, "--") { // most lines: spared the regexp
		return nil
	}
	return boundary.FindStringSubmatch(line)
}

// Parse maps one entry of the native format, text: its lines from the A
// boundary on (the Z boundary may be missing: a cut log).
func Parse(text string) (map[string]any, error) {
	sections, order, err := split(text)
	if err != nil {
		return nil, err
	}
	if _, ok := sections["A"]; !ok {
		return nil, malformed("no A section (the entry's header)")
	}
	var e entry
	if err := e.header(sections["A"]); err != nil {
		return nil, err
	}
	e.request(sections["B"])
	// I is C's form, or a multipart body with its files left out;
	// libmodsecurity 3 writes it empty, and its body in C.
	if e.reqBody = sections["I"]; strings.TrimSpace(e.reqBody) == "" {
		e.reqBody = sections["C"]
	}
	e.response(sections["F"])
	e.respBody = sections["E"]
	if strings.HasPrefix(strings.TrimLeft(text, "\r\n"), "---") {
		e.respBody = unescapeHex(e.respBody) // libmodsecurity 3 writes bytes other than printable ASCII as \xHH
	}
	e.trailer(sections["H"])
	e.uploads(sections["J"])
	if last := order[len(order)-1]; last != "Z" {
		e.cut = last
	}
	return e.doc(), nil
}

// split cuts an entry into its sections' texts by letter, and the letters
// in order.
func split(entry string) (map[string]string, []string, error) {
	sections := map[string]string{}
	var order []string
	var id, cur string
	var b strings.Builder
	flush := func() {
		if cur != "" {
			sections[cur] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(entry, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if m := boundaryOf(trimmed); m != nil {
			if id == "" {
				id = m[1]
			} else if m[1] != id {
				return nil, nil, malformed("section %s of entry %s inside entry %s: an entry cut short", m[2], m[1], id)
			}
			flush()
			cur = m[2]
			order = append(order, cur)
			continue
		}
		if cur == "" {
			if trimmed == "" {
				continue
			}
			return nil, nil, malformed("text before the first section boundary: %q", detection.Clip(trimmed, 60))
		}
		b.WriteString(line)
	}
	flush()
	if id == "" {
		return nil, nil, malformed("no section boundary")
	}
	return sections, order, nil
}

// header reads the A section: "[26/Nov/2026:18:30:00.123456 +0000]
// unique_id client_ip client_port server_ip server_port".
func (e *entry) header(a string) error {
	line := strings.TrimSpace(a)
	end := strings.IndexByte(line, ']')
	if !strings.HasPrefix(line, "[") || end < 0 {
		return malformed("A section %q: no [time]", detection.Clip(line, 60))
	}
	t, err := parseTime(line[1:end])
	if err != nil {
		return malformed("A section: time %q: %v", detection.Clip(line[1:end], 40), err)
	}
	f := strings.Fields(line[end+1:])
	if len(f) < 5 {
		return malformed("A section %q: want the unique id, client address and port, server address and port", detection.Clip(line, 80))
	}
	e.time, e.id = t, f[0]
	e.client, e.clientPort, e.server, e.serverPort = f[1], f[2], f[3], f[4]
	return nil
}

// parseTime reads Apache's time with or without microseconds.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"02/Jan/2006:15:04:05.999999 -0700", "02/Jan/2006:15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not Apache's [day/month/year:hour:minute:second zone]")
}

// request reads the B section: the request line and headers.
func (e *entry) request(b string) {
	lines := strings.Split(strings.TrimRight(b, "\r\n"), "\n")
	method, rest, _ := strings.Cut(strings.TrimSpace(lines[0]), " ")
	e.method = method
	e.target, e.version, _ = strings.Cut(rest, " ")
	e.version = strings.TrimPrefix(e.version, "HTTP/")
	e.reqHeaders = headerMap(lines[1:])
}

// response reads the F section: the status line and headers.
func (e *entry) response(f string) {
	lines := strings.Split(strings.TrimRight(f, "\r\n"), "\n")
	_, rest, _ := strings.Cut(strings.TrimSpace(lines[0]), " ")
	code, _, _ := strings.Cut(rest, " ")
	e.status, _ = strconv.ParseInt(code, 10, 64)
	e.respHeaders = headerMap(lines[1:])
}

func headerMap(lines []string) map[string]string {
	h := map[string]string{}
	for _, l := range lines {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if ok {
			h[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
		}
	}
	return h
}

// trailer reads the H section: each "Message:" (libmodsecurity 3:
// "ModSecurity:") of a rule that matched, the handler, the engine mode
// and the action.
func (e *entry) trailer(h string) {
	for _, l := range strings.Split(h, "\n") {
		name, value, ok := strings.Cut(strings.TrimRight(l, "\r"), ": ")
		if !ok {
			continue
		}
		switch name {
		case "Message", "ModSecurity":
			e.messages = append(e.messages, value)
		case "Apache-Handler":
			e.handler = value
		case "Engine-Mode":
			e.engine = strings.Trim(value, `"`)
		case "Action":
			e.verb = value
		}
	}
}

// uploads reads the J section, the files of a multipart request: each
// "n,size,"name","type"" (the upload of a web shell, whose later requests
// name it).
func (e *entry) uploads(j string) {
	for _, l := range strings.Split(j, "\n") {
		f := strings.SplitN(strings.TrimRight(l, "\r"), ",", 4)
		if len(f) >= 3 && f[0] != "Total" {
			if name, err := strconv.Unquote(f[2]); err == nil && name != "" {
				e.files = append(e.files, name)
			}
		}
	}
}

// unescapeHex decodes the \xHH escapes of s.
func unescapeHex(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
