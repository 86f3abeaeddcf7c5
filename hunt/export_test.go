package hunt

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// Winlogbeat documents pulled back out of Elasticsearch or OpenSearch read
// as the documents themselves: elasticdump's NDJSON lines ({"_index",
// "_id", "_source"}) and _search responses, pretty-printed or on one line
// as curl writes them.
func TestElasticsearchExports(t *testing.T) {
	const golden = "../../shared/data/elastic-beats/x-pack/winlogbeat/module/security/test/testdata/ingest/security-windows2019_4688_Process_Created.golden.json"
	raw, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	var events []json.RawMessage // the golden file is an array of one event
	if err := json.Unmarshal(raw, &events); err != nil || len(events) != 1 {
		t.Fatalf("%s: %v (%d events)", golden, err, len(events))
	}
	event := string(events[0])
	want, st := records(t, golden)
	if len(want) != 1 || st.Errors != 0 {
		t.Fatalf("original: %d records, %+v", len(want), st)
	}
	hit := func(id string) string {
		return `{"_index":"winlogbeat-9.3.0","_id":"` + id + `","_score":1,"_source":` + event + `}`
	}
	search := `{"took":2,"timed_out":false,"hits":{"total":{"value":2},"hits":[` + hit("a") + `,` + hit("b") + `]}}`
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(search), "", "  "); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		text string
		n    int
	}{
		"elasticdump.ndjson":   {hit("a") + "\n" + hit("b") + "\n" + hit("c") + "\n", 3},
		"search-oneline.json":  {search + "\n", 2},
		"search-pretty.json":   {pretty.String(), 2},
		"search-two-responses": {search + "\n" + search + "\n", 4},
	} {
		got, st := records(t, writeFile(t, dir, name, []byte(tc.text)))
		_, failed := wheres(got)
		if len(failed) > 0 || st.Formats[FormatJSON] != 1 || !slices.Equal(docs(t, got), slices.Repeat(docs(t, want), tc.n)) {
			t.Errorf("%s: %d records (failed %v), formats %v; want %d copies of the golden event", name, len(got), failed, st.Formats, tc.n)
		}
	}
}
