package beater

import (
	"fmt"
	"slices"

	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"

	"webshellbeat/input/auditd"
	"webshellbeat/input/evtx"
)

// inputProcessors refuses a misspelt processors or parsers key of an
// input, at where, and builds its processors, returning why they cannot be
// built: an unknown option of decode_access_log, a format that does not
// exist, a misspelt processor. filestream builds an input's processors only
// when it opens a file; a mistake there is then logged once per file, and
// the beat runs on and indexes nothing from that input, while `test config`
// says OK.
//
// The webshell processor is left out: it holds the detector's state and
// its rules, and it belongs in the top-level processors, which libbeat
// builds (and checks) itself.
func inputProcessors(where string, in *conf.C) error {
	name, err := in.String("id", -1)
	if err != nil {
		name, _ = in.String("type", -1)
	}
	if key, meant := misspelt(in.GetFields()); key != "" {
		return fmt.Errorf("%s: input %s: unknown option %q: did you mean %s? Without it the input's lines are read undecoded", where, name, key, meant)
	}
	typ, _ := in.String("type", -1)
	if typ == "filestream" {
		if key, moved := logInputKey(in.GetFields()); key != "" {
			return fmt.Errorf("%s: input %s: %q is an option of filebeat's log input, which filestream ignores: filestream's is %s", where, name, key, moved)
		}
	}
	if key, meant := nearOption(in.GetFields(), ownOptions[typ]); key != "" {
		return fmt.Errorf("%s: input %s: unknown option %q: did you mean %s? The %s input would ignore it", where, name, key, meant, typ)
	}
	if !in.HasField("processors") {
		return nil
	}
	var v struct {
		Processors processors.PluginConfig `config:"processors"`
	}
	if err := in.Unpack(&v); err != nil {
		return fmt.Errorf("%s: input %s: processors: %w", where, name, err)
	}
	var list processors.PluginConfig
	for _, p := range v.Processors {
		if !p.HasField(webshellName) {
			list = append(list, p)
		}
	}
	built, err := processors.New(list, logp.NewNopLogger())
	if err != nil {
		return fmt.Errorf("%s: input %s: processors: %w", where, name, err)
	}
	return built.Close()
}

// misspelt returns an input's key that is one or two letters off
// "processors" or "parsers", and which of the two it is off. Inputs ignore
// keys they do not know, so "procesors:" left the beat running and
// indexing raw lines, its decode processors never run.
func misspelt(keys []string) (key, meant string) {
	for _, k := range keys {
		for _, want := range []string{"processors", "parsers"} {
			if k != want && editDistance(k, want) <= 2 {
				return k, want
			}
		}
	}
	return "", ""
}

// logInputOptions are options of filebeat's log input that filestream
// takes under another name. At the top of a filestream input they are
// ignored without a word: the shipped modules' exclude_files stood there,
// and their compressed rotations were read as lines of binary.
var logInputOptions = map[string]string{
	"exclude_files":         "prospector.scanner.exclude_files",
	"include_files":         "prospector.scanner.include_files",
	"symlinks":              "prospector.scanner.symlinks",
	"recursive_glob":        "prospector.scanner.recursive_glob",
	"scan_frequency":        "prospector.scanner.check_interval",
	"close_inactive":        "close.on_state_change.inactive",
	"close_renamed":         "close.on_state_change.renamed",
	"close_removed":         "close.on_state_change.removed",
	"close_eof":             "close.reader.on_eof",
	"close_timeout":         "close.reader.after_interval",
	"harvester_buffer_size": "buffer_size",
	"max_bytes":             "message_max_bytes",
	"multiline":             "the multiline parser (parsers: [{multiline: ...}])",
	"json":                  "the ndjson parser (parsers: [{ndjson: ...}])",
}

// logInputKey returns the first of keys that is a log input option and
// filestream's name for it.
func logInputKey(keys []string) (key, moved string) {
	for _, k := range keys {
		if m, ok := logInputOptions[k]; ok {
			return k, m
		}
	}
	return "", ""
}

// ownOptions are the options of webshellbeat's own inputs.
var ownOptions = map[string][]string{"evtx": evtx.Options(), "auditd": auditd.Options()}

// commonInputOptions are what libbeat reads of every input.
var commonInputOptions = []string{"type", "id", "enabled", "processors", "fields", "fields_under_root", "tags", "index", "pipeline", "keep_null", "publisher_pipeline", "service", "name"}

// nearOption returns a key that is none of the options known (nor
// libbeat's) but one or two letters off one of them, and that one: path
// for paths, web_root for web_roots. libbeat hands an input keys it does
// not know, and the input ignores them, so a live auditd input with
// "web_root:" would run without watching the web root, and see no upload.
func nearOption(keys, known []string) (key, meant string) {
	for _, k := range keys {
		if slices.Contains(known, k) || slices.Contains(commonInputOptions, k) {
			continue
		}
		for _, want := range known {
			if editDistance(k, want) <= 2 {
				return k, want
			}
		}
	}
	return "", ""
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// webshellName is the webshell processor's name in configurations.
const webshellName = "webshell"
