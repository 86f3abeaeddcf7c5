package container

import (
	"cmp"
	"path"
	"regexp"
	"strings"

	"webshellbeat/module/accesslog"
	"webshellbeat/module/errorlog"
)

// Decoder maps the lines of one web server container's output to ECS, in
// order:
//
//   - an access log line (combined or common, or a JSON object) is the
//     server's access event, at the request's own time;
//   - an Apache, nginx or php-fpm log line is the server's error event;
//   - any other line is the server's output (errorlog.Output, tags:
//     unprefixed): what mod_php's commands write to standard error (or
//     php-fpm's workers', which the php:fpm image passes on as they are),
//     the image's start-up messages. Every line of the file is something
//     the container wrote, so no line is "damaged".
//
// Error and output events take the runtime's time: error log lines have no
// zone, and the runtime's time has one, and nanoseconds.
type Decoder struct {
	server string
	errors errorlog.Parser
}

// NewDecoder returns a Decoder for the lines of one container. server is
// apache, nginx or php_fpm (or another name accesslog takes: tomcat,
// caddy, ...); "" learns it from the error log lines (the httpd, nginx and
// php:fpm images all log one at start-up) and reads access lines as
// Apache's until then.
func NewDecoder(server string) *Decoder {
	d := &Decoder{server: server}
	if server == errorlog.Apache || server == errorlog.Nginx || server == errorlog.PHPFPM {
		d.errors.Server = server
	}
	return d
}

// Decode maps one line; a blank line is no event (nil).
func (d *Decoder) Decode(l Line) map[string]any {
	text := l.Text
	if strings.TrimSpace(text) == "" {
		return nil
	}
	server := d.server
	if server == "" || server == errorlog.PHPFPM {
		server = d.errors.WebServer() // php-fpm writes no access lines: a web server beside it does
	}
	if doc, err := accesslog.ParseCombined(text, accesslog.WithServer(server)); err == nil {
		return withStream(doc, l)
	}
	if strings.HasPrefix(text, "{") {
		if doc, err := accesslog.ParseJSON(text, accesslog.WithServer(server)); err == nil {
			return withStream(doc, l)
		}
	}
	d.errors.DateBy(l.Time) // an output line before any error line
	doc, err := d.errors.Parse(text)
	if err != nil {
		doc = errorlog.Output(text, cmp.Or(d.errors.KnownServer(), d.server), l.Time)
	}
	doc["@timestamp"] = l.Time
	return withStream(doc, l)
}

// withStream records the stream in the top-level stream field, as
// filebeat's container parser does (when it is told).
func withStream(doc map[string]any, l Line) map[string]any {
	if l.Stream != "" {
		doc["stream"] = l.Stream
	}
	return doc
}

// Kubernetes names a container's log /var/log/containers/<pod>_<namespace>_<container>-<id>.log,
// a link to /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restarts>.log
// (rotated: .log.<yyyymmdd-hhmmss>[.gz]); Docker, /var/lib/docker/containers/<id>/<id>-json.log[.n].
var (
	kubernetesName = regexp.MustCompile(`^([a-z0-9][-a-z0-9.]*)_([a-z0-9][-a-z0-9]*)_(.+)-([0-9a-f]{64})\.log$`)
	podPath        = regexp.MustCompile(`(?:^|/)([a-z0-9][-a-z0-9]*)_([a-z0-9][-a-z0-9.]*)_[-0-9a-f]+/([^/]+)/\d+\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$`)
	dockerName     = regexp.MustCompile(`^([0-9a-f]{64})-json\.log`)
)

// FromPath returns what a log file's path says of its container, in the
// fields add_kubernetes_metadata and add_docker_metadata set (container.id,
// container.name, kubernetes.pod.name, kubernetes.namespace), or nil.
func FromPath(p string) map[string]any {
	p = strings.ReplaceAll(p, `\`, "/")
	base := path.Base(p)
	if m := kubernetesName.FindStringSubmatch(base); m != nil {
		return map[string]any{
			"container":  map[string]any{"id": m[4], "name": m[3]},
			"kubernetes": map[string]any{"pod": map[string]any{"name": m[1]}, "namespace": m[2]},
		}
	}
	if m := podPath.FindStringSubmatch(p); m != nil { // no container id in these names
		return map[string]any{
			"container":  map[string]any{"name": m[3]},
			"kubernetes": map[string]any{"pod": map[string]any{"name": m[2]}, "namespace": m[1]},
		}
	}
	if m := dockerName.FindStringSubmatch(base); m != nil {
		return map[string]any{"container": map[string]any{"id": m[1]}}
	}
	return nil
}
