//go:build !linux

package auditd

import (
	"errors"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/elastic-agent-libs/logp"
)

var errLiveLinuxOnly = errors.New("auditd input: live mode (no paths) reads the Linux kernel's audit netlink socket and works on Linux only; set paths to read audit.log files")

func runLive(v2.Context, liveConfig, cursor.Publisher) error { return errLiveLinuxOnly }

func testLive(liveConfig, *logp.Logger) error { return errLiveLinuxOnly }
