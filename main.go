// Command webshellbeat is an Elastic Beat that detects web shells (MITRE ATT&CK
// T1505.003) in Windows, Linux audit and web-server access logs.
package main

import (
	"os"
	_ "time/tzdata" // event times in IIS and EVTX logs need zone data on any host

	"webshellbeat/cmd"
)

func main() {
	if err := cmd.RootCmd().Execute(); err != nil {
		os.Exit(1)
	}
}
