package conformance

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"webshellbeat/detection/engine"
	"webshellbeat/detection/sigma"
	"webshellbeat/module/windows"
)

var referenceEvents = flag.String("reference-events", "", "TestPySigmaReference: write its events as Sigma-named JSON lines to this file, for reference/verdicts.py")

// referenceGolden holds pySigma's verdicts (reference/verdicts.py): per
// rule file of referenceFolders, the events its SQL matched.
const referenceGolden = "testdata/pysigma_sqlite.tsv"

// referenceFolders are the SigmaHQ folders compared (as FOLDERS in
// reference/verdicts.py).
var referenceFolders = []string{"rules/windows", "rules/linux", "rules/web", "rules-emerging-threats", "rules-threat-hunting/windows", "rules-threat-hunting/linux"}

// referenceDirs are referenceFolders under the SigmaHQ checkout.
func referenceDirs() []string {
	var dirs []string
	for _, d := range referenceFolders {
		dirs = append(dirs, filepath.Join(sigmaHQ, d))
	}
	return dirs
}

// referenceRules are the rules of referenceDirs, loaded once per test
// binary: three tests read them (the engines they build copy what they
// map), and none changes them.
func referenceRules() *sigma.Collection {
	if loadedRules == nil {
		loadedRules = sigma.LoadPaths(referenceDirs()...)
	}
	return loadedRules
}

var loadedRules *sigma.Collection

// refEvent is one event of the shared samples: its key (file under
// shared/data, then the record's place in it), the document as Sigma names
// it for the reference (EventData, EventID, Channel, Provider_Name; for
// audit logs, one row per record: see recordRow), and as webshellbeat maps
// it.
type refEvent struct {
	key  string
	rows []map[string]string
	ecs  map[string]any
}

func (ev refEvent) audit() bool { return strings.HasPrefix(ev.key, "audit/") }

// referenceSamples reads every event of the shared EVTX samples, of OTRF's
// ProxyLogon capture (an Exchange server's w3wp.exe running a web shell), of
// its Log4Shell capture's Sysmon for Linux, and of the shared audit logs
// (auditSamples), then the shared access logs and the web probes
// (webReferenceSamples), in file then record order.
func referenceSamples(t *testing.T) []refEvent {
	t.Helper()
	if loadedSamples == nil {
		loadedSamples = readReferenceSamples(t)
	}
	return loadedSamples
}

// loadedSamples are the samples once read: three tests read them, and no
// test changes them. Tests of this package do not run in parallel.
var loadedSamples []refEvent

func readReferenceSamples(t *testing.T) []refEvent {
	t.Helper()
	data := "../../../shared/data/"
	files, _ := filepath.Glob(data + "sbousseaden-EVTX-ATTACK-SAMPLES/*/*.evtx")
	files = append(files, data+"omerbenamram-evtx/samples/sysmon.evtx", data+"omerbenamram-evtx/samples/security.evtx")
	var out []refEvent
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		keep := keeper(filepath.ToSlash(strings.TrimPrefix(file, data)), &out)
		err = windows.ReadEVTX(f, 0, func(rec *windows.Record, err error) error { return keep(rec, err) })
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	for _, zipped := range []string{
		"OTRF-Security-Datasets/datasets/atomic/windows/persistence/host/proxylogon_ssrf_rce_poc.zip",
		"OTRF-Security-Datasets/datasets/compound/Log4Shell/syslog_sysmon_log4shell_cve2021_44228_jndi_reference.zip",
	} {
		out = readZippedJSON(t, data, zipped, out)
	}
	out = append(out, auditReferenceSamples(t, data)...)
	return append(out, webReferenceSamples(t, data)...)
}

// readZippedJSON appends the records of the JSON files in zip file name
// (under data) to out.
func readZippedJSON(t *testing.T, data, name string, out []refEvent) []refEvent {
	t.Helper()
	z, err := zip.OpenReader(data + name)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, zf := range z.File {
		r, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		keep := keeper(name+"/"+zf.Name, &out)
		err = windows.ReadJSON(r, func(rec *windows.Record, _ int64, err error) error { return keep(rec, err) })
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
	}
	return out
}

// keeper returns a reader callback that appends the records of file to
// out, keyed by their place in the file (OTRF's JSON has no record numbers).
func keeper(file string, out *[]refEvent) func(*windows.Record, error) error {
	n := 0
	return func(rec *windows.Record, err error) error {
		n++
		if err != nil {
			return nil // damaged records: the sample collection has some, and they are not the point here
		}
		flat := map[string]string{}
		for _, kv := range rec.EventData {
			flat[kv.Key] = kv.Value
		}
		flat["EventID"] = strconv.Itoa(int(rec.EventID))
		flat["Channel"] = rec.Channel
		flat["Provider_Name"] = rec.Provider
		*out = append(*out, refEvent{key: file + "#" + strconv.Itoa(n), rows: []map[string]string{flat}, ecs: rec.ECS()})
		return nil
	}
}

