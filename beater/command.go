package beater

import (
	"errors"
	"flag"
	"fmt"
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
		hub.SetPipeline(b.Publisher)
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

// modulesManager is filebeat's (unexported) buildModulesManager.
func modulesManager(b *beat.Beat) (libcmd.ModulesManager, error) {
	glob, err := b.BeatConfig.String("config.modules.path", -1)
	if err != nil {
		return nil, errors.New("modules management requires 'webshellbeat.config.modules.path' setting")
	}
	if !strings.HasSuffix(glob, "*.yml") {
		return nil, fmt.Errorf("wrong settings for config.modules.path, it is expected to end with *.yml. Got: %s", glob)
	}
	m, err := cfgfile.NewGlobManager(glob, ".yml", ".disabled", b.Info.Logger)
	if err != nil {
		return nil, fmt.Errorf("initialization error: %w", err)
	}
	return m, nil
}
