// Package notice finds the license of every Go module compiled into the
// beat, to write the NOTICE.txt that the packages ship (Apache-2.0, BSD and
// MIT all ask that their text go with a binary) and to hold the rule that
// nothing GPL is in the product.
package notice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Module is one module compiled into the binary, with its license.
type Module struct {
	Path, Version, Dir string
	File               string // the license file, relative to Dir
	License            string // see classify
	Text               []byte
}

// Deps lists the modules whose packages the main package at dir imports
// when built for goos/goarch (the main module left out), with their
// licenses. A module without a license file is an error: it could not be
// shipped.
func Deps(dir, goos, goarch string) ([]Module, error) {
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Module", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for %s/%s: %v: %s", goos, goarch, err, stderr.Bytes())
	}
	var mods []Module
	seen := map[string]bool{}
	xpack := false
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Module     *struct {
				Path, Version, Dir string
				Main               bool
				Replace            *struct{ Path, Version string }
			}
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		xpack = xpack || strings.Contains(p.ImportPath, "/x-pack/")
		if m := p.Module; m != nil && !m.Main && !seen[m.Path] {
			seen[m.Path] = true
			version := m.Version
			if r := m.Replace; r != nil && r.Version == "" {
				// A copy in the repository, changed (Apache-2.0 asks
				// that changes be stated): third_party/<name>/PATCHED.md.
				version += ", modified: " + r.Path
			}
			mods = append(mods, Module{Path: m.Path, Version: version, Dir: m.Dir})
		}
	}
	slices.SortFunc(mods, func(a, b Module) int { return strings.Compare(a.Path, b.Path) })
	for i := range mods {
		if err := mods[i].read(xpack); err != nil {
			return nil, err
		}
	}
	return mods, nil
}

var licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying)(\.md|\.txt)?$`)

func (m *Module) read(xpack bool) error {
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Path, err)
	}
	for _, e := range entries {
		if licenseFile.MatchString(e.Name()) {
			m.File = e.Name()
			break
		}
	}
	if m.File == "" {
		return fmt.Errorf("%s@%s: no license file in %s", m.Path, m.Version, m.Dir)
	}
	if m.Text, err = os.ReadFile(filepath.Join(m.Dir, m.File)); err != nil {
		return err
	}
	m.License = classify(m.Path, m.Text, xpack)
	if m.License == "" {
		return fmt.Errorf("%s@%s: license of %s not recognised", m.Path, m.Version, m.File)
	}
	return nil
}

// phrases open the standard texts of the licenses classify knows.
var phrases = []struct{ phrase, license string }{
	{"gnu affero general public license", "AGPL"},
	{"gnu lesser general public license", "LGPL"},
	{"gnu library general public license", "LGPL"},
	{"gnu general public license", "GPL"},
	{"elastic license", "Elastic-License"},
	{"mozilla public license", "MPL-2.0"},
	{"apache license", "Apache-2.0"},
	{"redistribution and use in source and binary forms", "BSD"},
	{"mit license", "MIT"},
	{"permission is hereby granted, free of charge", "MIT"},
	{"isc license", "ISC"},
	{"permission to use, copy, modify, and/or distribute", "ISC"},
}

// classify names the license of text by the phrase that comes first in it:
// a license names others further down (MPL-2.0 the GPLs it is compatible
// with; libcap offers BSD-3-Clause first and GPL-2.0 as the alternative),
// so the first is the license itself, or the one a dual license offers
// first. The beats repository is licensed per folder: outside x-pack it is
// Apache-2.0, which is all the beat uses unless xpack.
func classify(path string, text []byte, xpack bool) string {
	t := strings.Join(strings.Fields(strings.ToLower(string(text[:min(len(text), 4000)]))), " ")
	if path == "github.com/elastic/beats/v7" && strings.Contains(t, `outside of the "x-pack" folder`) {
		if xpack {
			return "Elastic-License"
		}
		return "Apache-2.0"
	}
	license, first := "", len(t)
	for _, p := range phrases {
		if i := strings.Index(t, p.phrase); i >= 0 && i < first {
			license, first = p.license, i
		}
	}
	return license
}

// Write writes NOTICE.txt: a summary line per module, then each license
// text.
func Write(w io.Writer, product string, mods []Module) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\nThis product includes the following Go modules, under these licenses:\n\n", product)
	for _, m := range mods {
		fmt.Fprintf(&b, "  %-60s %-40s %s\n", m.Path, m.Version, m.License)
	}
	for _, m := range mods {
		fmt.Fprintf(&b, "\n%s\n%s %s (%s, %s)\n%s\n\n", strings.Repeat("=", 79), m.Path, m.Version, m.License, m.File, strings.Repeat("=", 79))
		b.Write(bytes.TrimSpace(m.Text))
		b.WriteByte('\n')
	}
	_, err := w.Write(b.Bytes())
	return err
}
