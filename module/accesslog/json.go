package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"webshellbeat/detection"
)

// JSON access logs have no fixed schema: a site writes its own
//
//	log_format json escape=json '{"time_local":"$time_local","remote_addr":"$remote_addr",'
//	    '"request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,'
//	    '"http_referer":"$http_referer","http_user_agent":"$http_user_agent"}';
//
// Most name their keys after nginx's variables, as above, or after the
// words of the combined format (client_ip, method, uri, user_agent). So a key
// is looked up by its name folded to lower case without '_', '-', '.' and
// '@' ("remoteAddr" and "remote_addr" are one key), in the order of these
// lists: the first present key of a list gives the field. Nested objects
// are read by their paths, so the fixed layouts of two other servers match
// too: Caddy's ("request":{"method","uri","client_ip","headers":{...}},
// "status", "size", "ts", "user_id") and Traefik's (RequestMethod, RequestPath,
// ClientHost, DownstreamStatus, StartUTC, request_User-Agent).
var jsonKeys = struct {
	time, client, xff, user, request, method, target, path, query, protocol, status, bytes, referrer, agent, vhost, mime []string
}{
	time:     []string{"timeiso8601", "timelocal", "timestamp", "startutc", "time", "datetime", "date", "msec", "ts"},
	client:   []string{"remoteaddr", "clientip", "remoteip", "clientaddr", "client", "ip", "requestclientip", "requestremoteip", "clienthost"},
	xff:      []string{"httpxforwardedfor", "xforwardedfor", "forwardedfor", "xff", "requestheadersxforwardedfor", "requestxforwardedfor"},
	user:     []string{"remoteuser", "user", "username", "clientusername", "userid"},
	request:  []string{"request", "requestline"},
	method:   []string{"requestmethod", "method", "verb"},
	target:   []string{"requesturi", "url", "requestpath"},
	path:     []string{"uri", "path", "documenturi"},
	query:    []string{"args", "querystring", "query"},
	protocol: []string{"serverprotocol", "protocol", "httpversion", "requestproto", "requestprotocol"},
	status:   []string{"status", "statuscode", "responsecode", "response", "downstreamstatus"},
	bytes:    []string{"bodybytessent", "bytessent", "bytes", "size", "downstreamcontentsize"},
	referrer: []string{"httpreferer", "httpreferrer", "referer", "referrer", "requestheadersreferer", "requestreferer"},
	agent:    []string{"httpuseragent", "useragent", "agent", "requestheadersuseragent", "requestuseragent"},
	vhost:    []string{"host", "httphost", "servername", "vhost", "requesthost"},
	// the request's Content-Type: nginx's $content_type, Caddy's and
	// Traefik's request header.
	mime: []string{"contenttype", "httpcontenttype", "requestheaderscontenttype", "requestcontenttype"},
}

// jsonObject is an access-log object by folded key path, scalar values only
// (as text; of a list of scalars, as Caddy logs headers, the first). Each
// value keeps its key path as written, for messages.
type jsonObject map[string][2]string

func foldKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '_' || c == '-' || c == '.' || c == '@':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func newJSONObject(m map[string]any) jsonObject {
	o := make(jsonObject, len(m))
	o.add("", m, 0)
	return o
}

// add puts the scalars of m under prefix, nested objects to a small depth.
func (o jsonObject) add(prefix string, m map[string]any, depth int) {
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		if s, ok := scalarText(v); ok {
			o[foldKey(path)] = [2]string{path, s}
		} else if sub, ok := v.(map[string]any); ok && depth < 3 {
			o.add(path, sub, depth+1)
		}
	}
}

// scalarText returns a JSON scalar as text: numbers as written (a decoder's
// json.Number) or without a needless fraction (float64).
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// get returns the first present value of keys ("" for nginx's empty "-")
// and its key as written.
func (o jsonObject) get(keys []string) (value, key string) {
	for _, k := range keys {
		if kv, ok := o[k]; ok {
			if kv[1] == "-" {
				return "", kv[0]
			}
			return kv[1], kv[0]
		}
	}
	return "", ""
}

func (o jsonObject) has(keys []string) bool {
	_, k := o.get(keys)
	return k != ""
}

// IsJSON reports whether a decoded JSON object has an access log's shape: a
// status and a request (a request line, or a method and a URI), as scalar
// values. Windows events and ECS documents do not.
func IsJSON(m map[string]any) bool { return newJSONObject(m).isAccess() }

func (o jsonObject) isAccess() bool {
	return o.has(jsonKeys.status) && (o.has(jsonKeys.request) || o.has(jsonKeys.method) && (o.has(jsonKeys.target) || o.has(jsonKeys.path)))
}

// MatchJSON maps m when it has an access log's shape (IsJSON), folding its
// keys once for both; ok is false, with nothing mapped, when it has not.
func MatchJSON(m map[string]any, opts ...Option) (doc map[string]any, ok bool, err error) {
	o := newJSONObject(m)
	if !o.isAccess() {
		return nil, false, nil
	}
	doc, err = o.doc(opts)
	return doc, true, err
}

