package compile

import (
	"encoding/json"
	"strconv"
	"time"

	"webshellbeat/detection/sigma"
)

// timeLayouts are the timestamp forms a time modifier reads from a string:
// RFC 3339 (ECS @timestamp) and the same without a zone, read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads a timestamp: a time.Time, an RFC 3339 string, or a number
// of seconds (milliseconds above 1e12) since the Unix epoch.
func parseTime(v any) (time.Time, bool) {
	var secs float64
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x == nil {
			return time.Time{}, false
		}
		return *x, true
	case string:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, false
		}
		secs = f
	case float64:
		secs = x
	case int64:
		secs = float64(x)
	case int:
		secs = float64(x)
	case uint64:
		secs = float64(x)
	default:
		return time.Time{}, false
	}
	if secs > 1e12 || secs < -1e12 {
		secs /= 1000
	}
	return time.Unix(0, 0).Add(time.Duration(secs * float64(time.Second))), true
}

// timePart extracts the part a time modifier names, in UTC.
func timePart(m sigma.Modifier, t time.Time) float64 {
	t = t.UTC()
	switch m {
	case sigma.ModMinute:
		return float64(t.Minute())
	case sigma.ModHour:
		return float64(t.Hour())
	case sigma.ModDay:
		return float64(t.Day())
	case sigma.ModWeek:
		_, w := t.ISOWeek()
		return float64(w)
	case sigma.ModMonth:
		return float64(t.Month())
	default:
		return float64(t.Year())
	}
}

// matchTime: some timestamp of the field has a part that equals (or, with
// a comparison modifier, compares to) some value.
func (n *fieldNode) matchTime(raw any) bool {
	if l, ok := raw.([]any); ok {
		for _, x := range l {
			if n.matchTime(x) {
				return true
			}
		}
		return false
	}
	t, ok := parseTime(raw)
	if !ok {
		return false
	}
	x := timePart(n.part, t)
	for _, want := range n.nums {
		if n.op == 0 && x == want || n.op != 0 && compare(n.op, x, want) {
			return true
		}
	}
	return false
}
