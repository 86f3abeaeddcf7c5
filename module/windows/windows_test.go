package windows

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"www.velocidex.com/golang/evtx"

	"webshellbeat/detection"
	"webshellbeat/internal/golden"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

const data = "../../../shared/data/"

var (
	seed4688      = data + "seed/security-4688.xml"
	seedSysmon    = data + "seed/sysmon-1.txt"
	winlogbeat    = data + "elastic-beats/x-pack/winlogbeat/module/security/test/testdata/ingest/security-windows2019_4688_Process_Created.golden.json"
	regressionDir = data + "SigmaHQ-sigma/regression_data"
	regressionOne = regressionDir + "/rules/windows/process_creation/proc_creation_win_bitsadmin_download_direct_ip/99c840f2-2012-46fd-9141-c761987550ef.json"
	iisWebshell   = data + "sbousseaden-EVTX-ATTACK-SAMPLES/Lateral Movement/LM_typical_IIS_webshell_sysmon_1_10_traces.evtx"
	benignDir     = data + "omerbenamram-evtx/samples"
)

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads every record of an EVTX file, failing on any error.
func readAll(t testing.TB, p string) []*Record {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*Record
	err = ReadEVTX(f, 0, func(r *Record, err error) error {
		if err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return recs
}

// canonical renders an ECS document as indented JSON.
func canonical(t testing.TB, doc map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		parse func(t *testing.T) (*Record, error)
	}{
		{"seed-security-4688-xml", func(t *testing.T) (*Record, error) { return ParseXML(readFile(t, seed4688)) }},
		{"seed-sysmon-1-text", func(t *testing.T) (*Record, error) { return ParseSysmonText(string(readFile(t, seedSysmon))) }},
		{"winlogbeat-4688-json", func(t *testing.T) (*Record, error) { return ParseJSON(readFile(t, winlogbeat)) }},
		{"regression-bitsadmin-json", func(t *testing.T) (*Record, error) { return ParseJSON(readFile(t, regressionOne)) }},
		{"otrf-proxylogon-sysmon1", func(t *testing.T) (*Record, error) {
			return ParseJSON(readFile(t, "testdata/otrf-proxylogon-sysmon1.json"))
		}},
		{"otrf-proxylogon-4688", func(t *testing.T) (*Record, error) {
			return ParseJSON(readFile(t, "testdata/otrf-proxylogon-4688.json"))
		}},
		{"otrf-proxylogon-5156", func(t *testing.T) (*Record, error) {
			return ParseJSON(readFile(t, "testdata/otrf-proxylogon-5156.json"))
		}},
		{"otrf-empire-rdp-sysmon1", func(t *testing.T) (*Record, error) {
			return ParseJSON(readFile(t, "testdata/otrf-empire-rdp-sysmon1.json"))
		}},
		{"otrf-empire-rdp-4688", func(t *testing.T) (*Record, error) {
			return ParseJSON(readFile(t, "testdata/otrf-empire-rdp-4688.json"))
		}},
		{"otrf-proxylogon-sysmon1-message-text", func(t *testing.T) (*Record, error) {
			r, err := ParseJSON(readFile(t, "testdata/otrf-proxylogon-sysmon1.json"))
			if err != nil {
				return nil, err
			}
			return ParseSysmonText(r.Message)
		}},
		{"sysmon-linux-syslog-java-child", func(t *testing.T) (*Record, error) {
			for _, line := range strings.Split(string(readFile(t, tomcatSyslog)), "\n") {
				if strings.Contains(line, "sysmon: ") && strings.Contains(line, "{base64,-d}") {
					return ParseSyslog(line)
				}
			}
			return nil, errors.New("no java child in the Tomcat syslog sample")
		}},
		{"iis-webshell-evtx-w3wp-child", func(t *testing.T) (*Record, error) {
			for _, r := range readAll(t, iisWebshell) {
				if r.EventID == 1 && strings.HasSuffix(strings.ToLower(r.EventData.Value("ParentImage")), `\w3wp.exe`) {
					return r, nil
				}
			}
			return nil, errors.New("no w3wp.exe child in the IIS web shell sample")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.parse(t)
			if err != nil {
				t.Fatal(err)
			}
			golden.Bytes(t, c.name, canonical(t, r.ECS()), *update)
		})
	}
}

// TestECSShape checks the contract of ECS(): nested maps, no dotted keys,
// numbers as int64, time as UTC time.Time.
func TestECSShape(t *testing.T) {
	r, err := ParseXML(readFile(t, seed4688))
	if err != nil {
		t.Fatal(err)
	}
	doc := r.ECS()
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if strings.Contains(k, ".") && prefix != "winlog.event_data." {
				t.Errorf("dotted key %q under %q", k, prefix)
			}
			switch x := v.(type) {
			case map[string]any:
				walk(prefix+k+".", x)
			case int, int32, uint32, uint64, float64:
				t.Errorf("%s%s is %T, want int64", prefix, k, v)
			}
		}
	}
	walk("", doc)
	ts, ok := doc["@timestamp"].(time.Time)
	if !ok || ts.Location() != time.UTC {
		t.Errorf("@timestamp = %#v, want a UTC time.Time", doc["@timestamp"])
	}
	p := doc["process"].(map[string]any)
	if p["pid"] != int64(0x2bc) || p["parent"].(map[string]any)["pid"] != int64(0xe74) {
		t.Errorf("pids = %v / %v, want 700 / 3700", p["pid"], p["parent"].(map[string]any)["pid"])
	}
	if got := p["parent"].(map[string]any)["name"]; got != "w3wp.exe" {
		t.Errorf("process.parent.name = %v", got)
	}
	if got := doc["user"].(map[string]any)["name"]; got != "WIN-GG82ULGC9GO$" {
		t.Errorf("user.name = %v", got)
	}
}

