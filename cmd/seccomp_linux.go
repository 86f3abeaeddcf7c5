package cmd

import (
	"runtime"

	"github.com/elastic/beats/v7/libbeat/common/seccomp"
)

// Go's CPU profiler (--cpuprofile, and --httpprof's /debug/pprof/profile)
// arms a POSIX timer per thread (timer_create, timer_settime) and deletes
// it when the profile ends (timer_delete). libbeat's seccomp policy allows
// none of the three, so a profiled beat died with "fatal error:
// timer_delete" (EPERM) when it stopped. They only let the process time
// itself, so they are allowed, on the architectures libbeat has a policy
// for.
func init() {
	switch runtime.GOARCH {
	case "amd64", "386", "arm64", "arm":
		if err := seccomp.ModifyDefaultPolicy(seccomp.AddSyscall, "timer_create", "timer_settime", "timer_delete"); err != nil {
			panic(err)
		}
	}
}
