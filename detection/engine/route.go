package engine

import (
	"slices"
	"strings"

	"webshellbeat/detection/compile"
	"webshellbeat/detection/sigma"
)

// route is the logsource key of the index. Empty parts are wildcards of the
// rule ("any product"), so an event looks up every combination of its own
// values and "".
type route struct {
	product, category, service string
}

// sysmonCategories are the Sigma categories of Sysmon event ids other than
// 1, 3 and 11 (which the ECS categories already give), as in Sigma's own
// Sysmon mapping (pySigma's sysmon pipeline): registry events are
// registry_event and their own kind. One addition: 26 (a deletion logged
// without the copy that 23 archives) is file_delete as well as its own
// file_delete_detected, since SigmaHQ writes its deletion rules (IIS or
// Tomcat logs deleted) for file_delete only and many configurations log 26.
var sysmonCategories = map[string][]string{
	"2":   {"file_change"},
	"4":   {"sysmon_status"},
	"5":   {"process_termination"},
	"6":   {"driver_load"},
	"7":   {"image_load"},
	"8":   {"create_remote_thread"},
	"9":   {"raw_access_thread"},
	"10":  {"process_access"},
	"12":  {"registry_add", "registry_delete", "registry_event"},
	"13":  {"registry_set", "registry_event"},
	"14":  {"registry_rename", "registry_event"},
	"15":  {"create_stream_hash"},
	"16":  {"sysmon_status"},
	"17":  {"pipe_created"},
	"18":  {"pipe_created"},
	"19":  {"wmi_event"},
	"20":  {"wmi_event"},
	"21":  {"wmi_event"},
	"22":  {"dns_query"},
	"23":  {"file_delete"},
	"24":  {"clipboard_capture"},
	"25":  {"process_tampering"},
	"26":  {"file_delete", "file_delete_detected"},
	"27":  {"file_block_executable"},
	"28":  {"file_block_shredding"},
	"29":  {"file_executable_detected"},
	"255": {"sysmon_error"},
}

// powershellCategories are the Sigma categories of PowerShell events, by
// channel and event id, as in Sigma's Windows logsource mapping: script
// block logging (4104), module logging (4103), and the classic engine's
// start, provider start and pipeline execution events.
var powershellCategories = map[string]map[string]string{
	"Microsoft-Windows-PowerShell/Operational": {"4104": "ps_script", "4103": "ps_module"},
	"PowerShellCore/Operational":               {"4104": "ps_script", "4103": "ps_module"},
	"Windows PowerShell":                       {"400": "ps_classic_start", "600": "ps_classic_provider_start", "800": "ps_classic_script"},
}

