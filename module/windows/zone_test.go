package windows

import (
	"testing"
	"time"
)

func TestZoneError(t *testing.T) {
	otrf := func(t *testing.T, name string) *Record {
		r, err := ParseJSON(readFile(t, "testdata/"+name))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	sysmonAt := func(created time.Time, utc string) *Record {
		return &Record{Channel: ChannelSysmon, EventID: 1, TimeCreated: created, EventData: EventData{{"UtcTime", utc}}}
	}
	at := func(h, m, s int) time.Time { return time.Date(2021, 3, 14, h, m, s, 0, time.UTC) }
	for _, tt := range []struct {
		name   string
		rec    func(t *testing.T) *Record
		want   time.Duration
		wantOK bool
	}{
		// TimeCreated 01:40:15.342 "Z", UtcTime 06:40:15.338: US Eastern written as UTC.
		{"ProxyLogon Sysmon 1", func(t *testing.T) *Record { return otrf(t, "otrf-proxylogon-sysmon1.json") }, -5 * time.Hour, true},
		{"4688 has no UtcTime", func(t *testing.T) *Record { return otrf(t, "otrf-proxylogon-4688.json") }, 0, false},
		{"message text (time from UtcTime)", func(t *testing.T) *Record {
			r, err := ParseSysmonText(otrf(t, "otrf-proxylogon-sysmon1.json").Message)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, 0, true},
		{"right time, Sysmon delay", func(*testing.T) *Record { return sysmonAt(at(6, 40, 17), "2021-03-14 06:40:15.338") }, 0, true},
		{"half-hour zone", func(*testing.T) *Record { return sysmonAt(at(12, 10, 16), "2021-03-14 06:40:15.338") }, 5*time.Hour + 30*time.Minute, true},
		{"7 min apart: no zone, no delay", func(*testing.T) *Record { return sysmonAt(at(6, 47, 15), "2021-03-14 06:40:15") }, 0, false},
		{"bad UtcTime", func(*testing.T) *Record { return sysmonAt(at(6, 40, 15), "yesterday") }, 0, false},
		{"nil", func(*testing.T) *Record { return nil }, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ZoneError(tt.rec(t))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ZoneError = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
	r := otrf(t, "otrf-proxylogon-4688.json")
	r.FixZone(-5 * time.Hour)
	if want := time.Date(2021, 3, 14, 6, 40, 15, 338e6, time.UTC); !r.TimeCreated.Equal(want) {
		t.Errorf("FixZone: %v, want %v", r.TimeCreated, want)
	}
}

// A time without a zone is UTC whatever the machine's zone: time.Local is
// set to a zone far from UTC (TZ is read once, so setting it is not enough).
func TestZonelessTimesAreUTC(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("UTC+9", 9*3600)
	t.Cleanup(func() { time.Local = local })
	want := time.Date(2021, 3, 14, 6, 40, 15, 338e6, time.UTC)
	for _, k := range []string{"TimeCreated", "@timestamp", "EventTime"} {
		for _, v := range []string{"2021-03-14 06:40:15.338", "2021-03-14T06:40:15.338"} {
			doc := `{"EventID":4688,"Channel":"Security","` + k + `":"` + v + `"}`
			r, err := ParseJSON([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if !r.TimeCreated.Equal(want) {
				t.Errorf("%s %q: %v, want %v", k, v, r.TimeCreated, want)
			}
		}
	}
}
