package conformance

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"testing"

	"webshellbeat/detection"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
)

// A Sigma field that an event has must be readable where the built-in
// pipelines send a rule's reading of it: on every Windows and Sysmon for
// Linux sample event, each event data field is found at its mapped ECS name
// or one of its fallbacks, with the same value (see sameValue). A mapping
// to an ECS field that the mapper leaves out for some events (Sysmon 7's
// OriginalFileName, the ProcessId of Security events other than 4688,
// before they fell back to the event data) makes the rules on it silent
// there, or their filters never hold; one to a field of other content
// makes them mean something else.
func TestMappedFieldsPresent(t *testing.T) {
	ps, err := pipeline.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	pipeline.Sort(ps)
	// targets caches, per logsource service and field, where a rule reads it.
	targets := map[string][]string{}
	readsAt := func(product, service, field string) []string {
		key := product + "/" + service + "/" + field
		if ts, ok := targets[key]; ok {
			return ts
		}
		r := &sigma.Rule{Logsource: sigma.Logsource{Product: product, Service: service}, Detection: sigma.Detection{
			Names:    []string{"s"},
			Searches: map[string]*sigma.Search{"s": {Alternatives: [][]*sigma.FieldMatch{{{Field: field, Values: []sigma.Value{{Str: "x"}}}}}}},
		}}
		out, err := pipeline.Apply(r, ps...)
		if err != nil {
			t.Fatal(err)
		}
		f := out.Detection.Searches["s"].Alternatives[0][0]
		targets[key] = append(append([]string{f.Field}, f.Fallbacks...), f.Also...)
		return targets[key]
	}
	missing := map[string]int{}
	checked := 0
	for _, ev := range referenceSamples(t) {
		if ev.audit() || ev.web() {
			continue
		}
		row := ev.rows[0]
		product := "windows"
		if row["Channel"] == "Linux-Sysmon/Operational" {
			product = "linux"
		}
		services := []string{""}
		if row["Channel"] == "Security" {
			services = append(services, "security")
		}
		for field, v := range row {
			if v == "" || v == "-" || field == "Channel" || field == "EventID" || field == "Provider_Name" {
				continue
			}
			for _, svc := range services {
				checked++
				var got any
				found := false
				for _, path := range readsAt(product, svc, field) {
					if got, found = detection.Lookup(ev.ecs, path); found {
						break
					}
				}
				where := fmt.Sprintf("%s %s (service %q): read at %v", row["Channel"]+"/"+row["EventID"], field, svc, readsAt(product, svc, field))
				switch {
				case !found:
					missing[where+": absent"]++
				case row["Channel"] == "Security" && row["EventID"] == "4688" && field == "ProcessId" && svc == "":
					// A Sysmon-named rule's ProcessId is the new process on
					// 4688 too, as pySigma's Windows audit pipeline maps it
					// (to NewProcessId), not 4688's own ProcessId (the
					// creator's).
				case !sameValue(field, fmt.Sprint(got), v):
					missing[fmt.Sprintf("%s: %q, not %q", where, detection.Clip(fmt.Sprint(got), 40), detection.Clip(v, 40))]++
				}
			}
		}
	}
	var keys []string
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("%s, in %d events that have the field", k, missing[k])
	}
	if checked < 100000 {
		t.Errorf("checked %d fields, want every field of the Windows samples", checked)
	}
	t.Logf("%d event data fields checked", checked)
}

// sameValue compares the value a rule reads with the event data's, up to
// what the ECS mapping normalises: GUIDs without braces, IP addresses in
// their short form (Sysmon writes ::1 as 0:0:0:0:0:0:0:1), hexadecimal
// numbers in decimal, protocol numbers by name, and case.
func sameValue(field, got, raw string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
		if a, err := netip.ParseAddr(s); err == nil {
			return a.String()
		}
		if strings.HasPrefix(s, "0x") {
			if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
				return strconv.FormatUint(n, 10)
			}
		}
		if field == "Protocol" {
			switch s {
			case "6":
				return "tcp"
			case "17":
				return "udp"
			}
		}
		return s
	}
	return norm(got) == norm(raw)
}