// channelServices maps Windows channels to Sigma services.
var channelServices = map[string]string{
	"Security":                             "security",
	"Microsoft-Windows-Sysmon/Operational": "sysmon",
	"Linux-Sysmon/Operational":             "sysmon",
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

func ruleRoute(ls sigma.Logsource) (route, bool) {
	if !RoutableCategory(ls.Category) || !RoutableService(ls.Service) {
		return route{}, false
	}
	return route{ls.Product, ls.Category, ls.Service}, true
}

// source is what routing reads off an event: its product, and its
// categories and services as bitsets over names (see nameBits). It is the
// key of the engine's plans, so it is small and comparable, and its values
// are bounded: a product no rule names is "".
type source struct {
	product    string
	cats, svcs uint64
}

// nameBits numbers the categories or services an event can have, for source.
type nameBits struct {
	names []string
	bit   map[string]uint64
}

func (b *nameBits) add(name string) {
	if b.bit == nil {
		b.bit = map[string]uint64{}
	}
	if _, ok := b.bit[name]; !ok && len(b.names) < 64 {
		b.bit[name] = 1 << len(b.names)
		b.names = append(b.names, name)
	}
}

// set returns the names of mask, in numbering order.
func (b *nameBits) set(mask uint64) []string {
	var out []string
	for i, n := range b.names {
		if mask&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// moduleServices are the event.module values that are Sigma services.
var moduleServices = []string{"auditd", "apache", "nginx", "iis"}

// categoryBits and serviceBits are the categories and services an ECS
// document can be recognised as. A rule with another one still loads and is
// counted, but never runs.
var categoryBits, serviceBits nameBits

func init() {
	for _, c := range []string{"process_creation", "network_connection", "file_event", "file_creation", "webserver"} {
		categoryBits.add(c)
	}
	for _, s := range moduleServices {
		serviceBits.add(s)
	}
	for _, cats := range sysmonCategories {
		for _, c := range cats {
			categoryBits.add(c)
		}
	}
	for _, byCode := range powershellCategories {
		for _, c := range byCode {
			categoryBits.add(c)
		}
	}
	for _, s := range channelServices {
		serviceBits.add(s)
	}
}

// routeFields are the interned ids of the fields routing reads, so that
// they come from the event's field cache (rules read most of them too).
type routeFields struct {
	osType, category, typ, outcome, channel, code, module int
	destIP, sourceIP, action                              int
}

func newRouteFields(f *compile.Fields) routeFields {
	return routeFields{
		osType: f.ID("host.os.type"), category: f.ID("event.category"), typ: f.ID("event.type"), outcome: f.ID("event.outcome"),
		channel: f.ID("winlog.channel"), code: f.ID("event.code"), module: f.ID("event.module"),
		destIP: f.ID("destination.ip"), sourceIP: f.ID("source.ip"), action: f.ID("event.action"),
	}
}

// eventSource reads the routing fields of ev. products are the products
// that some rule names.
func (rf routeFields) eventSource(ev *compile.Event, products map[string]bool) source {
	var src source
	if p := strings.ToLower(stringValue(ev, rf.osType)); products[p] {
		src.product = p
	}
	cat, _ := ev.Value(rf.category)
	typ, _ := ev.Value(rf.typ)
	// A failed execve (audit logs) has a start's shape but created no
	// process: Sigma's process_creation is Sysmon 1 and 4688, successes only
	// (detection.IsProcessStart).
	if has(cat, "process") && has(typ, "start") && stringValue(ev, rf.outcome) != "failure" {
		src.cats |= categoryBits.bit["process_creation"]
	}
	// Sigma's network_connection is Sysmon 3's: TCP and UDP between IP
	// addresses. A Unix socket's connect (audit: destination.path) is local
	// IPC, and rules written for IP connections (bash, not to 127.0.0.1)
	// would take every one for a remote one.
	if has(cat, "network") && (stringValue(ev, rf.destIP) != "" || stringValue(ev, rf.sourceIP) != "") {
		src.cats |= categoryBits.bit["network_connection"]
	}
	// Sigma's file_event is Sysmon 11's, which logs a file created or
	// overwritten. The audit mapper tells an open for writing of a file that
	// exists (event.type change, go-libaudit's action opened-file, as for a
	// truncate) from a creation: both are file events here. Otherwise a web
	// shell's PHP that backdoors a page in place (file_put_contents on
	// index.php) or appends to a .htaccess reached no file rule. A chmod or
	// chown (also a change) is not: Sysmon logs neither, and an upload's
	// chmod would be a second alert for one file.
	if has(cat, "file") && (has(typ, "creation") || has(typ, "change") && stringValue(ev, rf.action) == "opened-file") {
		src.cats |= categoryBits.bit["file_event"] | categoryBits.bit["file_creation"]
	}
	// Sigma's webserver category is the access log; an error log line
	// (event.type error) is only its server's service, as SigmaHQ's
	// apache and nginx rules expect.
	if has(cat, "web") && !has(typ, "error") {
		src.cats |= categoryBits.bit["webserver"]
	}
	channel := stringValue(ev, rf.channel)
	svc, ok := channelServices[channel]
	if ok {
		src.svcs |= serviceBits.bit[svc]
	}
	if svc == "sysmon" { // Sysmon for Windows or Linux: the same event ids
		for _, c := range sysmonCategories[stringValue(ev, rf.code)] {
			src.cats |= categoryBits.bit[c]
		}
	}
	if byCode, ok := powershellCategories[channel]; ok {
		src.cats |= categoryBits.bit[byCode[stringValue(ev, rf.code)]]
	}
	if m := stringValue(ev, rf.module); slices.Contains(moduleServices, m) {
		src.svcs |= serviceBits.bit[m]
	}
	return src
}

func stringValue(ev *compile.Event, id int) string {
	v, _ := ev.Value(id)
	s, _ := v.(string)
	return s
}

// routes lists the index keys of src: every combination of its product,
// categories and services with "" (the rule's wildcard).
func (src source) routes() []route {
	products := []string{""}
	if src.product != "" {
		products = append(products, src.product)
	}
	cats := append([]string{""}, categoryBits.set(src.cats)...)
	svcs := append([]string{""}, serviceBits.set(src.svcs)...)
	var out []route
	for _, p := range products {
		for _, c := range cats {
			for _, s := range svcs {
				out = append(out, route{p, c, s})
			}
		}
	}
	return out
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
func RoutableCategory(c string) bool { return c == "" || categoryBits.bit[c] != 0 }

// RoutableService: see RoutableCategory.
func RoutableService(s string) bool { return s == "" || serviceBits.bit[s] != 0 }