func TestSysmonNetworkAndFile(t *testing.T) {
	net := "Network connection detected:\r\nRuleName: -\r\nUtcTime: 2021-03-14 06:39:30.227\r\nProcessGuid: {6004D249-0957-604D-6019-000000000900}\r\nProcessId: 12252\r\nImage: C:\\Windows\\System32\\inetsrv\\w3wp.exe\r\nUser: IIS APPPOOL\\DefaultAppPool\r\nProtocol: tcp\r\nInitiated: true\r\nSourceIsIpv6: false\r\nSourceIp: 10.0.0.5\r\nSourceHostname: -\r\nSourcePort: 49712\r\nSourcePortName: -\r\nDestinationIsIpv6: false\r\nDestinationIp: 203.0.113.9\r\nDestinationHostname: evil.example\r\nDestinationPort: 443\r\nDestinationPortName: https\r\n"
	r, err := ParseSysmonText(net)
	if err != nil {
		t.Fatal(err)
	}
	doc := r.ECS()
	want := map[string]any{
		"event.code":                 "3",
		"event.category":             []string{"network"},
		"event.type":                 []string{"connection", "start"},
		"source.ip":                  "10.0.0.5",
		"source.port":                int64(49712),
		"destination.ip":             "203.0.113.9",
		"destination.port":           int64(443),
		"destination.domain":         "evil.example",
		"network.transport":          "tcp",
		"network.direction":          "egress",
		"related.ip":                 []string{"10.0.0.5", "203.0.113.9"},
		"process.pid":                int64(12252),
		"process.name":               "w3wp.exe",
		"process.entity_id":          "6004D249-0957-604D-6019-000000000900",
		"user.name":                  "DefaultAppPool",
		"user.domain":                "IIS APPPOOL",
		"@timestamp":                 time.Date(2021, 3, 14, 6, 39, 30, 227e6, time.UTC),
		"event.module":               "sysmon",
		"event.dataset":              "windows.sysmon_operational",
		"winlog.event_data.Protocol": "tcp",
	}
	checkFields(t, doc, want)
	if _, ok := lookup(doc, "source.domain"); ok {
		t.Error(`source.domain set from "-"`)
	}

	file := "File created:\nRuleName: -\nUtcTime: 2021-03-14 06:40:15.338\nProcessGuid: {6004D249-AFCF-604D-2A27-000000000900}\nProcessId: 4242\nImage: c:\\windows\\system32\\inetsrv\\w3wp.exe\nTargetFilename: C:\\inetpub\\wwwroot\\aspnet_client\\Shell.ASPX\nCreationUtcTime: 2021-03-14 06:40:15.338\n"
	r, err = ParseSysmonText(file)
	if err != nil {
		t.Fatal(err)
	}
	checkFields(t, r.ECS(), map[string]any{
		"event.code":     "11",
		"event.category": []string{"file"},
		"event.type":     []string{"creation"},
		"file.path":      `C:\inetpub\wwwroot\aspnet_client\Shell.ASPX`,
		"file.name":      "Shell.ASPX",
		"file.directory": `C:\inetpub\wwwroot\aspnet_client`,
		"file.extension": "aspx",
		"process.pid":    int64(4242),
		"process.name":   "w3wp.exe",
		"event.action":   "File created (rule: FileCreate)",
		"host.os.family": "windows",
	})
}

