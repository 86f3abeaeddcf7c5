package windows

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// ECS maps the record to a nested ECS document (never dotted keys). Values
// are strings, int64 (pids, ports), bool, []string or time.Time
// (@timestamp). The common fields are always present; process, network
// and file fields are added for Sysmon 1/3/11 and Security 4688, and
// network fields for Security 5156/5157 (a connection the Windows Filtering
// Platform permitted or blocked: a host without Sysmon has no other).
func (r *Record) ECS() map[string]any {
	doc := map[string]any{}
	if !r.TimeCreated.IsZero() {
		doc["@timestamp"] = r.TimeCreated.UTC()
	}
	module, dataset := r.moduleDataset()
	event := map[string]any{
		"kind":     "event",
		"code":     strconv.FormatUint(uint64(r.EventID), 10),
		"module":   module,
		"dataset":  dataset,
		"provider": r.Provider,
	}
	if r.Provider == "" {
		delete(event, "provider")
	}
	doc["event"] = event
	host := map[string]any{"os": map[string]any{"type": "windows", "family": "windows"}}
	if r.IsLinux() { // the distribution (host.os.family) is not in the event
		host["os"] = map[string]any{"type": "linux"}
	}
	if r.Computer != "" {
		host["name"] = r.Computer
	}
	doc["host"] = host
	if r.Message != "" {
		doc["message"] = r.Message
	}
	if lvl := levelName(r.Level); lvl != "" {
		doc["log"] = map[string]any{"level": lvl}
	}
	if r.Partial != "" {
		doc["error"] = map[string]any{"message": r.Partial}
	}

	winlog := map[string]any{
		"channel":       r.Channel,
		"computer_name": r.Computer,
		"event_id":      strconv.FormatUint(uint64(r.EventID), 10),
		"provider_name": r.Provider,
	}
	if r.RecordID != 0 {
		winlog["record_id"] = strconv.FormatUint(r.RecordID, 10)
	}
	if r.ProviderGUID != "" {
		winlog["provider_guid"] = r.ProviderGUID
	}
	if r.Version != 0 {
		winlog["version"] = int64(r.Version)
	}
	if r.ProcessID != 0 || r.ThreadID != 0 {
		p := map[string]any{"pid": int64(r.ProcessID)}
		if r.ThreadID != 0 {
			p["thread"] = map[string]any{"id": int64(r.ThreadID)}
		}
		winlog["process"] = p
	}
	if r.UserID != "" {
		winlog["user"] = map[string]any{"identifier": r.UserID}
	}
	if r.ActivityID != "" {
		winlog["activity_id"] = r.ActivityID
	}
	if len(r.EventData) > 0 {
		winlog["event_data"] = r.EventData.Map()
	}
	for k, v := range winlog {
		if s, ok := v.(string); ok && s == "" {
			delete(winlog, k)
		}
	}
	doc["winlog"] = winlog

	m := mapper{doc: doc, ed: r.EventData, linux: r.IsLinux()}
	switch {
	case r.IsSysmon():
		m.sysmon(r.EventID)
	case r.IsSecurity() && r.EventID == 4688:
		m.security4688()
	case r.IsSecurity() && (r.EventID == 5156 || r.EventID == 5157):
		m.securityConnection(r.EventID == 5156)
	case r.isDefenderDetection():
		m.defender()
	}
	return doc
}

func (r *Record) moduleDataset() (string, string) {
	switch {
	case r.IsLinux(): // as Elastic's Sysmon for Linux integration names it
		return "sysmon_linux", "sysmon_linux.log"
	case r.IsSysmon():
		return "sysmon", "windows.sysmon_operational"
	case r.IsSecurity():
		return "security", "windows.security"
	}
	return "windows", "windows." + datasetSuffix(r.Channel)
}

