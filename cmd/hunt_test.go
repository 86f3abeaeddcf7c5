package cmd

import (
	"bytes"
	"strings"
	"testing"
)

const samplesDir = "../testdata/samples"

// TestHuntSummaryCountsCorrelations: the summary counts the correlation
// rules hunt runs, apart from the detection rules, as "rules check" does.
func TestHuntSummaryCountsCorrelations(t *testing.T) {
	dir := writeRules(t, map[string]string{"good.yml": goodRule, "corr.yml": corrRule})
	for _, tt := range []struct {
		name  string
		rules []string
		want  string
	}{
		{name: "correlation loaded", rules: []string{dir}, want: "hunt: 1 rules, 1 correlation rules, "},
		{name: "built-in pack", want: " rules, 0 correlation rules, "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runHunt(&stdout, &stderr, []string{samplesDir}, "table", "", tt.rules); code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", code, &stderr)
			}
			if !strings.Contains(summaryLine(stderr.String()), tt.want) {
				t.Errorf("summary does not contain %q:\n%s", tt.want, &stderr)
			}
		})
	}
}

// summaryLine is the last "hunt: " line of hunt's standard error.
func summaryLine(stderr string) string {
	line := ""
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "hunt: ") {
			line = l
		}
	}
	return line
}
