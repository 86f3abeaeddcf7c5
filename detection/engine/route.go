package engine

import (
	"strings"

	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
)

// route is the logsource key of the index. Empty parts are wildcards of the
// rule ("any product"), so an event looks up every combination of its own
// values and "".
type route struct {
	product, category, service string
}

// Categories and services an ECS document can be recognised as. A rule with
// another one still loads and is counted, but never runs.
var (
	knownCategories = map[string]bool{"process_creation": true, "network_connection": true, "file_event": true, "file_creation": true, "webserver": true}
	knownServices   = map[string]bool{"security": true, "sysmon": true, "auditd": true, "apache": true, "nginx": true, "iis": true}
)

func ruleRoute(ls sigma.Logsource) (route, bool) {
	if ls.Category != "" && !knownCategories[ls.Category] || ls.Service != "" && !knownServices[ls.Service] {
		return route{}, false
	}
	return route{ls.Product, ls.Category, ls.Service}, true
}

// maxRoutes is the most routes one event can have, so they fit on the
// stack: (product, any) x (5 categories, any) x (2 services, any).
const maxRoutes = 2 * 6 * 3

// eventRoutes appends the index keys an event belongs to.
func eventRoutes(doc map[string]any, dst []route) []route {
	var cats [4]string
	var svcs [2]string
	categories := eventCategories(doc, cats[:0])
	services := eventServices(doc, svcs[:0])
	product := strings.ToLower(detection.LookupString(doc, "host.os.type"))
	products := [2]string{"", product}
	np := 2
	if product == "" {
		np = 1
	}
	for _, p := range products[:np] {
		for ci := -1; ci < len(categories); ci++ {
			c := ""
			if ci >= 0 {
				c = categories[ci]
			}
			for si := -1; si < len(services); si++ {
				s := ""
				if si >= 0 {
					s = services[si]
				}
				dst = append(dst, route{p, c, s})
			}
		}
	}
	return dst
}

func eventCategories(doc map[string]any, dst []string) []string {
	cat, _ := detection.Lookup(doc, "event.category")
	typ, _ := detection.Lookup(doc, "event.type")
	if has(cat, "process") && has(typ, "start") {
		dst = append(dst, "process_creation")
	}
	if has(cat, "network") {
		dst = append(dst, "network_connection")
	}
	if has(cat, "file") && has(typ, "creation") {
		dst = append(dst, "file_event", "file_creation")
	}
	if has(cat, "web") {
		dst = append(dst, "webserver")
	}
	return dst
}

func eventServices(doc map[string]any, dst []string) []string {
	switch detection.LookupString(doc, "winlog.channel") {
	case "Security":
		dst = append(dst, "security")
	case "Microsoft-Windows-Sysmon/Operational":
		dst = append(dst, "sysmon")
	}
	switch m := detection.LookupString(doc, "event.module"); m {
	case "auditd", "apache", "nginx", "iis":
		dst = append(dst, m)
	}
	return dst
}

// has reports whether v (a string, []string or []any) holds want.
func has(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case []string:
		for _, s := range x {
			if s == want {
				return true
			}
		}
	case []any:
		for _, s := range x {
			if s == want {
				return true
			}
		}
	}
	return false
}
