package detection

import (
	"reflect"
	"testing"
)

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

// A path goes on through a list as Elasticsearch reads arrays of objects,
// and a number picks an element (SigmaHQ's auditd a0, a1, ...).
func TestLookupThroughLists(t *testing.T) {
	doc := map[string]any{
		"process": map[string]any{"args": []string{"wget", "--post-file=/etc/passwd"}},
		"auditd": map[string]any{"paths": []any{
			map[string]any{"name": "/bin/sh", "nametype": "NORMAL"},
			map[string]any{"name": "/lib64/ld-linux-x86-64.so.2", "nametype": "NORMAL", "tags": []any{"a", "b"}},
			"not an object",
			map[string]any{"nametype": "PARENT"},
		}},
	}
	for _, c := range []struct {
		path string
		want any // nil: absent
	}{
		{"process.args.0", "wget"},
		{"process.args.1", "--post-file=/etc/passwd"},
		{"process.args.2", nil},
		{"process.args.x", nil},
		{"auditd.paths.name", []any{"/bin/sh", "/lib64/ld-linux-x86-64.so.2"}},
		{"auditd.paths.nametype", []any{"NORMAL", "NORMAL", "PARENT"}},
		{"auditd.paths.tags", []any{"a", "b"}}, // lists among the values are flattened
		{"auditd.paths.1.name", "/lib64/ld-linux-x86-64.so.2"},
		{"auditd.paths.2", "not an object"},
		{"auditd.paths.3.name", nil},
		{"auditd.paths.9", nil},
		{"auditd.paths.inode", nil},
		{"process.args.0.x", nil},
	} {
		got, ok := Lookup(doc, c.path)
		if ok != (c.want != nil) || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("Lookup(%s) = %#v, %v; want %#v", c.path, got, ok, c.want)
		}
	}
}
