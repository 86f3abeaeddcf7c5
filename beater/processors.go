package beater

import (
	"fmt"

	"github.com/elastic/beats/v7/libbeat/processors"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
)

// badProcessors builds the processors of every enabled input, of
// webshellbeat.inputs and of the enabled modules, and returns the first
// that cannot be built, with where it is: an unknown option of
// decode_access_log, a format that does not exist, a misspelt processor.
// filestream builds an input's processors only when it opens a file; a
// mistake there is then logged once per file, and the beat runs on and
// indexes nothing from that input, while `test config` says OK.
//
// The webshell processor is left out: it holds the detector's state and
// its rules, and it belongs in the top-level processors, which libbeat
// builds (and checks) itself.
func badProcessors(c *conf.C) error {
	return eachInput(c, func(where string, in *conf.C) error {
		if !in.HasField("processors") {
			return nil
		}
		name, err := in.String("id", -1)
		if err != nil {
			name, _ = in.String("type", -1)
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
	})
}

// webshellName is the webshell processor's name in configurations.
const webshellName = "webshell"
