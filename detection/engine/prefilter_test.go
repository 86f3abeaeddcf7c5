package engine

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
	"webshellbeat/module/windows"
)

// The prefiltered engine must give exactly the matches of a full scan. The
// events are built from the rules' own literals (so that many rules become
// candidates, and some match) over the whole SigmaHQ corpus, plus the
// hand-written Sysmon and web documents.
func TestPrefilterEqualsFullScan(t *testing.T) {
	fast, full := prefilterPair(t)
	docs := []map[string]any{sysmonDoc(), webDoc()}
	rng := rand.New(rand.NewPCG(1, 2))
	for rt, pos := range fast.index {
		b := fast.bucketOf(pos)
		for n := 0; n < 40; n++ {
			docs = append(docs, literalDoc(rng, rt, b, fast))
		}
	}
	matched := sameMatches(t, fast, full, docs)
	if matched < 50 {
		t.Errorf("only %d matches: the generated documents do not exercise the rules", matched)
	}
}

// prefilterPair loads the whole SigmaHQ corpus twice: with the prefilter,
// and as the full scan it must agree with.
func prefilterPair(t *testing.T) (fast, full *Engine) {
	coll := sigma.LoadPaths(sigmaHQDirs(t)...)
	fast, err := New(coll, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if full, err = New(coll, Options{fullScan: true}); err != nil {
		t.Fatal(err)
	}
	return fast, full
}

// sameMatches fails unless both engines match each document with the same
// rules, and returns the number of matches.
func sameMatches(t *testing.T, fast, full *Engine, docs []map[string]any) int {
	matched := 0
	for i, doc := range docs {
		// Each engine renames its own copy of the rules: compare by file.
		want := full.Match(doc)
		if got := fast.Match(doc); !slices.Equal(paths(got), paths(want)) {
			t.Fatalf("doc %d: prefilter matched %v, full scan %v\ndoc: %v", i, paths(got), paths(want), doc)
		}
		matched += len(want)
	}
	t.Logf("%d documents, %d rule matches, identical with and without the prefilter", len(docs), matched)
	return matched
}

// literalDoc builds a document of route rt whose indexed fields hold a few of
// the bucket's literals, wrapped in noise.
func literalDoc(rng *rand.Rand, rt route, b *bucket, e *Engine) map[string]any {
	doc := routeDoc(rt)
	if len(b.groups) == 0 {
		return doc
	}
	for k := 0; k < 1+rng.IntN(3); k++ {
		g := b.groups[rng.IntN(len(b.groups))]
		lit := g.lits[rng.IntN(len(g.lits))]
		val := lit
		switch rng.IntN(3) {
		case 1:
			val = "C:\\Windows\\" + lit
		case 2:
			val = lit + " /c x"
		}
		field := "message" // a keyword search reads every field
		if g.ids != nil {
			field = e.fields.Path(g.ids[0])
		}
		detection.Put(doc, field, val)
	}
	return doc
}

// routeDoc is an empty document that routes to rt.
func routeDoc(rt route) map[string]any {
	doc := map[string]any{}
	if rt.product != "" {
		detection.Put(doc, "host.os.type", rt.product)
	}
	switch rt.category {
	case "process_creation":
		detection.Put(doc, "event.category", []string{"process"})
		detection.Put(doc, "event.type", []string{"start"})
	case "network_connection":
		detection.Put(doc, "event.category", []string{"network"})
	case "file_event", "file_creation":
		detection.Put(doc, "event.category", []string{"file"})
		detection.Put(doc, "event.type", []string{"creation"})
	case "webserver":
		detection.Put(doc, "event.category", []string{"web"})
	}
	switch rt.service {
	case "security":
		detection.Put(doc, "winlog.channel", "Security")
	case "sysmon":
		detection.Put(doc, "winlog.channel", "Microsoft-Windows-Sysmon/Operational")
	case "auditd", "apache", "nginx", "iis":
		detection.Put(doc, "event.module", rt.service)
	}
	return doc
}

func paths(rules []*sigma.Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Path+"#"+r.Title)
	}
	return out
}

// On real events too: every event of the shared EVTX samples (attack
// samples, benign Sysmon and Security logs, and SigmaHQ's regression
// events, written to fire rules), against a full scan of the whole corpus.
func TestPrefilterEqualsFullScanOnRealEvents(t *testing.T) {
	docs := realEvents(t)
	fast, full := prefilterPair(t)
	matched := sameMatches(t, fast, full, docs)
	if len(docs) < 1000 || matched < 100 {
		t.Errorf("%d events, %d matches: the shared samples are missing or say too little", len(docs), matched)
	}
}

// realEvents reads every event of the shared EVTX files as ECS documents.
func realEvents(t *testing.T) []map[string]any {
	const data = "../../../shared/data/"
	files, _ := filepath.Glob(data + "sbousseaden-EVTX-ATTACK-SAMPLES/*/*.evtx")
	files = append(files, data+"omerbenamram-evtx/samples/sysmon.evtx", data+"omerbenamram-evtx/samples/security.evtx")
	_ = filepath.WalkDir(data+"SigmaHQ-sigma/regression_data", func(p string, _ fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	var docs []map[string]any
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Skipf("shared samples not available: %v", err)
		}
		_ = windows.ReadEVTX(fh, 0, func(rec *windows.Record, err error) error {
			if err == nil {
				docs = append(docs, rec.ECS())
			}
			return nil
		})
		fh.Close()
	}
	return docs
}
