package hunt_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/hunt"
	"webshellbeat/internal/testfiles"
)

// otrfSample is the 4688 and the Sysmon 1 of ProxyLogon's w3wp.exe ->
// cmd /c whoami (module/windows/testdata, see its SOURCES.md), the 4688
// first: it has no UtcTime, so its time can only be fixed by what the file's
// Sysmon events tell.
func otrfSample(t *testing.T) (security, sysmon string) {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile("../module/windows/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	return read("otrf-proxylogon-4688.json"), read("otrf-proxylogon-sysmon1.json")
}

// huntDocs returns every document a hunt over paths reads, by event.code.
func huntDocs(t *testing.T, paths ...string) map[string][]map[string]any {
	t.Helper()
	docs := map[string][]map[string]any{}
	_, err := hunt.Run(paths, detectorFunc(func(doc map[string]any) bool {
		docs[str(doc, "event.code")] = append(docs[str(doc, "event.code")], doc)
		return false
	}), func(map[string]any) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// ProxyLogon's TimeCreated is US Eastern time written as UTC (01:40 for
// Sysmon's UtcTime 06:40): every record of the file, the 4688 included,
// gets the real UTC instant, in NDJSON and in a JSON array alike.
func TestOTRFZoneError(t *testing.T) {
	sec, sys := otrfSample(t)
	dir := testfiles.Dir(t, map[string]string{
		"lines.json": sec + "\n" + sys + "\n",
		"array.json": "[\n" + sec + ",\n" + sys + "\n]\n",
	})
	want := map[string]time.Time{
		"4688": time.Date(2021, 3, 14, 6, 40, 15, 338e6, time.UTC),
		"1":    time.Date(2021, 3, 14, 6, 40, 15, 342e6, time.UTC),
	}
	for _, f := range []string{"lines.json", "array.json"} {
		docs := huntDocs(t, dir+"/"+f)
		for code, w := range want {
			if len(docs[code]) != 1 {
				t.Fatalf("%s: %d documents of event %s, want 1", f, len(docs[code]), code)
			}
			if got, _ := docs[code][0]["@timestamp"].(time.Time); !got.Equal(w) {
				t.Errorf("%s: event %s at %v, want %v", f, code, got, w)
			}
		}
	}
}

// Over the whole ProxyLogon file, every Sysmon event is stamped at most a
// few seconds after its own UtcTime (the logging delay), and the Security
// events fall in the same minutes.
func TestOTRFZoneProxyLogon(t *testing.T) {
	path := data + "OTRF-Security-Datasets/datasets/atomic/windows/persistence/host/proxylogon_ssrf_rce_poc.zip"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("ProxyLogon dataset not available: %v", err)
	}
	var sysmon, security []time.Time
	for _, docs := range huntDocs(t, path) {
		for _, doc := range docs {
			ts, _ := doc["@timestamp"].(time.Time)
			switch ut := str(doc, "winlog.event_data.UtcTime"); {
			case str(doc, "winlog.channel") == "Security":
				security = append(security, ts)
			case ut != "" && strings.Contains(str(doc, "winlog.channel"), "Sysmon"):
				u, err := time.Parse("2006-01-02 15:04:05.999", ut)
				if lag := ts.Sub(u); err != nil || lag < 0 || lag > 5*time.Second {
					t.Fatalf("Sysmon event at %v, UtcTime %s (%v)", ts, ut, err)
				}
				sysmon = append(sysmon, ts)
			}
		}
	}
	if len(sysmon) == 0 || len(security) == 0 {
		t.Fatalf("%d Sysmon events with UtcTime, %d Security events", len(sysmon), len(security))
	}
	first, last := slices.MinFunc(sysmon, time.Time.Compare), slices.MaxFunc(sysmon, time.Time.Compare)
	for _, ts := range security {
		if ts.Before(first.Add(-time.Minute)) || ts.After(last.Add(time.Minute)) {
			t.Fatalf("Security event at %v, outside the Sysmon events' %v to %v", ts, first, last)
		}
	}
	t.Logf("%d Sysmon events within 5 s of their UtcTime, %d Security events, all between %v and %v", len(sysmon), len(security), first, last)
}
