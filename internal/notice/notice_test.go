package notice

import (
	"bytes"
	"strings"
	"testing"
)

// Nothing GPL (or other copyleft beyond MPL's per-file terms) is compiled
// into the beat, on any platform it ships for; the licenses that are not
// plain permissive ones are named here, so that a new one fails the test
// and is looked at.
func TestNoCopyleftInTheBeat(t *testing.T) {
	known := map[string]string{
		// Elastic License 1.0: libbeat/beat imports its protocol package,
		// so every beat built on libbeat 9.3 holds it.
		"github.com/elastic/elastic-agent-client/v7": "Elastic-License",
		// MPL-2.0: file-level copyleft, met by shipping these unmodified.
		"github.com/hashicorp/errwrap":       "MPL-2.0",
		"github.com/hashicorp/go-multierror": "MPL-2.0",
		"github.com/hashicorp/go-uuid":       "MPL-2.0",
		"github.com/hashicorp/go-version":    "MPL-2.0",
		"github.com/hashicorp/golang-lru":    "MPL-2.0", // windows only
	}
	permissive := map[string]bool{"Apache-2.0": true, "BSD": true, "MIT": true, "ISC": true}
	for _, p := range []struct{ goos, goarch string }{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}} {
		mods, err := Deps("../..", p.goos, p.goarch)
		if err != nil {
			t.Fatal(err)
		}
		if len(mods) < 50 {
			t.Fatalf("%s/%s: only %d modules", p.goos, p.goarch, len(mods))
		}
		for _, m := range mods {
			if !permissive[m.License] && known[m.Path] != m.License {
				t.Errorf("%s/%s: %s %s is %s (%s): not a permissive license this test knows", p.goos, p.goarch, m.Path, m.Version, m.License, m.File)
			}
		}
		var b bytes.Buffer
		if err := Write(&b, "webshellbeat", mods); err != nil {
			t.Fatal(err)
		}
		for _, m := range mods {
			if !strings.Contains(b.String(), m.Path+" "+m.Version+" ("+m.License) {
				t.Errorf("NOTICE has no section for %s", m.Path)
			}
		}
		// The patched copy (third_party/go-libaudit) is in every build,
		// Windows's too, and NOTICE says it is modified.
		if !strings.Contains(b.String(), "github.com/elastic/go-libaudit/v2 v2.6.2, modified: ./third_party/go-libaudit (Apache-2.0") {
			t.Errorf("%s/%s: NOTICE does not name go-libaudit as modified", p.goos, p.goarch)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ path, text, want string }{
		{"x", "GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007", "GPL"},
		{"x", "GNU LESSER GENERAL PUBLIC LICENSE ... GNU General Public License", "LGPL"},
		{"x", "Mozilla Public License Version 2.0 ... the GNU Affero General Public License", "MPL-2.0"},
		{"x", "one or the other of these two Licenses: BSD 3-clause ... Redistribution and use in source and binary forms ... GNU General Public License", "BSD"},
		{"x", "GNU AFFERO GENERAL PUBLIC LICENSE", "AGPL"},
		{"x", "                                 Apache License\n                           Version 2.0", "Apache-2.0"},
		{"x", "MIT License\n\nPermission is hereby granted, free of charge, to any person", "MIT"},
		{"x", "Copyright (c) 2009 The Go Authors.\n\nRedistribution and use in source and binary forms", "BSD"},
		{"x", "Permission to use, copy, modify, and/or distribute this software", "ISC"},
		{"x", "Mozilla Public License Version 2.0", "MPL-2.0"},
		{"x", "All rights reserved. Do not copy.", ""},
		{"github.com/elastic/beats/v7", "Outside of\nthe \"x-pack\" folder, source code ... Apache License ... Elastic License", "Apache-2.0"},
	} {
		if got := classify(tc.path, []byte(tc.text), false); got != tc.want {
			t.Errorf("classify(%q) = %q, want %q", tc.text[:min(30, len(tc.text))], got, tc.want)
		}
	}
	if got := classify("github.com/elastic/beats/v7", []byte(`Outside of the "x-pack" folder`), true); got != "Elastic-License" {
		t.Errorf("beats with x-pack packages: %q", got)
	}
}
