package windows

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets check that parsers never panic and that whatever parses
// also maps to ECS.

func FuzzParseXML(f *testing.F) {
	f.Add(readFile(f, seed4688))
	f.Add([]byte(`<Events><Event><System><EventID>1</EventID></System><EventData><Data>x</Data></EventData></Event></Events>`))
	f.Add([]byte(`<Event><System><EventID Qualifiers="0">7</EventID></System><UserData><A xmlns="x"><B>1</B></A></UserData></Event>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseXML(b); err == nil {
			r.ECS()
		}
		SplitXML(bytes.NewReader(b), func(raw []byte, off int64) error {
			ParseXML(raw)
			return nil
		})
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add(readFile(f, winlogbeat))
	f.Add(readFile(f, regressionOne))
	f.Add(readFile(f, "testdata/otrf-proxylogon-4688.json"))
	f.Add([]byte(`{"Event":{"System":{"EventID":{"#text":4688},"Channel":"Security"},"EventData":{"Data":[{"#attributes":{"Name":"A"},"#text":"1"},"x"]}}}`))
	// Sysmon for Linux in Azure Monitor's Syslog table and in a journal export.
	f.Add([]byte(`{"Computer":"h","ProcessName":"sysmon","SyslogMessage":"<Event><System><Provider Name=\"Linux-Sysmon\"/><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel></System><EventData><Data Name=\"Image\">&lt x</Data><Data Name=\"CommandLine\">sh -c i"}`))
	f.Add([]byte(`{"_HOSTNAME":"h","SYSLOG_IDENTIFIER":"sysmon","__REALTIME_TIMESTAMP":"1","MESSAGE":"<Event><System><EventID>3</EventID><Channel>Linux-Sysmon/Operational</Channel></System><EventData><Data Name=\"DestinationIp\">::1</Data></EventData></Event>"}`))
	// Get-WinEvent's objects (ConvertTo-Json), one of them alone.
	f.Add(readFile(f, "testdata/powershell-get-winevent.json"))
	f.Add([]byte(`{"Id":4688,"LogName":"Security","TimeCreated":"\/Date(1615686015338)\/","Message":"x","Properties":[{"Value":1},{"Value":"a"},3,4,5,6,7,8,9]}`))
	// xmltodict's convention, and EvtxECmd's Payload.
	f.Add(readFile(f, "testdata/seed-4688-xmltodict.json"))
	f.Add([]byte(`{"EventId":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Provider":"Microsoft-Windows-Sysmon","Computer":"h","TimeCreated":"2021-03-14 06:40:15.3380000","ProcessId":4,"Payload":"{\"EventData\":{\"Data\":[{\"@Name\":\"Image\",\"#text\":\"C:\\\\x.exe\"},{\"@Name\":\"ProcessId\",\"#text\":\"7\"}]}}"}`))
	// Log Analytics rows: SecurityEvent's EventData XML, the Event table's
	// <DataItem>, WindowsEvent's object.
	for _, line := range strings.Split(strings.TrimSpace(string(readFile(f, "testdata/loganalytics.json"))), "\n") {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseJSON(b); err == nil {
			r.ECS()
		}
		ReadJSON(bytes.NewReader(b), func(r *Record, _ int64, err error) error {
			if err == nil {
				r.ECS()
			}
			return nil
		})
	})
}

func FuzzParseSysmonText(f *testing.F) {
	f.Add(string(readFile(f, seedSysmon)))
	f.Add("Network connection detected:\r\nUtcTime: 2021-03-14 06:39:30.227\r\nProcessId: 1\r\nSourceIp: ::1\r\nSourcePort: 99999999999999999999\r\nInitiated: true\r\n")
	f.Add("File created:\nTargetFilename: C:\\x.\n")
	f.Add(eventViewerCopy)
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseSysmonText(s); err == nil {
			r.ECS()
		}
	})
}

func FuzzParseWinEventLogText(f *testing.F) {
	f.Add("11/25/2026 07:00:00 PM\nLogName=Security\nEventCode=4688\nComputerName=w\nMessage=A new process has been created.\n\nCreator Subject:\n\tSecurity ID:\t\tS-1-5-18\n\nProcess Information:\n\tNew Process Name:\tC:\\x.exe\n\tCreator Process ID:\t0xe74\n\tProcess Command Line:\tx /c y\n")
	f.Add("LogName=Microsoft-Windows-Sysmon/Operational\r\nEventCode=1\r\nMessage=Process Create:\r\nUtcTime: 2021-03-14 06:40:15.338\r\nProcessId: 1\r\nImage: C:\\x.exe\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseWinEventLogText(s); err == nil {
			r.ECS()
		}
	})
}

// FuzzParseSyslog: syslog lines of Sysmon for Linux, whole and cut at every
// kind of place; whatever parses must map, and only a cut one is partial.
func FuzzParseSyslog(f *testing.F) {
	for _, line := range strings.Split(string(readFile(f, tomcatSyslog)), "\n") {
		if strings.Contains(line, "sysmon: ") {
			f.Add(line)
			f.Add(line[:len(line)*2/3])
		}
	}
	f.Add("sysmon: <Event><System><EventID>1</EventID></System><EventData><Data Name=\"A\">&lt x&gt </Data><Data Name=\"B\">&am")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseSyslog(s)
		if err != nil {
			return
		}
		r.ECS()
		if r.Partial != "" && strings.Contains(s, "</Event>") {
			t.Fatalf("a whole record is marked partial (%s): %q", r.Partial, s)
		}
	})
}

// FuzzReadEVTX mutates a real chunk; the reader must not panic or hang.
func FuzzReadEVTX(f *testing.F) {
	orig := readFile(f, iisWebshell)
	f.Add(orig[0x1000+0x200:0x1000+0x240], uint16(0))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f}, uint16(0x18))
	f.Fuzz(func(t *testing.T, patch []byte, at uint16) {
		if len(patch) > 256 {
			patch = patch[:256]
		}
		b := bytes.Clone(orig)
		copy(b[0x1000+0x200+int(at)%0xe00:], patch)
		ReadEVTX(bytes.NewReader(b), 0, func(r *Record, err error) error {
			if err == nil {
				r.ECS()
			}
			return nil
		})
	})
}

func BenchmarkParseXMLECS(b *testing.B) {
	data := readFile(b, seed4688)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := ParseXML(data)
		if err != nil {
			b.Fatal(err)
		}
		r.ECS()
	}
}

func BenchmarkParseSysmonTextECS(b *testing.B) {
	s := string(readFile(b, seedSysmon))
	b.ReportAllocs()
	for b.Loop() {
		r, err := ParseSysmonText(s)
		if err != nil {
			b.Fatal(err)
		}
		r.ECS()
	}
}

func BenchmarkReadEVTX(b *testing.B) {
	data := readFile(b, filepath.Join(benignDir, "security.evtx"))
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var n int
	for b.Loop() {
		n = 0
		err := ReadEVTX(bytes.NewReader(data), 0, func(r *Record, err error) error {
			if err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "records/op")
}
