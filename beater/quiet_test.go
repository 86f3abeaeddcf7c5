package beater

import (
	"strings"
	"testing"

	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestWithoutFilesetNoise(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	base, err := logp.NewZapLogger(zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	log := withoutFilesetNoise(base)
	// As filebeat logs them: the registry through a named child logger.
	log.Named("modules").Errorf("Not loading modules. Module directory not found: %s", "/opt/webshellbeat/module")
	log.Warn("Filebeat is unable to load the ingest pipelines for the configured modules because the Elasticsearch output is not configured/enabled.")
	log.With("input_id", "x").Errorf("Harvester could not be started on new file: %s", "/var/log/a")
	log.Named("modules").Info("Not loading modules is a phrase inside, not at the start")

	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Message)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "Harvester could not") || !strings.HasPrefix(got[1], "Not loading modules is") {
		t.Errorf("logged %q; want only the two messages that are not fileset noise", got)
	}
}

func TestFilesetConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		yaml, want string
	}{
		{"config.inputs: {enabled: true, path: modules.d/*.yml}", ""},
		{"inputs: [{type: filestream, id: a}]", ""},
		{"modules: [{module: apache}]", "webshellbeat.modules:"},
		{"config.modules: {path: modules.d/*.yml}", "webshellbeat.config.modules:"},
	} {
		c, err := conf.NewConfigWithYAML([]byte(tc.yaml), "test")
		if err != nil {
			t.Fatal(err)
		}
		err = filesetConfig(c)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), "modules.d/")):
			t.Errorf("%s: error %v, want one starting %q that names modules.d/", tc.yaml, err, tc.want)
		}
	}
}
