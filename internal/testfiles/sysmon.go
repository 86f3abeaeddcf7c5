package testfiles

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// SysmonEvent returns the one-line event XML of a Sysmon event, on Sysmon
// for Linux's channel when linux, with the given EventData names and values
// (name, value, name, value, ...; values escaped), as Sysmon writes it.
func SysmonEvent(linux bool, id int, at time.Time, computer string, data ...string) string {
	provider, channel := "Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational"
	if linux {
		provider, channel = "Linux-Sysmon", "Linux-Sysmon/Operational"
	}
	return Event(provider, channel, id, at, computer, data...)
}

// Event returns the one-line event XML of any provider's event on channel,
// with the given EventData names and values (values escaped).
func Event(provider, channel string, id int, at time.Time, computer string, data ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<Event><System><Provider Name="%s"/><EventID>%d</EventID><TimeCreated SystemTime="%s"/><Channel>%s</Channel><Computer>%s</Computer></System><EventData>`,
		provider, id, at.UTC().Format(time.RFC3339Nano), channel, computer)
	for i := 0; i+1 < len(data); i += 2 {
		fmt.Fprintf(&b, `<Data Name="%s">%s</Data>`, data[i], html.EscapeString(data[i+1]))
	}
	return b.String() + "</EventData></Event>"
}