// refVerdict is one line of a golden file of verdicts (verdicts.py's, and
// filters.py's and pipelines.py's, which write the same columns).
type refVerdict struct {
	file    string          // under the SigmaHQ folder
	id      string          // the rule's id
	err     string          // pySigma refused the rule
	skip    string          // not compared: not a Windows rule, or a category no Windows event has
	matched map[string]bool // event keys
}

func readReference(t *testing.T, golden string) []refVerdict {
	t.Helper()
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refVerdict
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 4 {
			t.Fatalf("%s:%d: %d columns, want 4", golden, line, len(cols))
		}
		v := refVerdict{file: cols[0], id: cols[1], matched: map[string]bool{}}
		switch cols[2] {
		case "error":
			v.err = cols[3]
		case "skip":
			v.skip = cols[3]
		case "ok":
			for k := range strings.SplitSeq(cols[3], ",") {
				if k != "" {
					v.matched[k] = true
				}
			}
		default:
			t.Fatalf("%s:%d: status %q", golden, line, cols[2])
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPySigmaReference compares webshellbeat with a reference
// implementation, rule by rule and event by event: pySigma's SQLite backend
// and Windows pipelines (what Zircolite runs) over the raw event fields,
// against webshellbeat's own path (module/windows to ECS, the built-in
// pipelines, logsource routing, the engine). Every rule of the folders on
// every event of the shared samples must get the same verdict,
// except the rules listed in referenceDiffs with the reason; a listed rule
// that now agrees fails too, so that the list stays true.
func TestPySigmaReference(t *testing.T) {
	events := referenceSamples(t)
	if *referenceEvents != "" {
		writeReferenceEvents(t, *referenceEvents, events)
	}
	coll := referenceRules()
	eng, err := engine.New(coll, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file := func(r *sigma.Rule) string {
		rel, _ := filepath.Rel(sigmaHQ, r.Path)
		return filepath.ToSlash(rel)
	}
	ours := map[string]map[string]bool{} // rule file -> event keys
	for _, ev := range events {
		for _, r := range eng.Match(ev.ecs) {
			// webshellbeat runs Linux process_creation (and file and
			// network) rules on audit events too, as on Sysmon for Linux's;
			// the reference reads audit records only as auditd rules do, so
			// only those are compared on them.
			if ev.audit() && r.Logsource.Service != "auditd" {
				continue
			}
			if ev.web() != (r.Logsource.Category == "webserver") {
				continue
			}
			if ours[file(r)] == nil {
				ours[file(r)] = map[string]bool{}
			}
			ours[file(r)][ev.key] = true
		}
	}
	loaded, webRule := map[string]bool{}, map[string]bool{}
	for _, r := range coll.Rules {
		loaded[file(r)] = true
		webRule[file(r)] = r.Logsource.Category == "webserver"
	}
	verdicts := readReference(t, referenceGolden)
	checkReferenceFiles(t, referenceDirs(), verdicts)
	var compared, agreed, refused, skipped, matches int
	for _, v := range verdicts {
		switch {
		case v.err != "":
			refused++
			continue
		case v.skip != "":
			skipped++
			continue
		case !loaded[v.file]:
			t.Errorf("%s: pySigma converts it, webshellbeat did not load it", v.file)
			continue
		}
		if !webRule[v.file] {
			// SQLite runs a Windows rule with no channel condition (a
			// keyword search of product windows) on the access log's
			// rows too; webshellbeat routes it to Windows events only.
			maps.DeleteFunc(v.matched, func(k string, _ bool) bool { return strings.HasPrefix(k, "web/") })
		}
		compared++
		matches += len(v.matched)
		missed, extra := setDiff(v.matched, ours[v.file]), setDiff(ours[v.file], v.matched)
		reason, listed := referenceDiffs[v.file]
		switch {
		case len(missed)+len(extra) == 0 && listed:
			t.Errorf("%s: listed in referenceDiffs (%s), but now agrees with pySigma: take it off the list", v.file, reason)
		case len(missed)+len(extra) == 0:
			agreed++
		case !listed:
			t.Errorf("%s: pySigma matches %d events, webshellbeat %d; only pySigma: %v; only webshellbeat: %v",
				v.file, len(v.matched), len(ours[v.file]), missed, extra)
		}
	}
	if compared < 2000 {
		t.Errorf("compared %d rules, want the whole folders (over 2,000)", compared)
	}
	t.Logf("%d events; %d rules compared (%d matches in the reference), %d agree, %d differ as listed; %d skipped, pySigma refused %d",
		len(events), compared, matches, agreed, len(referenceDiffs), skipped, refused)
}

// checkReferenceFiles fails unless the golden file has a verdict for each
// rule file of dirs and no other: the script and the test read the same
// folders.
func checkReferenceFiles(t *testing.T, dirs []string, verdicts []refVerdict) {
	t.Helper()
	want := map[string]bool{}
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, _ os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".yml") {
				rel, _ := filepath.Rel(sigmaHQ, p)
				want[filepath.ToSlash(rel)] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range verdicts {
		if !want[v.file] {
			t.Errorf("%s: in %s, not in the folders", v.file, referenceGolden)
		}
		delete(want, v.file)
	}
	for f := range want {
		t.Errorf("%s: no verdict in %s: run reference/verdicts.py again", f, referenceGolden)
	}
}

// referenceDiffs are the rules on which webshellbeat and pySigma's SQLite
// backend differ, by file, with why.
var referenceDiffs = map[string]string{
	// Both on encodedProbes, which clients send encoded and the rules give
	// decoded.
	"rules/web/webserver_generic/web_sql_injection_in_access_logs.yml": "webshellbeat's keyword search also reads a request's decoded " +
		"query parameters (webshell.url.param_values), as Elasticsearch's keyword query reads the indexed document: sqlmap's " +
		"id=1+UNION+SELECT+password holds 'UNION SELECT' there, not in the raw line that SQLite reads",
	"rules-emerging-threats/2021/Exploits/CVE-2021-44228/web_cve_2021_44228_log4j.yml": "the same: " +
		"x=%24%7Bjndi%3Aldap%3A... decodes to the rule's '${jndi:ldap:'",
}

func setDiff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// writeReferenceEvents writes the events to path as JSON lines, for
// reference/verdicts.py: each event's Sigma-named fields and its key (_key).
func writeReferenceEvents(t *testing.T, path string, events []refEvent) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for _, ev := range events {
		for _, row := range ev.rows {
			doc := map[string]string{"_key": ev.key}
			for k, v := range row {
				doc[k] = v
			}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "%s\n", b)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(events))
	for i, ev := range events {
		keys[i] = ev.key
	}
	if len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
		t.Fatal("two events share a key")
	}
}

// TestPySigmaReferenceCurrent runs reference/verdicts.py with the python
// that WEBSHELLBEAT_PYSIGMA names (one with the packages of
// reference/requirements.txt; .ci/run makes it) and requires it to write
// exactly the held verdicts: the golden file is pySigma's, not edited.
func TestPySigmaReferenceCurrent(t *testing.T) {
	events := filepath.Join(t.TempDir(), "events.jsonl")
	python := pysigma(t)
	writeReferenceEvents(t, events, referenceSamples(t))
	sameAsHeld(t, referenceGolden, runReference(t, python, "verdicts.py", events, absSigmaHQ(t)))
}

// pysigma is the python that WEBSHELLBEAT_PYSIGMA names; the test is
// skipped without it, and fails under CI.
func pysigma(t *testing.T) string {
	t.Helper()
	python := os.Getenv("WEBSHELLBEAT_PYSIGMA")
	if python == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("WEBSHELLBEAT_PYSIGMA is not set: .ci/run installs pySigma and sets it")
		}
		t.Skip("WEBSHELLBEAT_PYSIGMA is not set (a python with pySigma, see reference/verdicts.py)")
	}
	return python
}

func absSigmaHQ(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(sigmaHQ)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// runReference runs a script of reference/ there (the scripts import
// verdicts.py beside them) and returns what it writes.
func runReference(t *testing.T, python, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(python, append([]string{script}, args...)...)
	cmd.Dir = "reference"
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s: %v\n%s", script, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	return out
}

// sameAsHeld fails unless out is the golden file's text, naming the first
// line that differs.
func sameAsHeld(t *testing.T, golden string, out []byte) {
	t.Helper()
	held, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(out, held) {
		return
	}
	got, want := strings.Split(string(out), "\n"), strings.Split(string(held), "\n")
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("%s differs from what the script writes now, first at line %d:\nheld: %.300s\nnow:  %.300s", golden, i+1, want[i], got[i])
		}
	}
	t.Fatalf("%s has %d lines, the script writes %d", golden, len(want), len(got))
}
