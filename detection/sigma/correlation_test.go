package sigma

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func loadOne(src string) *Collection {
	return LoadFS(fstest.MapFS{"r/x.yml": {Data: []byte(src)}}, "r")
}

const baseForCorr = `title: base
name: base
logsource: {product: windows}
detection: {s: {a: 1}, condition: s}
`

func TestParseCorrelation(t *testing.T) {
	c := loadOne(baseForCorr + `---
title: v
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_percentile
    rules: [base]
    group-by: [ComputerName, WorkstationName]
    timespan: 1d
    condition:
        field: User
        percentile: 95
        gt: 100
        lte: 200
    aliases:
        ip: {base: source.ip}
    generate: true
`)
	if len(c.Errors) > 0 || len(c.Correlations) != 1 {
		t.Fatalf("errors %v", c.Errors)
	}
	k := c.Correlations[0].Correlation
	if k.Type != CorrValuePercentile || k.Window != 24*time.Hour || k.Field != "User" || k.Percentile != 95 ||
		len(k.Conditions) != 2 || k.Conditions[0] != (CorrCondition{"gt", 100}) || k.Conditions[1] != (CorrCondition{"lte", 200}) ||
		k.Aliases["ip"]["base"] != "source.ip" || !k.Generate || len(k.GroupBy) != 2 {
		t.Errorf("parsed %+v", k)
	}
}

func TestCorrelationErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"type: event_counts\n    rules: [base]\n    timespan: 5m\n    condition: {gte: 1}", `9:11: bad-correlation: unknown correlation type "event_counts"`},
		{"type: event_count\n    rules: [base]\n    timespan: 5 minutes\n    condition: {gte: 1}", `11:15: bad-correlation: timespan "5 minutes"`},
		{"type: event_count\n    rules: [base]\n    timespan: 1Y\n    condition: {gte: 1}", `11:15: bad-correlation: timespan "1Y"`},
		{"type: event_count\n    rules: [base]\n    timespan: 0m\n    condition: {gte: 1}", `11:15: bad-correlation: timespan "0m"`},
		{"type: event_count\n    rules: [base]\n    timespan: 5m", `8:1: bad-correlation: correlation type event_count needs a condition`},
		{"type: event_count\n    rules: [base]\n    timespan: 5m\n    condition: {gte: ten}", `12:22: bad-correlation: condition gte: "ten" is not a number`},
		{"type: event_count\n    rules: [base]\n    timespan: 5m\n    condition: {greater: 1}", `12:17: bad-correlation: unknown condition key "greater"`},
		{"type: value_count\n    rules: [base]\n    timespan: 5m\n    condition: {gte: 1}", `12:16: bad-correlation: correlation type value_count needs condition.field`},
		{"type: temporal\n    rules: [base]\n    timespan: 5m\n    groupby: [x]", `12:5: bad-correlation: unknown key "groupby" in correlation`},
		{"type: temporal\n    rules: [nothere]\n    timespan: 5m", `8:1: unknown-rule: correlation "c" names rule "nothere", which is not loaded`},
		{"type: temporal\n    rules: [base, c]\n    timespan: 5m", `8:1: unknown-rule: correlation "c": rule "c" makes a cycle`},
	} {
		c := loadOne(baseForCorr + "---\ntitle: c\nname: c\ncorrelation:\n    " + tc.body + "\n")
		if len(c.Errors) == 0 || !strings.Contains(c.Errors[0].Error(), "r/x.yml:"+tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.body, c.Errors, tc.want)
		}
		if len(c.Correlations) != 0 {
			t.Errorf("%q: kept", tc.body)
		}
	}
}

// pySigma's timespan units beyond the specification's s, m, h and d:
// weeks, and months and years as averages of the Gregorian calendar.
func TestParseTimespanUnits(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute, "2w": 14 * 24 * time.Hour,
		"1M": 2629746 * time.Second, "1y": 31556952 * time.Second, "12M": 12 * 2629746 * time.Second,
	} {
		if got, ok := ParseTimespan(in); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"1Y", "1H", "m", "1.5h", "-1m", "1 m"} {
		if got, ok := ParseTimespan(in); ok {
			t.Errorf("%s: %v, want refused", in, got)
		}
	}
}

func TestCorrelationChainAndCycle(t *testing.T) {
	c := loadOne(baseForCorr + `---
title: a
name: a
correlation: {type: event_count, rules: [base], timespan: 5m, condition: {gte: 2}}
---
title: top
correlation: {type: temporal, rules: [a, base], timespan: 5m}
---
title: x
name: x
correlation: {type: temporal, rules: [y], timespan: 5m}
---
title: y
name: y
correlation: {type: temporal, rules: [x], timespan: 5m}
`)
	if len(c.Correlations) != 2 || c.Errors.ByCode()[CodeUnknownRule] != 2 {
		t.Errorf("correlations %d, errors %v", len(c.Correlations), c.Errors)
	}
}

const threeBases = `title: a
name: recon_cmd_a
logsource: {product: windows}
detection: {s: {a: 1}, condition: s}
---
title: b
name: recon_cmd_b
logsource: {product: windows}
detection: {s: {a: 2}, condition: s}
---
title: c
name: recon_cmd_c
logsource: {product: windows}
detection: {s: {a: 3}, condition: s}
`

