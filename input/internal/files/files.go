// Package files holds what webshellbeat's file-reading inputs (evtx, auditd)
// share: the paths setting expanded into cursor sources, and the wait between
// polls that ends when the input is stopped.
package files

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/elastic-agent-libs/mapstr"
	"github.com/elastic/go-concert/ctxtool"
	"github.com/elastic/go-concert/timed"
)

// Source is one file an input reads; its absolute path keys its checkpoint
// in the registry.
type Source string

// Name implements cursor.Source.
func (s Source) Name() string { return string(s) }

// Expand turns glob patterns into sources, one per existing file, sorted and
// without duplicates. Files that appear later are picked up on restart (the
// patterns are expanded when the input starts).
func Expand(patterns []string) ([]cursor.Source, error) {
	if len(patterns) == 0 {
		return nil, errors.New("paths: at least one file or glob pattern is required")
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("paths: bad pattern %q: %w", p, err)
		}
		for _, m := range matches {
			abs, err := filepath.Abs(m)
			if err != nil {
				return nil, fmt.Errorf("paths: %q: %w", m, err)
			}
			if !seen[abs] {
				seen[abs] = true
				names = append(names, abs)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("paths: no file matches %q", patterns)
	}
	sort.Strings(names)
	sources := make([]cursor.Source, len(names))
	for i, n := range names {
		sources[i] = Source(n)
	}
	return sources, nil
}

// Wait sleeps for d and reports whether the input should go on (false once
// it is stopped).
func Wait(ctx v2.Context, d time.Duration) bool {
	return timed.Wait(ctxtool.FromCanceller(ctx.Cancelation), d) == nil
}

// Event turns a mapped ECS document read from path into a beat event: the
// record's own time becomes the event's time (now when it has none) and
// log.file.path names the file (none for a live source: path "").
func Event(path string, doc map[string]any) beat.Event {
	fields := mapstr.M(doc)
	if path != "" {
		_, _ = fields.Put("log.file.path", path)
	}
	ts := time.Now().UTC()
	if t, ok := doc["@timestamp"].(time.Time); ok {
		ts = t
		delete(fields, "@timestamp")
	}
	return beat.Event{Timestamp: ts, Fields: fields}
}

// Readable checks that a source file can be opened (the inputs' Test).
func Readable(src cursor.Source) error {
	f, err := os.Open(src.Name())
	if err != nil {
		return err
	}
	return f.Close()
}

// Options lists the top-level option names of an input's config struct
// (its `config` tags, inline structs included; "reassembler.timeout" gives
// "reassembler"), for the beat's start-time check of misspelt options.
func Options(cfg any) []string {
	var names []string
	t := reflect.TypeOf(cfg)
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("config"), ",")
		switch {
		case strings.Contains(f.Tag.Get("config"), ",inline"):
			names = append(names, Options(reflect.Zero(f.Type).Interface())...)
		case tag != "" && tag != "-":
			name, _, _ := strings.Cut(tag, ".")
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}
