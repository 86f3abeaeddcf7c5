package sigma

import (
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
		{"type: event_count\n    rules: [base]\n    timespan: 1M\n    condition: {gte: 1}", `11:15: bad-correlation: timespan "1M"`},
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
