package beater

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"

	fbbeater "github.com/elastic/beats/v7/filebeat/beater"
	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/cfgfile"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"
	"github.com/elastic/beats/v7/libbeat/cmd/instance"
	conf "github.com/elastic/elastic-agent-libs/config"

	"webshellbeat/processor"
)

// Creator wraps filebeat's beater constructor so that the webshell
// processors' hub gets the beat's pipeline (b.Publisher), through which it
// publishes the documents the detector derives.
func Creator(hub *processor.Hub) beat.Creator {
	create := fbbeater.New(Inputs)
	return func(b *beat.Beat, c *conf.C) (beat.Beater, error) {
		if flagString("once") == "true" {
			// filebeat's --once waits only for its legacy log input's
			// harvesters: with filestream, evtx and auditd it stops at once
			// having read nothing, which would look like a clean run.
			return nil, errors.New("--once is not supported: filebeat's --once waits only for the legacy log input, not for filestream, evtx or auditd; for a one-shot run over files use `webshellbeat hunt`")
		}
		if err := filesetConfig(c); err != nil {
			return nil, err
		}
		if b.Info.Logger != nil {
			b.Info.Logger = withoutFilesetNoise(b.Info.Logger)
		}
		if err := cliModules(c, flagString("modules"), flagSettings("M"), b.Info.Logger); err != nil {
			return nil, err
		}
		if err := checkInputs(c, runtime.GOOS); err != nil {
			return nil, err
		}
		hub.SetPipeline(b.Publisher)
		hub.SetMonitoring(b.Monitoring.StatsRegistry())
		bt, err := create(b, c)
		if err != nil {
			return nil, err
		}
		return running{Beater: bt, hub: hub}, nil
	}
}

// running tells the hub when the beat starts running: libbeat installs its
// signal handler just before Run, after which the hub may take SIGHUP over
// to reload rules (rules.reload.enabled).
type running struct {
	beat.Beater
	hub *processor.Hub
}

func (r running) Run(b *beat.Beat) error {
	log := b.Info.Logger
	if log != nil {
		log = log.Named("webshell")
	}
	r.hub.Running(log)
	return r.Beater.Run(b)
}

// RootCommand is filebeat's root command (filebeat/cmd.Filebeat) built on
// Creator(hub) instead of filebeat's own constructor.
func RootCommand(settings instance.Settings, hub *processor.Hub) *libcmd.BeatsRootCmd {
	command := libcmd.GenRootCmdWithSettings(Creator(hub), settings)
	command.PersistentFlags().AddGoFlag(flag.CommandLine.Lookup("M"))
	command.TestCmd.Flags().AddGoFlag(flag.CommandLine.Lookup("modules"))
	command.SetupCmd.Flags().AddGoFlag(flag.CommandLine.Lookup("modules"))
	command.AddCommand(libcmd.GenModulesCmd(settings.Name, "", modulesManager))
	return command
}

// modulesManager backs the modules command (list, enable, disable). A
// webshellbeat module is a file of inputs in modules.d/ (apache.yml,
// auditd.yml...), loaded through filebeat's config.inputs, not a filebeat
// module: filebeat's modules are filesets with ingest pipelines, which
// webshellbeat replaces with its decode processors. So the command manages
// the files of config.inputs.path, as filebeat's manages config.modules.path.
func modulesManager(b *beat.Beat) (libcmd.ModulesManager, error) {
	glob, err := b.BeatConfig.String("config.inputs.path", -1)
	if err != nil {
		return nil, errors.New("modules management requires the 'webshellbeat.config.inputs.path' setting (modules are the input files of modules.d/*.yml)")
	}
	if !strings.HasSuffix(glob, "*.yml") {
		return nil, fmt.Errorf("wrong settings for config.inputs.path, it is expected to end with *.yml. Got: %s", glob)
	}
	m, err := cfgfile.NewGlobManager(glob, ".yml", ".disabled", b.Info.Logger)
	if err != nil {
		return nil, fmt.Errorf("initialization error: %w", err)
	}
	return m, nil
}

// flagString is the value of a command-line flag registered by filebeat's
// packages ("" when it is not).
func flagString(name string) string {
	if f := flag.CommandLine.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// flagSettings is the value of a settings flag (-M), empty when unset.
func flagSettings(name string) *conf.C {
	if f := flag.CommandLine.Lookup(name); f != nil {
		if s, ok := f.Value.(*conf.SettingsFlag); ok && s.Config() != nil {
			return s.Config()
		}
	}
	return conf.NewConfig()
}