// The specification's schema tests write an extended condition as
// "recon_cmd_a AND recon_cmd_b AND recon_cmd_c"; pySigma's tests as
// "rule_a and not rule_b", and take the rules from it when there is no
// rules list.
func TestParseExtendedCondition(t *testing.T) {
	for _, tc := range []struct {
		body    string
		rules   []string
		clauses []CorrClause
	}{
		{"type: temporal\n    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]\n    group-by: [ComputerName, User]\n    timespan: 5m\n    condition: recon_cmd_a AND recon_cmd_b AND recon_cmd_c",
			[]string{"recon_cmd_a", "recon_cmd_b", "recon_cmd_c"}, []CorrClause{{Must: []int{0, 1, 2}}}},
		{"type: temporal_ordered\n    timespan: 5m\n    condition: recon_cmd_b and not recon_cmd_a",
			[]string{"recon_cmd_b", "recon_cmd_a"}, []CorrClause{{Must: []int{0}, MustNot: []int{1}}}},
		// not binds tighter than and, and than or; De Morgan inside not;
		// "a and not a" can never hold and is dropped.
		{"type: temporal\n    rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]\n    timespan: 5m\n    condition: recon_cmd_a or not (recon_cmd_b or recon_cmd_a) and recon_cmd_c",
			[]string{"recon_cmd_a", "recon_cmd_b", "recon_cmd_c"}, []CorrClause{{Must: []int{0}}, {Must: []int{2}, MustNot: []int{0, 1}}}},
		{"type: temporal\n    rules: [recon_cmd_a, recon_cmd_b]\n    timespan: 5m\n    condition: (recon_cmd_a or recon_cmd_b) and not (recon_cmd_a and recon_cmd_b)",
			[]string{"recon_cmd_a", "recon_cmd_b"}, []CorrClause{{Must: []int{0}, MustNot: []int{1}}, {Must: []int{1}, MustNot: []int{0}}}},
	} {
		c := loadOne(threeBases + "---\ntitle: x\ncorrelation:\n    " + tc.body + "\n")
		if len(c.Errors) > 0 || len(c.Correlations) != 1 {
			t.Errorf("%s: %v", tc.body, c.Errors)
			continue
		}
		k := c.Correlations[0].Correlation
		if !slices.Equal(k.Rules, tc.rules) || k.Expression == "" || len(k.Conditions) != 0 ||
			!slices.EqualFunc(k.Clauses, tc.clauses, func(a, b CorrClause) bool {
				return slices.Equal(a.Must, b.Must) && slices.Equal(a.MustNot, b.MustNot)
			}) {
			t.Errorf("%s:\n rules %v clauses %v", tc.body, k.Rules, k.Clauses)
		}
	}
}

func TestExtendedConditionErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"type: event_count\n    rules: [recon_cmd_a]\n    timespan: 5m\n    condition: recon_cmd_a", "condition must be a mapping"},
		{"type: temporal\n    rules: [recon_cmd_a, recon_cmd_b]\n    timespan: 5m\n    condition: recon_cmd_a", `rule "recon_cmd_b" is in the correlation's rules but not in its condition`},
		{"type: temporal\n    rules: [recon_cmd_a]\n    timespan: 5m\n    condition: recon_cmd_a and recon_cmd_c", `condition names "recon_cmd_c", which is not in the correlation's rules`},
		{"type: temporal\n    timespan: 5m\n    condition: recon_cmd_a and not recon_cmd_a", "can never hold"},
		{"type: temporal\n    timespan: 5m\n    condition: recon_cmd_a or not recon_cmd_b", `holds with "not recon_cmd_b" alone`},
		{"type: temporal\n    timespan: 5m\n    condition: not (recon_cmd_a and recon_cmd_b)", `holds with "not recon_cmd_a" alone`},
		{"type: temporal\n    timespan: 5m\n    condition: 1 of recon_cmd_*", `"of" is not allowed`},
		{"type: temporal\n    timespan: 5m\n    condition: recon_cmd_a and (recon_cmd_b", "bad-correlation: condition"},
		{"type: temporal\n    timespan: 5m\n    condition: recon_cmd_* and recon_cmd_a", `wildcard "recon_cmd_*"`},
	} {
		c := loadOne(threeBases + "---\ntitle: x\ncorrelation:\n    " + tc.body + "\n")
		if len(c.Errors) == 0 || !strings.Contains(c.Errors[0].Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s", tc.body, c.Errors, tc.want)
		}
		if len(c.Correlations) != 0 {
			t.Errorf("%q: kept", tc.body)
		}
	}
	// Alternatives multiply: (a1 or b1) and (a2 or b2) and ... is bounded.
	cond := strings.Repeat("(recon_cmd_a or recon_cmd_b) and ", 7) + "recon_cmd_c"
	c := loadOne(threeBases + "---\ntitle: x\ncorrelation:\n    type: temporal\n    timespan: 5m\n    condition: " + cond + "\n")
	if len(c.Errors) == 0 || !strings.Contains(c.Errors[0].Error(), "more than 64 alternatives") {
		t.Errorf("%d alternatives: %v", 1<<7, c.Errors)
	}
}