// ParseJSON parses one access log line written as a JSON object (nginx's
// log_format ... escape=json, or Apache's LogFormat writing JSON) into a
// nested ECS document like ParseCombined's. Keys are matched as jsonKeys
// says; other keys are left out. A line written without escape=json, whose
// nginx \xHH escapes are not JSON, is read too. Default server: nginx.
func ParseJSON(line string, opts ...Option) (map[string]any, error) {
	line = strings.TrimRight(line, "\r\n")
	var m map[string]any
	err := json.Unmarshal([]byte(line), &m)
	if err != nil && strings.Contains(line, `\x`) {
		err = json.Unmarshal([]byte(nginxEscapes(line)), &m)
	}
	if err != nil {
		return nil, perr(0, "not a JSON object: %v", err)
	}
	return FromJSON(m, opts...)
}

// nginxEscapes turns nginx's default escapes (\xHH, for '"', '\' and bytes
// outside printable ASCII) into JSON: \u00HH below 0x80, else the raw byte
// (the bytes of a UTF-8 character; json.Unmarshal makes a bad one U+FFFD).
func nginxEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			if c := unhex(s[i+2])<<4 | unhex(s[i+3]); c < 0x80 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
			i += 3
			continue
		}
		if s[i] == '\\' && i+1 < len(s) { // keep a JSON escape whole
			b.WriteByte(s[i])
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FromJSON maps a decoded JSON access log object (see ParseJSON).
func FromJSON(m map[string]any, opts ...Option) (map[string]any, error) {
	return newJSONObject(m).doc(opts)
}

func (o jsonObject) doc(opts []Option) (map[string]any, error) {
	var c clf
	if err := c.fromJSON(o); err != nil {
		return nil, err
	}
	opt := buildOptions("nginx", opts)
	if !opt.named {
		opt.server = jsonServer(o, opt.server)
	}
	return c.doc(opt), nil
}

// jsonServer tells Caddy's and Traefik's objects by keys only they write.
func jsonServer(o jsonObject, def string) string {
	if logger, _ := o.get([]string{"logger"}); strings.HasPrefix(logger, "http.log.access") {
		return "caddy"
	}
	if o.has([]string{"entrypointname"}) && o.has([]string{"routername"}) {
		return "traefik"
	}
	return def
}

func (c *clf) fromJSON(o jsonObject) error {
	if !o.has(jsonKeys.status) {
		return perr(0, "JSON object has no status key (%s; case and _-.@ ignored)", strings.Join(jsonKeys.status, ", "))
	}
	st, key := o.get(jsonKeys.status)
	n, err := strconv.ParseInt(st, 10, 64)
	if err != nil || n < 100 || n > 999 {
		return perr(0, "%s %q is not a 3-digit HTTP status", key, detection.Clip(st, 20))
	}
	c.status = n
	if err := c.jsonTime(o); err != nil {
		return err
	}
	if err := c.jsonRequest(o); err != nil {
		return err
	}
	c.client, _ = o.get(jsonKeys.client)
	c.user, _ = o.get(jsonKeys.user)
	c.referrer, _ = o.get(jsonKeys.referrer)
	c.agent, _ = o.get(jsonKeys.agent)
	c.vhost, _ = o.get(jsonKeys.vhost)
	c.mime, _ = o.get(jsonKeys.mime)
	if x, _ := o.get(jsonKeys.xff); x != "" {
		c.xff = ipList(x)
	}
	if b, key := o.get(jsonKeys.bytes); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return perr(0, "%s %q is not a number or \"-\"", key, detection.Clip(b, 20))
		}
		c.bytes, c.hasBytes = n, true
	}
	return nil
}

// jsonTime reads the first time key: $time_local's "dd/Mon/yyyy:hh:mm:ss
// +zzzz", RFC 3339 ($time_iso8601, @timestamp) or Unix seconds ($msec).
func (c *clf) jsonTime(o jsonObject) error {
	s, key := o.get(jsonKeys.time)
	if key == "" {
		return perr(0, "JSON object has no time key (%s; case and _-.@ ignored)", strings.Join(jsonKeys.time, ", "))
	}
	for _, layout := range []string{clfTime, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			c.stamp = t.UTC()
			return nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e11 {
		sec, frac := math.Modf(f)
		c.stamp = time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()
		return nil
	}
	return perr(0, "%s %q is not a time (dd/Mon/yyyy:hh:mm:ss +zzzz, RFC 3339 or Unix seconds)", key, detection.Clip(s, 40))
}

// jsonRequest reads the request line ($request), else its parts: method,
// target ($request_uri, with the query) or path and query ($uri, $args)
// and protocol.
func (c *clf) jsonRequest(o jsonObject) error {
	if req, key := o.get(jsonKeys.request); key != "" {
		err := c.parseRequest(req, 0)
		var pe *ParseError
		if errors.As(err, &pe) {
			return perr(0, "%s: %s", key, pe.Msg) // a column of the value, not of the line
		}
		return err
	}
	c.method, _ = o.get(jsonKeys.method)
	target, _ := o.get(jsonKeys.target)
	if target == "" {
		target, _ = o.get(jsonKeys.path)
		if q, _ := o.get(jsonKeys.query); q != "" && target != "" {
			target += "?" + q
		}
	}
	if c.method == "" && target == "" {
		return perr(0, "JSON object has no request key (%s, or %s with %s)", strings.Join(jsonKeys.request, ", "),
			strings.Join(jsonKeys.method, "/"), strings.Join(append(jsonKeys.target, jsonKeys.path...), "/"))
	}
	c.target = target
	proto, _ := o.get(jsonKeys.protocol)
	c.version = strings.TrimPrefix(proto, "HTTP/")
	return nil
}
