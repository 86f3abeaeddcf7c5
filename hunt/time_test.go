package hunt_test

import "time"

func docTime(doc map[string]any) int64 {
	t, _ := doc["@timestamp"].(time.Time)
	return t.UnixNano()
}
