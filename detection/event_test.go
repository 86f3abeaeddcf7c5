package detection

import "testing"

type registered map[string]any

type unregistered map[string]any

func init() { RegisterMapType[registered]() }

// Named map types (libbeat's mapstr.M) are read as maps, registered ones by
// type assertion and others by reflection, both without copying.
func TestAsMapNamedTypes(t *testing.T) {
	for _, v := range []any{registered{"a": "x"}, unregistered{"a": "x"}, map[string]any{"a": "x"}} {
		m, ok := AsMap(v)
		if !ok || m["a"] != "x" {
			t.Fatalf("AsMap(%T) = %v, %v", v, m, ok)
		}
		m["b"] = "y" // the same map, not a copy
		if got, _ := Lookup(map[string]any{"doc": v}, "doc.b"); got != "y" {
			t.Errorf("%T: a write through AsMap is not in the original map", v)
		}
	}
	for _, v := range []any{nil, "s", 3, []any{1}, map[string]string{"a": "x"}} {
		if _, ok := AsMap(v); ok {
			t.Errorf("AsMap(%T) reports a map", v)
		}
	}
}
