// Package osinputs names the inputs (and processors) that only one operating
// system's build of the beat has (see beater/inputs_windows.go and inputs_other.go), for
// the packages, which ship only the modules their build can run, and for
// the beat, which names a module it cannot run before filebeat does.
package osinputs

// Input is an input that one GOOS's build has.
type Input struct {
	GOOS    string // the build that has it
	Reads   string
	Instead string // what to use on other systems
}

var only = map[string]Input{
	"winlog": {"windows", "the live Windows event log", "elsewhere, read exported events: EVTX files (module evtx) or event XML and JSON (module windows_text)"},
	"auditd": {"linux", "Linux audit", "elsewhere, hunt reads audit.log files (webshellbeat hunt)"},
}

// Missing returns the input of type t when the build for goos lacks it.
func Missing(t, goos string) (Input, bool) {
	in, ok := only[t]
	return in, ok && in.GOOS != goos
}

// processorOnly are the processors that only one GOOS's build registers
// (processor/auditd.go is built on Unix only, as the auditd input is): a
// module that uses one (laurel) ships with that build only.
var processorOnly = map[string]string{"decode_auditd": "linux"}

// MissingProcessor reports whether the build for goos lacks processor name,
// and the GOOS whose build has it.
func MissingProcessor(name, goos string) (only string, missing bool) {
	only, ok := processorOnly[name]
	return only, ok && only != goos
}
