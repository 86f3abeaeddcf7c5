package dist

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// The .deb installs as Elastic's beat packages do: the binary and read-only
// files under home, the configuration (conffiles, kept on upgrade) under
// config, state and logs under their own folders, a /usr/bin wrapper that
// passes those paths, and a systemd unit.
const (
	debHome   = "/usr/share/" + Name
	debConfig = "/etc/" + Name
	debData   = "/var/lib/" + Name
	debLogs   = "/var/log/" + Name
)

// pathFlags are the flags that point the beat at the package's folders.
var pathFlags = fmt.Sprintf("--path.home %s --path.config %s --path.data %s --path.logs %s", debHome, debConfig, debData, debLogs)

// wrapper is /usr/bin/webshellbeat: `webshellbeat modules enable apache`
// and `webshellbeat test output` then act on the installed configuration.
// (hunt reads a configuration only when given --config.)
var wrapper = fmt.Sprintf(`#!/bin/sh
# Runs webshellbeat with the folders of its package (see %s/README.md).
exec %s/bin/%s %s "$@"
`, debHome, debHome, Name, pathFlags)

// unit is the systemd service. The beat runs as root, as Elastic's beats
// do: the auditd_live module needs CAP_AUDIT_CONTROL and CAP_AUDIT_READ,
// and the logs it reads are often readable by root only.
var unit = fmt.Sprintf(`[Unit]
Description=webshellbeat finds web shells by their behaviour and sends ECS events and alerts to Elasticsearch or OpenSearch.
Documentation=file://%s/README.md
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=%s/bin/%s run --environment systemd %s
Restart=always

[Install]
WantedBy=multi-user.target
`, debHome, debHome, Name, pathFlags)

// postinst has systemd read the unit (new, or changed by an upgrade) and
// restarts a running service on upgrade, so that it runs the new binary. A
// new install is not enabled or started: the output must be configured
// first. Without systemd as init (containers) it does nothing.
var postinst = fmt.Sprintf(`#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if [ "$1" = configure ] && [ -n "$2" ] && systemctl is-active --quiet %[1]s; then
    systemctl restart %[1]s || true
  fi
fi
`, Name)

// prerm stops the service before the package is removed, so that no beat
// keeps running from a deleted binary.
var prerm = fmt.Sprintf(`#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop %s || true
fi
`, Name)

// debPath maps a file of the archive layout to its installed path.
func debPath(name string) string {
	switch {
	case name == Name:
		return debHome + "/bin/" + Name
	case name == "README.md" || name == "NOTICE.txt" || strings.HasPrefix(name, "kibana/"):
		return debHome + "/" + name
	}
	return debConfig + "/" + name // webshellbeat.yml, the reference, fields.yml, modules.d/
}

func buildDeb(work, out string, p Platform, files []file) (string, error) {
	root := filepath.Join(work, "deb")
	var conffiles []string
	put := func(name string, r io.Reader, mode os.FileMode) error {
		dst := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		w, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			w.Close()
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		return os.Chmod(dst, mode) // not narrowed by the umask
	}
	for _, f := range files {
		r, _, err := f.open()
		if err != nil {
			return "", err
		}
		dst := debPath(f.name)
		err = put(dst, r, f.mode)
		r.Close()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(dst, debConfig+"/") {
			conffiles = append(conffiles, dst)
		}
	}
	for _, d := range []string{debData, debLogs} {
		// /var/lib and /var/log are the system's: 0755 as everywhere.
		if err := os.MkdirAll(filepath.Join(root, path.Dir(d)), 0o755); err != nil {
			return "", err
		}
		if err := os.Mkdir(filepath.Join(root, d), 0o750); err != nil {
			return "", err
		}
	}
	size, err := dirSize(root)
	if err != nil {
		return "", err
	}
	control := fmt.Sprintf(`Package: %s
Version: %s
Architecture: %s
Maintainer: webshellbeat
Installed-Size: %d
Section: admin
Priority: optional
Description: Finds web shells by their behaviour (MITRE ATT&CK T1505.003)
 An Elastic Beat that reads Windows Sysmon and Security events, Linux audit
 logs and web access logs, runs Sigma rules and web-shell detectors on them,
 and indexes ECS events and alerts into Elasticsearch or OpenSearch.
`, Name, Version(), p.GOARCH, (size+1023)/1024)
	for name, text := range map[string]string{
		"DEBIAN/control":   control,
		"DEBIAN/conffiles": strings.Join(conffiles, "\n") + "\n",
		"DEBIAN/postinst":  postinst,
		"DEBIAN/prerm":     prerm,
		"usr/bin/" + Name:  wrapper,
		"lib/systemd/system/" + Name + ".service": unit,
	} {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "usr/bin/") || name == "DEBIAN/postinst" || name == "DEBIAN/prerm" {
			mode = 0o755
		}
		if err := put(path.Join("/", name), strings.NewReader(text), mode); err != nil {
			return "", err
		}
	}
	deb := filepath.Join(out, fmt.Sprintf("%s-%s-%s.deb", Name, Version(), p.GOARCH))
	if b, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb (the .deb is built with Debian's dpkg-deb): %v\n%s", err, b)
	}
	return deb, nil
}

func dirSize(root string) (int64, error) {
	var n int64
	err := filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}
