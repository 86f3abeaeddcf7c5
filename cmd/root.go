// Package cmd builds webshellbeat's command line: filebeat's root command
// (run, setup, test, export, keystore, modules, version) with webshellbeat's
// name, inputs and processors, plus the offline hunt and rules commands.
package cmd

import (
	fbcmd "github.com/elastic/beats/v7/filebeat/cmd"
	libcmd "github.com/elastic/beats/v7/libbeat/cmd"

	"webshellbeat/beater"
	"webshellbeat/include"
	"webshellbeat/processor"
)

// Name is the beat's name: it names the config file, the config section
// (webshellbeat.inputs), the registry folder and the index prefix.
const Name = "webshellbeat"

// RootCmd returns the root command.
func RootCmd() *libcmd.BeatsRootCmd {
	if err := include.Register(Name); err != nil {
		panic(err) // the embedded fields.yml is part of the binary: a bug, not input
	}
	settings := fbcmd.FilebeatSettings("")
	settings.Name = Name
	settings.IndexPrefix = Name
	// Templates for the alert and event data streams (see index.go).
	settings.IndexManagement = indexManagement
	// The version stays libbeat's (9.3.0): libbeat also takes it as the
	// Elasticsearch version that export template writes for.
	// filebeat's root command on a wrapped beater constructor, so that the
	// webshell processor's hub gets the pipeline to publish derived documents.
	hub := processor.NewHub()
	hub.Register()
	root := beater.RootCommand(settings, hub)
	// filebeat's --once does not wait for webshellbeat's inputs; the beater
	// refuses it (see beater.Creator).
	if f := root.RunCmd.Flags().Lookup("once"); f != nil {
		f.Usage = "Not supported (filebeat's --once waits only for its log input): use `webshellbeat hunt` for a one-shot run"
	}
	replaceLicenseCheck() // accept OpenSearch: see license.go
	// filebeat's "generate" builds filebeat modules and filesets, which this
	// beat does not have.
	for _, c := range root.Commands() {
		if c.Name() == "generate" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(huntCommand())
	root.AddCommand(rulesCommand())
	return root
}
