package sigma

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// selectRules is a collection of detection rules with the given
// level/status ("" leaves the key out), titled by position, plus the
// correlations given.
func selectRules(t *testing.T, rules [][2]string, correlations string) *Collection {
	t.Helper()
	var b strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&b, "title: r%d\nname: r%d\nlogsource: {product: windows}\ndetection: {s: {a: %d}, condition: s}\n", i, i, i)
		if r[0] != "" {
			fmt.Fprintf(&b, "level: %s\n", r[0])
		}
		if r[1] != "" {
			fmt.Fprintf(&b, "status: %s\n", r[1])
		}
		b.WriteString("---\n")
	}
	b.WriteString(correlations)
	c := loadOne(b.String())
	if len(c.Errors) > 0 {
		t.Fatalf("errors: %v", c.Errors)
	}
	return c
}

func titles(rules []*Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Title)
	}
	return out
}

func TestSelectByLevelAndStatus(t *testing.T) {
	rules := [][2]string{
		{"informational", "stable"}, // r0
		{"low", "test"},             // r1
		{"medium", "experimental"},  // r2
		{"high", "deprecated"},      // r3
		{"critical", "unsupported"}, // r4
		{"", ""},                    // r5: no level, no status
		{"High", "Test"},            // r6: case does not matter
	}
	for _, tc := range []struct {
		sel        Selection
		kept, left []string
	}{
		{Selection{}, []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}, nil},
		{Selection{MinLevel: "medium"}, []string{"r2", "r3", "r4", "r5", "r6"}, []string{"r0", "r1"}},
		{Selection{MinLevel: "info"}, []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}, nil},
		{Selection{ExcludeStatus: []string{"deprecated", "unsupported"}}, []string{"r0", "r1", "r2", "r5", "r6"}, []string{"r3", "r4"}},
		{Selection{MinLevel: "high", ExcludeStatus: []string{"test"}}, []string{"r3", "r4", "r5"}, []string{"r0", "r1", "r2", "r6"}},
	} {
		c := selectRules(t, rules, "")
		left := c.Select(tc.sel)
		if got := titles(c.Rules); !slices.Equal(got, tc.kept) {
			t.Errorf("%+v: kept %v, want %v", tc.sel, got, tc.kept)
		}
		if got := titles(left); !slices.Equal(got, tc.left) {
			t.Errorf("%+v: left out %v, want %v", tc.sel, got, tc.left)
		}
	}
}

// A correlation that is kept keeps the rules it names, through a chain,
// whatever their level; one that is left out does not.
func TestSelectKeepsWhatCorrelationsName(t *testing.T) {
	corr := `title: inner
name: inner
level: informational
correlation: {type: event_count, rules: [r0], timespan: 5m, condition: {gte: 3}}
---
title: outer
level: high
correlation: {type: temporal, rules: [inner, r1], timespan: 5m}
---
title: dropped
level: low
correlation: {type: event_count, rules: [r2], timespan: 5m, condition: {gte: 3}}
`
	c := selectRules(t, [][2]string{{"informational", ""}, {"low", "deprecated"}, {"low", ""}, {"low", ""}}, corr)
	if len(c.Correlations) != 3 {
		t.Fatalf("correlations loaded: %v (errors %v)", titles(c.Correlations), c.Errors)
	}
	left := c.Select(Selection{MinLevel: "medium", ExcludeStatus: []string{"deprecated"}})
	if got, want := titles(c.Rules), []string{"r0", "r1"}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	if got, want := titles(c.Correlations), []string{"inner", "outer"}; !slices.Equal(got, want) {
		t.Errorf("kept correlations %v, want %v", got, want)
	}
	if got, want := titles(left), []string{"r2", "r3", "dropped"}; !slices.Equal(got, want) {
		t.Errorf("left out %v, want %v", got, want)
	}
}

func TestSelectionValidate(t *testing.T) {
	for _, s := range []Selection{{}, {MinLevel: "info"}, {MinLevel: "Critical", ExcludeStatus: []string{"Deprecated"}}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	for s, want := range map[*Selection]string{
		{MinLevel: "severe"}:                   `min_level "severe" is not one of informational, low`,
		{ExcludeStatus: []string{"deprecatd"}}: `exclude_status "deprecatd" is not one of stable`,
	} {
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", *s, err, want)
		}
	}
}
