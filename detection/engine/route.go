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

// sysmonCategories are the Sigma categories of Sysmon event ids other than
// 1, 3 and 11 (which the ECS categories already give), as in Sigma's own
// Sysmon mapping: registry events are registry_event and their own kind.
var sysmonCategories = map[string][]string{
	"5":  {"process_termination"},
	"6":  {"driver_load"},
	"7":  {"image_load"},
	"8":  {"create_remote_thread"},
	"9":  {"raw_access_thread"},
	"10": {"process_access"},
	"12": {"registry_add", "registry_delete", "registry_event"},
	"13": {"registry_set", "registry_event"},
	"14": {"registry_rename", "registry_event"},
	"15": {"create_stream_hash"},
	"17": {"pipe_created"},
	"18": {"pipe_created"},
	"19": {"wmi_event"},
	"20": {"wmi_event"},
	"21": {"wmi_event"},
	"22": {"dns_query"},
	"23": {"file_delete"},
	"25": {"process_tampering"},
	"26": {"file_delete"},
}

// channelServices maps Windows channels to Sigma services.
var channelServices = map[string]string{
	"Security":                             "security",
	"Microsoft-Windows-Sysmon/Operational": "sysmon",
	"System":                               "system",
	"Application":                          "application",
	"Microsoft-Windows-TaskScheduler/Operational":                        "taskscheduler",
	"Microsoft-Windows-WMI-Activity/Operational":                         "wmi",
	"Microsoft-Windows-PowerShell/Operational":                           "powershell",
	"Windows PowerShell":                                                 "powershell-classic",
	"Microsoft-Windows-Windows Defender/Operational":                     "windefend",
	"Microsoft-Windows-Bits-Client/Operational":                          "bits-client",
	"Microsoft-Windows-CodeIntegrity/Operational":                        "codeintegrity-operational",
	"Microsoft-Windows-DNS-Client/Operational":                           "dns-client",
	"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational": "terminalservices-localsessionmanager",
}

func init() {
	for _, cats := range sysmonCategories {
		for _, c := range cats {
			knownCategories[c] = true
		}
	}
	for _, s := range channelServices {
		knownServices[s] = true
	}
}

func ruleRoute(ls sigma.Logsource) (route, bool) {
	if ls.Category != "" && !knownCategories[ls.Category] || ls.Service != "" && !knownServices[ls.Service] {
		return route{}, false
	}
	return route{ls.Product, ls.Category, ls.Service}, true
}

// maxRoutes is the most routes one event can have, so they fit on the
// stack: (product, any) x (5 categories, any) x (2 services, any).
const maxRoutes = 2 * 6 * 3 // a Sysmon registry event has 3 categories: still within

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
	if detection.LookupString(doc, "winlog.channel") == "Microsoft-Windows-Sysmon/Operational" {
		dst = append(dst, sysmonCategories[detection.LookupString(doc, "event.code")]...)
	}
	return dst
}

func eventServices(doc map[string]any, dst []string) []string {
	if svc, ok := channelServices[detection.LookupString(doc, "winlog.channel")]; ok {
		dst = append(dst, svc)
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

// Routable reports whether events of logsource ls can reach a rule: a rule
// whose category or service webshellbeat never produces loads but never runs.
func Routable(ls sigma.Logsource) bool {
	_, ok := ruleRoute(ls)
	return ok
}

// RoutableCategory and RoutableService say which part of a logsource is
// missing from the routing tables, for reports.
func RoutableCategory(c string) bool { return c == "" || knownCategories[c] }

// RoutableService: see RoutableCategory.
func RoutableService(s string) bool { return s == "" || knownServices[s] }
