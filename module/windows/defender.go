package windows

import "strings"

// ChannelDefender is Microsoft Defender Antivirus's event log.
const ChannelDefender = "Microsoft-Windows-Windows Defender/Operational"

// defenderDetections are Defender's events about one detected threat: found
// (1006), suspicious behaviour (1015), detected (1116), acted on (1117),
// action failed (1118, 1119).
var defenderDetections = map[uint32]bool{1006: true, 1015: true, 1116: true, 1117: true, 1118: true, 1119: true}

// isDefenderDetection reports whether r is one of defenderDetections.
func (r *Record) isDefenderDetection() bool {
	return strings.EqualFold(r.Channel, ChannelDefender) && defenderDetections[r.EventID]
}

// defender maps a detection event's threat, file, process and user to ECS,
// so that rules on file.path and process.* (the web-root and web-server
// checks) read them as they read Sysmon's. Defender names its fields with
// spaces ("Threat Name"); they stay in winlog.event_data as written.
func (m *mapper) defender() {
	m.event([]string{"malware"}, []string{"info"}, "malware-detected")
	if f := defenderFile(m.val("Path")); f != "" {
		file := m.obj("file")
		file["path"] = f
		dir, base := winSplit(f)
		m.setStr(file, "directory", dir)
		m.setStr(file, "name", base)
		m.setStr(file, "extension", winExt(base))
	}
	if exe := m.val("Process Name"); exe != "" && !strings.EqualFold(exe, "Unknown") {
		m.process(m.obj("process"), exe, "", "", "")
	}
	m.domainUser(m.val("Detection User"))
}

// defenderFile returns the first file of Defender's Path, a list of
// resources ("file:_C:\a.aspx; file:_C:\b.aspx", "containerfile:_...",
// "file:_C:\x.zip->y.aspx" for a file inside an archive, whose archive
// is the file on disk).
func defenderFile(resources string) string {
	for _, r := range strings.Split(resources, ";") {
		if f, ok := strings.CutPrefix(strings.TrimSpace(r), "file:_"); ok {
			f, _, _ = strings.Cut(f, "->")
			return f
		}
	}
	return ""
}