// datasetSuffix derives a dataset name from a channel the way the Windows
// integration names its data streams: "Microsoft-Windows-PowerShell/
// Operational" -> "powershell_operational".
func datasetSuffix(channel string) string {
	c := channel
	if len(c) >= len("Microsoft-Windows-") && strings.EqualFold(c[:len("Microsoft-Windows-")], "Microsoft-Windows-") {
		c = c[len("Microsoft-Windows-"):]
	}
	var b strings.Builder
	under := false
	for _, ch := range strings.ToLower(c) {
		if unicode.IsLetter(ch) || unicode.IsDigit(ch) {
			b.WriteRune(ch)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimSuffix(b.String(), "_")
	if s == "" {
		return "unknown"
	}
	return s
}

func levelName(l uint8) string {
	switch l {
	case 1:
		return "critical"
	case 2:
		return "error"
	case 3:
		return "warning"
	case 4:
		return "information"
	case 5:
		return "verbose"
	}
	return ""
}

type mapper struct {
	doc map[string]any
	ed  EventData
	// linux: the event is from Sysmon for Linux, whose command lines are
	// argv joined with spaces (see process).
	linux bool
}

// val returns the EventData value, treating blank and "-" as absent. A
// value is kept as the event has it, spaces included: Sigma rules match the
// raw value (SigmaHQ's "CommandLine|contains: ' /s '" matches a command line
// that starts with " /s ", as regsvr32's own child has it), and a trailing
// space after an image name is a known way to dodge "endswith" checks that
// the alert should show as it was.
func (m *mapper) val(key string) string {
	v := m.ed.Value(key)
	if t := strings.TrimSpace(v); t == "" || t == "-" {
		return ""
	}
	return v
}

// obj returns the nested map at path, creating it.
func (m *mapper) obj(path ...string) map[string]any {
	cur := m.doc
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	return cur
}

func (m *mapper) setStr(obj map[string]any, key, v string) {
	if v != "" {
		obj[key] = v
	}
}

func (m *mapper) setNum(obj map[string]any, key, v string) {
	if n, ok := parseUint(v, 63); ok {
		obj[key] = int64(n)
	}
}

func (m *mapper) event(category []string, typ []string, action string) {
	e := m.obj("event")
	e["category"] = category
	e["type"] = typ
	if action != "" {
		e["action"] = action
	}
}

// process fills process (or process.parent) from an executable path, a
// pid, a command line and a GUID.
func (m *mapper) process(p map[string]any, exe, pid, cmd, guid string) {
	m.setStr(p, "executable", exe)
	if exe != "" {
		m.setStr(p, "name", winBase(exe))
	}
	m.setNum(p, "pid", pid)
	if cmd != "" {
		p["command_line"] = cmd
		args := SplitCommandLine
		if m.linux {
			// Sysmon for Linux joins /proc/<pid>/cmdline with spaces: the
			// argument boundaries are gone, and quotes are the arguments'
			// own characters, not Windows quoting.
			args = strings.Fields
		}
		if args := args(cmd); len(args) > 0 {
			p["args"] = args
			p["args_count"] = int64(len(args))
		}
	}
	if g := strings.Trim(guid, "{}"); g != "" {
		p["entity_id"] = g
	}
}

func (m *mapper) sysmon(id uint32) {
	switch id {
	case 1:
		m.event([]string{"process"}, []string{"start"}, "Process Create (rule: ProcessCreate)")
		p := m.obj("process")
		m.process(p, m.val("Image"), m.val("ProcessId"), m.val("CommandLine"), m.val("ProcessGuid"))
		m.setStr(p, "working_directory", m.val("CurrentDirectory"))
		pe := map[string]any{}
		m.setStr(pe, "original_file_name", m.val("OriginalFileName"))
		m.setStr(pe, "company", m.val("Company"))
		m.setStr(pe, "description", m.val("Description"))
		m.setStr(pe, "product", m.val("Product"))
		m.setStr(pe, "file_version", m.val("FileVersion"))
		hashes, imphash := splitHashes(m.val("Hashes"))
		if imphash != "" {
			pe["imphash"] = imphash
		}
		if len(pe) > 0 {
			p["pe"] = pe
		}
		if len(hashes) > 0 {
			p["hash"] = hashes
		}
		parent := map[string]any{}
		m.process(parent, m.val("ParentImage"), m.val("ParentProcessId"), m.val("ParentCommandLine"), m.val("ParentProcessGuid"))
		if len(parent) > 0 {
			p["parent"] = parent
		}
		m.sysmonUser()
	case 3:
		m.event([]string{"network"}, []string{"connection", "start"}, "Network connection detected (rule: NetworkConnect)")
		m.process(m.obj("process"), m.val("Image"), m.val("ProcessId"), "", m.val("ProcessGuid"))
		ips := m.endpoints("Destination", "Ip")
		n := map[string]any{}
		m.setStr(n, "transport", strings.ToLower(m.val("Protocol")))
		if in := m.val("Initiated"); in != "" {
			if strings.EqualFold(in, "true") {
				n["direction"] = "egress"
			} else {
				n["direction"] = "ingress"
			}
		}
		switch strings.ToLower(m.val("SourceIsIpv6")) {
		case "true":
			n["type"] = "ipv6"
		case "false":
			n["type"] = "ipv4"
		}
		if len(n) > 0 {
			m.doc["network"] = n
		}
		if len(ips) > 0 {
			m.obj("related")["ip"] = ips
		}
		m.sysmonUser()
	case 11:
		m.event([]string{"file"}, []string{"creation"}, "File created (rule: FileCreate)")
		m.process(m.obj("process"), m.val("Image"), m.val("ProcessId"), "", m.val("ProcessGuid"))
		m.targetFile()
		m.sysmonUser()
	default:
		// Every other Sysmon event names the process it is about (image
		// loads, process access, registry, pipes, DNS...): map it so that
		// rules on Image and ProcessId see it, as for events 1, 3 and 11.
		if image := m.val("Image"); image != "" {
			m.process(m.obj("process"), image, m.val("ProcessId"), "", m.val("ProcessGuid"))
			m.sysmonUser()
		}
		// The file events other than 11 (23 and 26 a deletion, 15 a
		// stream, 2 a time change, 27 to 29) name their file as 11 does:
		// Sigma's TargetFilename is file.path for all of them. Without it,
		// SigmaHQ's file_delete rules (IIS or Tomcat logs deleted) could
		// never fire.
		m.targetFile()
	}
}

// targetFile maps TargetFilename to file.path, name, directory and
// extension.
func (m *mapper) targetFile() {
	path := m.val("TargetFilename")
	if path == "" {
		return
	}
	f := m.obj("file")
	f["path"] = path
	dir, name := winSplit(path)
	m.setStr(f, "name", name)
	m.setStr(f, "directory", dir)
	if ext := winExt(name); ext != "" {
		f["extension"] = ext
	}
}

// sysmonUser maps Sysmon's "DOMAIN\name" User field.
func (m *mapper) sysmonUser() {
	if name := m.domainUser(m.val("User")); name != "" {
		m.obj("related")["user"] = []string{name}
	}
}

// domainUser sets user.name and user.domain from a DOMAIN\name account, and
// returns the name.
func (m *mapper) domainUser(account string) string {
	if account == "" {
		return ""
	}
	domain, name := "", account
	if i := strings.LastIndexByte(account, '\\'); i >= 0 {
		domain, name = account[:i], account[i+1:]
	}
	user := m.obj("user")
	m.setStr(user, "name", name)
	m.setStr(user, "domain", domain)
	return name
}

func (m *mapper) security4688() {
	m.event([]string{"process"}, []string{"start"}, "created-process")
	p := m.obj("process")
	m.process(p, m.val("NewProcessName"), m.val("NewProcessId"), m.val("CommandLine"), "")
	parent := map[string]any{}
	m.process(parent, m.val("ParentProcessName"), m.val("ProcessId"), "", "")
	if len(parent) > 0 {
		p["parent"] = parent
	}
	name, domain, sid := m.val("TargetUserName"), m.val("TargetDomainName"), m.val("TargetUserSid")
	if name == "" {
		name, domain, sid = m.val("SubjectUserName"), m.val("SubjectDomainName"), m.val("SubjectUserSid")
	}
	user := map[string]any{}
	m.setStr(user, "name", name)
	m.setStr(user, "domain", domain)
	if sid != "" && sid != "S-1-0-0" {
		user["id"] = sid
	}
	if len(user) > 0 {
		m.doc["user"] = user
	}
	var related []string
	for _, k := range []string{"SubjectUserName", "TargetUserName"} {
		if v := m.val(k); v != "" {
			related = appendUnique(related, v)
		}
	}
	if len(related) > 0 {
		m.obj("related")["user"] = related
	}
}

// securityConnection maps 5156 (the Windows Filtering Platform permitted a
// connection) or 5157 (it blocked one). Application is the image as a
// device path (\device\harddiskvolume2\windows\...\w3wp.exe), kept as is:
// the volume's drive letter is not in the event. Direction and protocol
// are codes (%%14593 is Outbound, 6 is TCP) unless a renderer wrote them
// out.
func (m *mapper) securityConnection(permitted bool) {
	typ, action := []string{"connection", "allowed", "start"}, "permitted-connection"
	if !permitted {
		typ, action = []string{"connection", "denied"}, "blocked-connection"
		m.obj("event")["outcome"] = "failure"
	}
	m.event([]string{"network"}, typ, action)
	m.process(m.obj("process"), m.val("Application"), m.val("ProcessID"), "", "")
	ips := m.endpoints("Dest", "Address")
	n := map[string]any{}
	switch d := m.val("Direction"); {
	case d == "%%14593" || strings.EqualFold(d, "Outbound"):
		n["direction"] = "egress"
	case d == "%%14592" || strings.EqualFold(d, "Inbound"):
		n["direction"] = "ingress"
	}
	if proto := m.val("Protocol"); proto != "" {
		n["iana_number"] = proto
		m.setStr(n, "transport", ianaTransport[proto])
	}
	if len(ips) > 0 {
		if ip, err := netip.ParseAddr(ips[0]); err == nil && ip.Is6() {
			n["type"] = "ipv6"
		} else if err == nil {
			n["type"] = "ipv4"
		}
		m.obj("related")["ip"] = ips
	}
	if len(n) > 0 {
		m.doc["network"] = n
	}
}

// endpoints maps source.* and destination.* of a connection from the
// EventData fields Source<ip>, SourcePort, SourceHostname and their
// destination twins (Sysmon: DestinationIp; 5156: DestAddress), and
// returns the addresses, for related.ip.
func (m *mapper) endpoints(destPrefix, ip string) []string {
	var ips []string
	for _, side := range []struct{ obj, prefix string }{{"source", "Source"}, {"destination", destPrefix}} {
		o := map[string]any{}
		if addr, ok := cleanIP(m.val(side.prefix + ip)); ok {
			o["ip"] = addr
			ips = appendUnique(ips, addr)
		}
		m.setNum(o, "port", m.val(side.prefix+"Port"))
		m.setStr(o, "domain", m.val(side.prefix+"Hostname"))
		if len(o) > 0 {
			m.doc[side.obj] = o
		}
	}
	return ips
}

// ianaTransport names the IP protocols a connection event gives as numbers.
var ianaTransport = map[string]string{"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}

// splitHashes reads Sysmon's "SHA1=..,MD5=..,SHA256=..,IMPHASH=.." into
// lowercase hex values; IMPHASH is returned apart (it is process.pe.imphash).
func splitHashes(s string) (map[string]any, string) {
	if s == "" {
		return nil, ""
	}
	out := map[string]any{}
	imphash := ""
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
		switch k {
		case "md5", "sha1", "sha256", "sha384", "sha512":
			out[k] = v
		case "imphash":
			imphash = v
		}
	}
	return out, imphash
}

func cleanIP(s string) (string, bool) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

func appendUnique(l []string, v string) []string {
	for _, x := range l {
		if x == v {
			return l
		}
	}
	return append(l, v)
}

// winSplit splits a Windows path at its last '\' or '/' (or the ':' of a
// drive-relative path such as "C:cmd.exe").
func winSplit(p string) (dir, base string) {
	i := strings.LastIndexAny(p, `\/`)
	if i < 0 {
		if len(p) >= 2 && p[1] == ':' {
			return p[:2], p[2:]
		}
		return "", p
	}
	dir = p[:i]
	if dir == "" || (len(dir) == 2 && dir[1] == ':') {
		dir = p[:i+1] // keep the root: "C:\"
	}
	return dir, p[i+1:]
}

func winBase(p string) string {
	_, b := winSplit(p)
	return b
}

// winExt returns the lowercase extension without the dot.
func winExt(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}

// SplitCommandLine splits a Windows command line like CommandLineToArgvW
// (and the Microsoft C runtime since 2008): the program name ends at the
// closing quote or the first space or tab, with no escapes; in the other
// arguments 2n backslashes before a quote give n backslashes and toggle
// quoting, 2n+1 give n backslashes and a literal quote, other backslashes
// are literal, and "" inside quotes is a literal quote.
func SplitCommandLine(cmd string) []string {
	var args []string
	i := 0
	// The program name.
	if cmd == "" {
		return nil
	}
	var b strings.Builder
	if cmd[0] == '"' {
		j := strings.IndexByte(cmd[1:], '"')
		if j < 0 {
			args = append(args, cmd[1:])
			return args
		}
		b.WriteString(cmd[1 : 1+j])
		i = 2 + j
		// Text glued to the closing quote belongs to the name.
		for i < len(cmd) && cmd[i] != ' ' && cmd[i] != '\t' {
			b.WriteByte(cmd[i])
			i++
		}
	} else {
		for i < len(cmd) && cmd[i] != ' ' && cmd[i] != '\t' {
			b.WriteByte(cmd[i])
			i++
		}
	}
	args = append(args, b.String())
	for {
		for i < len(cmd) && (cmd[i] == ' ' || cmd[i] == '\t') {
			i++
		}
		if i >= len(cmd) {
			return args
		}
		b.Reset()
		inQuote := false
		for i < len(cmd) {
			c := cmd[i]
			if (c == ' ' || c == '\t') && !inQuote {
				break
			}
			switch c {
			case '\\':
				n := 0
				for i < len(cmd) && cmd[i] == '\\' {
					n++
					i++
				}
				if i < len(cmd) && cmd[i] == '"' {
					b.WriteString(strings.Repeat(`\`, n/2))
					if n%2 == 1 {
						b.WriteByte('"')
						i++
					}
				} else {
					b.WriteString(strings.Repeat(`\`, n))
				}
			case '"':
				if inQuote && i+1 < len(cmd) && cmd[i+1] == '"' {
					b.WriteByte('"')
					i += 2
				} else {
					inQuote = !inQuote
					i++
				}
			default:
				b.WriteByte(c)
				i++
			}
		}
		args = append(args, b.String())
	}
}