func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	parts := strings.Split(path, ".")
	for i, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if p == "winlog" && i+2 < len(parts) && parts[i+1] == "event_data" {
			ed, _ := m["winlog"].(map[string]any)["event_data"].(map[string]any)
			v, ok := ed[strings.Join(parts[i+2:], ".")]
			return v, ok
		}
		cur, ok = m[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func checkFields(t *testing.T, doc map[string]any, want map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := lookup(doc, k)
		if !ok {
			t.Errorf("%s missing", k)
			continue
		}
		if !reflect.DeepEqual(got, want[k]) {
			t.Errorf("%s = %#v, want %#v", k, got, want[k])
		}
	}
}

func TestSplitCommandLine(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`cmd.exe /c whoami`, []string{"cmd.exe", "/c", "whoami"}},
		{`"C:\Windows\system32\wevtutil.exe" cl Security`, []string{`C:\Windows\system32\wevtutil.exe`, "cl", "Security"}},
		{`"C:\Program Files\a b\x.exe"`, []string{`C:\Program Files\a b\x.exe`}},
		{`C:\a\b.exe "x y" z`, []string{`C:\a\b.exe`, "x y", "z"}},
		{`a.exe a\\\"b c`, []string{"a.exe", `a\"b`, "c"}},
		{`a.exe a\\\\"b c"`, []string{"a.exe", `a\\b c`}},
		{`a.exe a\b\c "d""e"`, []string{"a.exe", `a\b\c`, `d"e`}},
		{"a.exe \t x  ", []string{"a.exe", "x"}},
		{`"unterminated name`, []string{"unterminated name"}},
		{`C:\x\prog.exe` + " \"", []string{`C:\x\prog.exe`, ""}},
		{"", nil},
	}
	for _, c := range cases {
		if got := SplitCommandLine(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitCommandLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSplitXML(t *testing.T) {
	one := strings.TrimSpace(string(readFile(t, seed4688)))
	pretty := strings.ReplaceAll(one, "><", ">\n  <")
	broken := strings.Replace(one, "</EventData></Event>", "", 1) // never closed
	cases := []struct {
		name   string
		stream string
		ok     int
		bad    int
	}{
		{"one-per-line", one + "\n" + one + "\n" + one + "\n", 3, 0},
		{"pretty", pretty + "\n\n" + pretty, 2, 0},
		{"wrapped", `<?xml version="1.0" encoding="utf-8"?>` + "\n<Events>" + one + one + "</Events>", 2, 0},
		{"malformed-in-middle", one + "\n" + broken + "\n" + one + "\n", 2, 1},
		{"malformed-at-end", one + "\n" + broken, 1, 1},
		{"empty", "", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ok, bad int
			var offsets []int64
			// A tiny reader makes SplitXML refill across tag boundaries.
			err := SplitXML(iotestOneByte(strings.NewReader(c.stream)), func(raw []byte, off int64) error {
				offsets = append(offsets, off)
				if !bytes.Equal(raw, []byte(c.stream[off:off+int64(len(raw))])) {
					t.Errorf("raw at %d does not match the input", off)
				}
				if _, err := ParseXML(raw); err != nil {
					bad++
				} else {
					ok++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.ok || bad != c.bad {
				t.Errorf("ok=%d bad=%d (offsets %v), want ok=%d bad=%d", ok, bad, offsets, c.ok, c.bad)
			}
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func iotestOneByte(r io.Reader) io.Reader { return oneByteReader{r} }

// TestBadInput pins what each kind of bad input reports, and where.
func TestBadInput(t *testing.T) {
	seed := string(readFile(t, seed4688))
	cases := []struct {
		name  string
		parse func() (*Record, error)
		want  []string
	}{
		{"xml-truncated", func() (*Record, error) { return ParseXML([]byte(seed[:200])) }, []string{"windows xml at line 1 (offset 200)", "unexpected EOF", "inside <"}},
		{"xml-mismatched-tag", func() (*Record, error) {
			return ParseXML([]byte("<Event>\n<System>\n<EventID>1</EventId>\n</System></Event>"))
		}, []string{"line 3", "element <EventID> closed by </EventId>"}},
		{"xml-wrong-root", func() (*Record, error) { return ParseXML([]byte(`<Foo/>`)) }, []string{"offset 0", "root element is <Foo>, want <Event>"}},
		{"xml-no-eventid", func() (*Record, error) {
			return ParseXML([]byte(`<Event><System><Channel>Security</Channel></System></Event>`))
		}, []string{"no System/EventID element"}},
		{"xml-bad-eventid", func() (*Record, error) {
			return ParseXML([]byte(`<Event><System><EventID>x12</EventID></System></Event>`))
		}, []string{`System/EventID "x12" is not a number`}},
		{"xml-two-events", func() (*Record, error) { return ParseXML([]byte(seed + seed)) }, []string{"more than one <Event>; use SplitXML"}},
		{"json-syntax", func() (*Record, error) { return ParseJSON([]byte("{\"Event\":\n{\"System\": [1,}}")) }, []string{"windows json at line 2", "invalid JSON"}},
		{"json-truncated", func() (*Record, error) { return ParseJSON([]byte(`{"Event":{"System":`)) }, []string{"unexpected end of input"}},
		{"json-unknown-shape", func() (*Record, error) { return ParseJSON([]byte(`{"foo":1}`)) }, []string{"unrecognised event shape", "keys: foo"}},
		{"json-not-object", func() (*Record, error) { return ParseJSON([]byte(`"x"`)) }, []string{"event is a JSON string, want an object"}},
		{"json-trailing", func() (*Record, error) { return ParseJSON([]byte(`{"EventID":1,"Channel":"x"} {}`)) }, []string{"trailing data", "use ReadJSON"}},
		{"json-bad-eventid", func() (*Record, error) {
			return ParseJSON([]byte(`{"winlog":{"event_id":"abc","channel":"Security"}}`))
		}, []string{`winlog.event_id "abc"`}},
		{"json-evtx-not-evtx", func() (*Record, error) { return ParseEVTXJSON([]byte(`{"winlog":{}}`)) }, []string{"not an EVTX JSON record"}},
		{"text-no-key-value", func() (*Record, error) {
			return ParseSysmonText("EventID: 1\nUtcTime: 2025-06-10 02:30:00.123\nthis is not a field\n")
		}, []string{"windows sysmon-text at line 3 (offset 44)", `want a "Key: Value" line, got "this is not a field"`}},
		{"text-empty", func() (*Record, error) { return ParseSysmonText("\r\n\r\n") }, []string{`no "Key: Value" fields`}},
		{"text-unknown-header", func() (*Record, error) { return ParseSysmonText("Something happened:\nImage: x\n") }, []string{`unknown header "Something happened"`}},
		{"text-no-eventid", func() (*Record, error) { return ParseSysmonText("Image: x\n") }, []string{"no EventID line and no header"}},
		{"text-bad-time", func() (*Record, error) { return ParseSysmonText("EventID: 1\nUtcTime: yesterday\n") }, []string{`UtcTime "yesterday" is not a time`}},
		{"text-bad-eventid", func() (*Record, error) { return ParseSysmonText("EventID: one\n") }, []string{"line 1", `EventID "one"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.parse()
			if err == nil {
				t.Fatalf("no error, got %+v", r)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestDamagedEVTX reads damaged files: errors carry file offsets, records
// around the damage still come through, nothing panics.
func TestDamagedEVTX(t *testing.T) {
	good := readFile(t, iisWebshell)
	cases := []struct {
		name     string
		data     func() []byte
		minRecs  int
		wantErrs []string // each must appear in some reported error
		fatal    string   // expected ReadEVTX error
	}{
		{"not-evtx", func() []byte {
			return []byte("hello, this is not an evtx file at all, padding padding padding padding padding padding padding padding padding padding")
		}, 0, nil, "not an EVTX file: bad magic"},
		{"empty", func() []byte { return nil }, 0, nil, "file header truncated: 0 of 128 bytes"},
		{"truncated-mid-chunk", func() []byte { return good[:0x1000+0x2000] }, 0, []string{"truncated: 8192 of 65536 bytes"}, ""},
		{"record-size-smashed", func() []byte {
			b := bytes.Clone(good)
			// The second record's size field.
			p := 0x1000 + 0x200
			sz := int(b[p+4]) | int(b[p+5])<<8
			b[p+sz+4] ^= 0xff
			return b
		}, 3, []string{"damaged record (bad magic or size)", "records checksum mismatch"}, ""},
		{"binxml-garbage", func() []byte {
			b := bytes.Clone(good)
			p := 0x1000 + 0x200
			for i := p + 24; i < p+200; i++ {
				b[i] = byte(i * 7)
			}
			return b
		}, 0, []string{"offset 4"}, ""},
		{"chunk-magic-smashed", func() []byte {
			b := bytes.Clone(good)
			copy(b[0x1000:], "XXXXXXXX")
			return b
		}, 0, []string{"windows evtx at offset 4096: chunk 0: bad chunk magic"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var recs int
			var errs []string
			err := ReadEVTX(bytes.NewReader(c.data()), 0, func(r *Record, err error) error {
				if err != nil {
					var pe *ParseError
					if !errors.As(err, &pe) || pe.Offset < 0 {
						t.Errorf("error without a file offset: %v", err)
					}
					errs = append(errs, err.Error())
					return nil
				}
				recs++
				return nil
			})
			if c.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), c.fatal) {
					t.Fatalf("ReadEVTX error = %v, want %q", err, c.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if recs < c.minRecs {
				t.Errorf("%d records, want at least %d (errors: %q)", recs, c.minRecs, errs)
			}
			for _, w := range c.wantErrs {
				found := false
				for _, e := range errs {
					found = found || strings.Contains(e, w)
				}
				if !found {
					t.Errorf("no error contains %q; got %q", w, errs)
				}
			}
		})
	}
}

// TestEVTXSamples reads the benign and damaged samples of omerbenamram/evtx
// and the EVTX-ATTACK-SAMPLES: no panic, records in order, resume works.
func TestEVTXSamples(t *testing.T) {
	files, _ := filepath.Glob(benignDir + "/*.evtx")
	attack, _ := filepath.Glob(data + "sbousseaden-EVTX-ATTACK-SAMPLES/*/*.evtx")
	if len(files) == 0 || len(attack) == 0 {
		t.Fatal("sample files not found")
	}
	var w3wpChildren, procCreate, total int
	for _, p := range append(files, attack...) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		var nerr int
		err = ReadEVTX(f, 0, func(r *Record, err error) error {
			if err != nil {
				nerr++
				return nil
			}
			ids = append(ids, r.EVTXRecordNumber)
			doc := r.ECS()
			if cat, _ := lookup(doc, "event.category"); reflect.DeepEqual(cat, []string{"process"}) {
				if typ, _ := lookup(doc, "event.type"); reflect.DeepEqual(typ, []string{"start"}) {
					procCreate++
					if n, _ := lookup(doc, "process.parent.name"); strings.EqualFold(fmt.Sprint(n), "w3wp.exe") {
						w3wpChildren++
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		total += len(ids)
		if !sort.SliceIsSorted(ids, func(i, j int) bool { return ids[i] < ids[j] }) {
			t.Errorf("%s: records out of order", p)
		}
		// Resume after the middle record: exactly the later ones come back.
		if len(ids) > 2 {
			mid := ids[len(ids)/2]
			var again int
			f.Seek(0, io.SeekStart)
			ReadEVTX(f, mid, func(r *Record, err error) error {
				if err == nil {
					if r.EVTXRecordNumber <= mid {
						t.Errorf("%s: record %d returned after %d", p, r.EVTXRecordNumber, mid)
					}
					again++
				}
				return nil
			})
			if want := len(ids) - len(ids)/2 - 1; again != want {
				t.Errorf("%s: resume after %d gave %d records, want %d", p, mid, again, want)
			}
		}
		f.Close()
		t.Logf("%s: %d records, %d errors", filepath.Base(p), len(ids), nerr)
		if strings.Contains(p, "omerbenamram") && !strings.Contains(p, "bad") && !strings.Contains(p, "irregular") && nerr > 0 {
			t.Errorf("%s: %d errors in a benign file", p, nerr)
		}
	}
	t.Logf("%d records; %d process creations, %d with a w3wp.exe parent", total, procCreate, w3wpChildren)
	if w3wpChildren == 0 {
		t.Error("no w3wp.exe children found in the attack samples")
	}
}

// TestRegressionTwins reads every SigmaHQ regression .evtx and compares its
// records with its .json twin (evtx_dump output) through ECS().
func TestRegressionTwins(t *testing.T) {
	var files []string
	filepath.WalkDir(regressionDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no regression files")
	}
	var nrec int
	for _, p := range files {
		rel, _ := filepath.Rel(regressionDir, p)
		t.Run(rel, func(t *testing.T) {
			recs := readAll(t, p)
			var twins []*Record
			f, err := os.Open(strings.TrimSuffix(p, ".evtx") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = ReadJSON(f, func(r *Record, off int64, err error) error {
				if err != nil {
					return err
				}
				twins = append(twins, r)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(twins) || len(recs) == 0 {
				t.Fatalf("%d EVTX records, %d JSON records", len(recs), len(twins))
			}
			nrec += len(recs)
			for i := range recs {
				a, b := recs[i].ECS(), twins[i].ECS()
				// evtx_dump writes microseconds; ReadEVTX has the header's
				// 100ns time, or the parser's float (about 1.6µs off).
				ta, tb := a["@timestamp"].(time.Time), b["@timestamp"].(time.Time)
				if d := ta.Sub(tb); d > -2*time.Microsecond && d < 2*time.Microsecond {
					a["@timestamp"] = tb
				}
				// evtx_dump trims trailing spaces from strings (Sysmon
				// command lines often end with one); ReadEVTX keeps them,
				// and so does the mapping.
				trimRightSpaces(a)
				trimRightSpaces(b)
				if !reflect.DeepEqual(a, b) {
					t.Errorf("record %d differs:\nevtx: %s\njson: %s", recs[i].RecordID, canonical(t, a), canonical(t, b))
				}
			}
		})
	}
	t.Logf("%d regression EVTX files, %d records, all equal to their JSON twins", len(files), nrec)
}

func TestErrorDoc(t *testing.T) {
	_, err := ParseSysmonText("garbage")
	doc := detection.ErrorDoc("garbage", err)
	checkFields(t, doc, map[string]any{
		"event.kind":     "event",
		"event.original": "garbage",
		"error.message":  err.Error(),
	})
}

func TestReadJSONStream(t *testing.T) {
	otrf := strings.TrimSpace(string(readFile(t, "testdata/otrf-proxylogon-sysmon1.json")))
	stream := otrf + "\n" + `{"foo":1}` + "\n" + otrf + "\n" + "[" + otrf + "," + otrf + "]\n"
	var ok, bad int
	err := ReadJSON(strings.NewReader(stream), func(r *Record, off int64, err error) error {
		if err != nil {
			bad++
			if !strings.Contains(err.Error(), fmt.Sprintf("offset %d", len(otrf)+1)) {
				t.Errorf("error %q should name offset %d", err, len(otrf)+1)
			}
			return nil
		}
		ok++
		return nil
	})
	if err != nil || ok != 4 || bad != 1 {
		t.Errorf("ok=%d bad=%d err=%v, want 4, 1, nil", ok, bad, err)
	}
}

// Each JSON layout in testdata is recognised as what it is.
func TestDetectJSONShapes(t *testing.T) {
	for file, want := range map[string]JSONShape{
		winlogbeat:                              ShapeWinlogbeat,
		regressionOne:                           ShapeEVTX,
		"testdata/otrf-proxylogon-4688.json":    ShapeOTRF,
		"testdata/otrf-empire-rdp-4688.json":    ShapeWinlogbeat6,
		"testdata/otrf-empire-rdp-sysmon1.json": ShapeWinlogbeat6,
	} {
		v, err := decodeOneJSON(readFile(t, file))
		if err != nil {
			t.Fatal(err)
		}
		if l, ok := v.([]any); ok && len(l) == 1 {
			v = l[0]
		}
		if got := DetectJSON(v); got != want {
			t.Errorf("%s: shape %v, want %v", file, got, want)
		}
	}
}

// An Elasticsearch or OpenSearch hit is read by its _source; a search
// response by its hits (one, for ParseJSON).
func TestParseJSONSearchHits(t *testing.T) {
	const event = `{"@timestamp":"2025-06-10T02:30:00Z","winlog":{"channel":"Security","event_id":"4688","computer_name":"WEB01","event_data":{"NewProcessName":"C:\\Windows\\System32\\cmd.exe","ParentProcessName":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"cmd /c whoami"}}}`
	hit := `{"_index":"winlogbeat","_id":"x","_source":` + event + `}`
	for name, text := range map[string]string{
		"hit":      hit,
		"response": `{"took":1,"hits":{"hits":[` + hit + `]}}`,
	} {
		rec, err := ParseJSON([]byte(text))
		if err != nil || rec.EventID != 4688 || rec.Computer != "WEB01" {
			t.Errorf("%s: %+v, %v", name, rec, err)
		}
	}
	if _, err := ParseJSON([]byte(`{"hits":{"hits":[` + hit + `,` + hit + `]}}`)); err == nil || !strings.Contains(err.Error(), "search response holds 2 hits") {
		t.Errorf("two hits: %v", err)
	}
}

// eventViewerCopy is what Event Viewer's "Copy details as text" puts on the
// clipboard for a Sysmon event (CRLF lines, the block before the message
// aligned with spaces, its User the account that logged, not the process's).
const eventViewerCopy = "Log Name:      Microsoft-Windows-Sysmon/Operational\r\n" +
	"Source:        Microsoft-Windows-Sysmon\r\n" +
	"Date:          6/10/2025 2:30:00 AM\r\n" +
	"Event ID:      1\r\n" +
	"Task Category: Process Create (rule: ProcessCreate)\r\n" +
	"Level:         Information\r\n" +
	"Keywords:      \r\n" +
	"User:          SYSTEM\r\n" +
	"Computer:      WEB01.contoso.local\r\n" +
	"Description:\r\n" +
	"Process Create:\r\n" +
	"RuleName: -\r\n" +
	"UtcTime: 2025-06-10 02:30:00.123\r\n" +
	"ProcessGuid: {12345678-abcd-1234-abcd-1234567890ab}\r\n" +
	"ProcessId: 1234\r\n" +
	"Image: C:\\Windows\\System32\\cmd.exe\r\n" +
	"Description: Windows Command Processor\r\n" +
	"CommandLine: cmd /c whoami\r\n" +
	"User: IIS APPPOOL\\DefaultAppPool\r\n" +
	"ParentProcessId: 5678\r\n" +
	"ParentImage: C:\\Windows\\System32\\inetsrv\\w3wp.exe\r\n"

// Event Viewer's copied text: the block before the message gives the
// computer and the event ID; the message's own fields win (User).
func TestParseSysmonTextEventViewerCopy(t *testing.T) {
	r, err := ParseSysmonText(eventViewerCopy)
	if err != nil {
		t.Fatal(err)
	}
	user, _ := r.EventData.Get("User")
	desc, _ := r.EventData.Get("Description")
	if r.EventID != 1 || r.Computer != "WEB01.contoso.local" || user != `IIS APPPOOL\DefaultAppPool` || desc != "Windows Command Processor" ||
		r.TimeCreated.Format("15:04:05.000") != "02:30:00.123" {
		t.Errorf("record: id %d, computer %q, user %q, description %q, time %v", r.EventID, r.Computer, user, desc, r.TimeCreated)
	}
	for text, want := range map[string]string{
		strings.Replace(eventViewerCopy, "Microsoft-Windows-Sysmon/Operational", "Security", 1): `Event Viewer text of the "Security" log: only Sysmon messages`,
		strings.Replace(eventViewerCopy, "Description:\r\n", "", 1):                             `without a "Description:" line`,
		strings.Replace(eventViewerCopy, "Event ID:      1", "Event ID:      one", 1):           `Event ID "one" is not a number`,
	} {
		if _, err := ParseSysmonText(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v, want %q", err, want)
		}
	}
}

// Microsoft Defender's detection event (testdata/defender-1116.xml) maps
// its file (Path's first file:_ resource), the process that touched it and
// the detection user to ECS; its event data keeps Defender's own names.
func TestDefenderDetection(t *testing.T) {
	r, err := ParseXML(readFile(t, "testdata/defender-1116.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := r.ECS()
	for path, want := range map[string]any{
		"event.category":                []string{"malware"},
		"file.path":                     `C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\web.aspx`,
		"file.extension":                "aspx",
		"process.name":                  "w3wp.exe",
		"user.name":                     "MSExchangeOWAAppPool",
		"user.domain":                   "IIS APPPOOL",
		"winlog.event_data.Threat Name": "Backdoor:ASP/Chopper.F!dha",
	} {
		if got, _ := lookupPath(doc, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	for in, want := range map[string]string{
		`file:_C:\a\x.aspx`: `C:\a\x.aspx`,
		`containerfile:_C:\a.zip; file:_C:\a.zip->web/x.jsp`:      `C:\a.zip`,
		`regkey:_HKLM\SOFTWARE\x; file:_C:\b.php; file:_C:\c.php`: `C:\b.php`,
		`regkey:_HKLM\SOFTWARE\x`:                                 "",
	} {
		if got := defenderFile(in); got != want {
			t.Errorf("defenderFile(%q) = %q, want %q", in, got, want)
		}
	}
}

// The JSON of Velocidex's EVTX parser, as Velociraptor's parse_evtx() and
// Velocidex's dumpevtx write it (SystemTime as a number of seconds), is
// read as the EVTX it came from: every record of two real EVTX files maps
// to the same ECS document, but for the time, which the number holds to
// two microseconds only.
func TestVelocidexJSON(t *testing.T) {
	for _, p := range []string{data + "omerbenamram-evtx/samples/security.evtx", iisWebshell, benignDir + "/sysmon.evtx"} {
		want := readAll(t, p)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := evtx.GetChunks(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range chunks {
			ers, _ := c.Parse(0)
			for _, er := range ers {
				b, err := json.Marshal(er.Event)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseJSON(b)
				if err != nil {
					t.Fatalf("%s record %d: %v\n%s", p, er.Header.RecordID, err, b)
				}
				w := want[n]
				n++
				if d := got.TimeCreated.Sub(w.TimeCreated); d < -2*time.Microsecond || d > 2*time.Microsecond { // the parser's float: recordFromEVTX
					t.Errorf("%s record %d: time %v, EVTX %v", p, w.RecordID, got.TimeCreated, w.TimeCreated)
				}
				got.TimeCreated = w.TimeCreated
				if g, e := canonical(t, got.ECS()), canonical(t, w.ECS()); !bytes.Equal(g, e) {
					t.Fatalf("%s record %d: JSON gives\n%s\nEVTX gives\n%s", p, w.RecordID, g, e)
				}
			}
		}
		f.Close()
		if n != len(want) || n == 0 {
			t.Errorf("%s: %d records as JSON, %d from the EVTX", p, n, len(want))
		}
	}
}

// A real 5157 (the Windows Filtering Platform blocked a connection), from
// an EVTX: the inbound ICMP of the System process, as a failed network
// connection with its two ends.
func TestSecurityBlockedConnection(t *testing.T) {
	for _, r := range readAll(t, data+"omerbenamram-evtx/samples/Security_short_selected.evtx") {
		if r.EventID != 5157 {
			continue
		}
		checkFields(t, r.ECS(), map[string]any{
			"event.category":    []string{"network"},
			"event.type":        []string{"connection", "denied"},
			"event.outcome":     "failure",
			"event.action":      "blocked-connection",
			"process.name":      "System",
			"process.pid":       int64(4),
			"source.ip":         "169.46.6.101",
			"destination.ip":    "169.46.118.42",
			"network.direction": "ingress",
			"network.transport": "icmp",
			"related.ip":        []string{"169.46.6.101", "169.46.118.42"},
		})
		return
	}
	t.Fatal("no 5157 in the sample")
}

// trimRightSpaces trims trailing spaces from every string of doc, in place.
func trimRightSpaces(doc map[string]any) {
	for k, v := range doc {
		switch x := v.(type) {
		case string:
			doc[k] = strings.TrimRight(x, " ")
		case []string:
			for i := range x {
				x[i] = strings.TrimRight(x[i], " ")
			}
		case map[string]any:
			trimRightSpaces(x)
		}
	}
}
