//go:build mage

// Mage targets for webshellbeat: go run github.com/magefile/mage -l
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	"webshellbeat/internal/dist"
)

// Build builds the webshellbeat binary at the project root.
func Build() error {
	mg.Deps(Config)
	return sh.RunV("go", "build", "-o", "webshellbeat", ".")
}

// CrossBuild checks that the Windows build (with the winlog input) compiles.
func CrossBuild() error {
	return sh.RunWithV(map[string]string{"GOOS": "windows"}, "go", "build", "-o", os.DevNull, ".")
}

// generated lists the files made from _meta/: target <- source.
var generated = map[string]string{
	"webshellbeat.yml":           "_meta/config/beat.yml",
	"webshellbeat.reference.yml": "_meta/config/beat.reference.yml",
	"include/fields.yml":         "_meta/fields.yml",
}

// Config writes webshellbeat.yml, webshellbeat.reference.yml and
// include/fields.yml (embedded in the binary) from _meta/.
func Config() error {
	for dst, src := range generated {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Check fails when generated files are stale, gofmt would change a file, or
// go vet or staticcheck finds a problem. staticcheck's version is pinned in
// tools/go.mod, a module of its own, so that its dependencies stay out of
// the product's build.
func Check() error {
	for dst, src := range generated {
		a, err := os.ReadFile(dst)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			return fmt.Errorf("%s is stale: run mage config", dst)
		}
	}
	out, err := sh.Output("gofmt", "-l", ".")
	if err != nil {
		return err
	}
	if out != "" {
		return fmt.Errorf("gofmt would change:\n%s", out)
	}
	if err := sh.RunV("go", "vet", "./..."); err != nil {
		return err
	}
	// The Windows build vetted too, tests included: a test file without a
	// build tag that calls a Linux-only helper breaks only there.
	if err := sh.RunWithV(map[string]string{"GOOS": "windows"}, "go", "vet", "./..."); err != nil {
		return err
	}
	if err := sh.RunV("go", "build", "-C", "tools", "-o", "../build/staticcheck", "honnef.co/go/tools/cmd/staticcheck"); err != nil {
		return err
	}
	return sh.RunV("build/staticcheck", "./...")
}

// Test runs the whole test suite (what .ci/run runs). The timeout is above
// go test's 10 minutes: tests/ builds a release package and runs the live
// servers' tests.
func Test() error {
	mg.Deps(Check)
	return sh.RunV("go", "test", "-timeout", "30m", "./...")
}

// Package builds the release packages into build/distributions: a tar.gz
// and a .deb per Linux platform, a zip for Windows (see internal/dist).
// PLATFORMS limits them, e.g. PLATFORMS=linux/amd64,windows/amd64.
func Package() error {
	mg.Deps(Config)
	platforms := dist.Platforms
	if env := os.Getenv("PLATFORMS"); env != "" {
		platforms = nil
		for _, s := range strings.Split(env, ",") {
			p, err := dist.ParsePlatform(s)
			if err != nil {
				return err
			}
			platforms = append(platforms, p)
		}
	}
	for _, p := range platforms {
		files, err := dist.Build(".", "build/distributions", p)
		if err != nil {
			return err
		}
		for _, f := range files {
			fmt.Println(f)
		}
	}
	return nil
}

// Bench runs the benchmarks of the detector and the mappers.
func Bench() error {
	return sh.RunV("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "./detection/...", "./module/...", "./hunt/...")
}

// Demo runs the main job on the bundled samples: hunt over the seed logs.
func Demo() error {
	return sh.RunV("go", "run", ".", "hunt", "testdata/samples")
}

// OpenSearch builds and starts a single OpenSearch 2.19 node on
// 127.0.0.1:9200 (OPENSEARCH_PORT) from Maven Central jars and waits for
// _cluster/health; the integration tests use it. Needs Java 17 and Maven.
func OpenSearch() error {
	return sh.RunV("bash", "testing/opensearch/run.sh", "start")
}

// OpenSearchStop stops the node that OpenSearch started.
func OpenSearchStop() error {
	return sh.RunV("bash", "testing/opensearch/run.sh", "stop")
}
