// Package cmd builds webshellbeat's command line: filebeat's root command with
// webshellbeat's name, inputs and processors, plus the offline hunt command.
package cmd

import (
	fbcmd "github.com/elastic/beats/v7/filebeat/cmd"
	inputs "github.com/elastic/beats/v7/filebeat/input/default-inputs"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"
)

// Name is the beat's name: it names the config file, the config section
// (webshellbeat.inputs), the registry folder and the index prefix.
const Name = "webshellbeat"

// RootCmd returns the root command.
func RootCmd() *libcmd.BeatsRootCmd {
	settings := fbcmd.FilebeatSettings("")
	settings.Name = Name
	settings.IndexPrefix = Name
	return fbcmd.Filebeat(inputs.Init, settings)
}
