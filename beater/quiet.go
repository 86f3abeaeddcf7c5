package beater

import (
	"fmt"
	"strings"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// filesetNoise are the starts of the messages filebeat's beater logs about
// its fileset modules (a "module" folder of filesets with ingest
// pipelines): that the folder is missing (an ERROR at every start) and that
// the pipelines cannot be loaded without the Elasticsearch output.
// webshellbeat has no filesets: its modules are files of inputs
// (modulesManager) and its parsing is done by its decode processors, so
// these lines describe nothing a user can act on. filesetConfig refuses the
// settings that would have used filesets, so nothing configured is lost
// with them.
var filesetNoise = []string{
	"Not loading modules. Module directory not found:",
	"Filebeat is unable to load the ingest pipelines for the configured modules",
}

// withoutFilesetNoise returns log with filesetNoise dropped.
func withoutFilesetNoise(log *logp.Logger) *logp.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{c} }))
}

type quietCore struct{ zapcore.Core }

func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	for _, noise := range filesetNoise {
		if strings.HasPrefix(e.Message, noise) {
			return ce
		}
	}
	return c.Core.Check(e, ce)
}

func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{c.Core.With(fields)}
}

// filesetConfig refuses filebeat's fileset module settings (modules,
// config.modules): with no filesets to load, filebeat would start without
// them and read nothing they name.
func filesetConfig(c *conf.C) error {
	key := ""
	if c.HasField("modules") {
		key = "modules"
	} else if sub, err := c.Child("config", -1); err == nil && sub.HasField("modules") {
		key = "config.modules"
	}
	if key == "" {
		return nil
	}
	return fmt.Errorf("webshellbeat.%s: webshellbeat has no filebeat fileset modules; its modules are the input files of modules.d/ (see `webshellbeat modules list`), loaded through webshellbeat.config.inputs", key)
}
