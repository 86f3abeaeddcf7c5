package docid

import "reflect"

var mapType = reflect.TypeOf(map[string]any(nil))

// mapOf converts a named map type with string keys and any values (such as
// libbeat's mapstr.M) to map[string]any without copying.
func mapOf(v any) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || !rv.Type().ConvertibleTo(mapType) {
		return nil, false
	}
	return rv.Convert(mapType).Interface().(map[string]any), true
}
