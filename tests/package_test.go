package tests

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"webshellbeat/internal/dist"
	"webshellbeat/internal/testfiles"
)

// TestPackage builds the release packages of this machine's platform with
// internal/dist (what `mage package` runs) and checks them as a user meets
// them: the tar.gz unpacked and run where it lies, and the .deb installed
// with dpkg (as root: CI), its systemd unit verified, then purged.
func TestPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the packages are built and installed on Linux")
	}
	files, err := dist.Build("..", t.TempDir(), dist.Platform{GOOS: "linux", GOARCH: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || !strings.HasSuffix(files[0], ".tar.gz") || !strings.HasSuffix(files[1], ".deb") {
		t.Fatalf("built %v; want a tar.gz and a .deb", files)
	}
	for _, f := range files {
		runIn(t, filepath.Dir(f), "sha512sum", "-c", filepath.Base(f)+".sha512")
	}
	t.Run("tar.gz", func(t *testing.T) { checkArchive(t, files[0]) })
	t.Run("deb", func(t *testing.T) { checkDeb(t, files[1]) })
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return runIn(t, "", name, args...)
}

// runIn runs a command in folder dir.
func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out, 3000))
	}
	return string(out)
}

func checkArchive(t *testing.T, archive string) {
	dir := t.TempDir()
	run(t, "tar", "-xzf", archive, "-C", dir)
	home := filepath.Join(dir, strings.TrimSuffix(filepath.Base(archive), ".tar.gz"))
	bin := filepath.Join(home, "webshellbeat")
	if st, err := os.Stat(filepath.Join(home, "webshellbeat.yml")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("webshellbeat.yml: %v, %v; want mode 0600, as the beat's strict.perms asks", st, err)
	}
	notice, _ := os.ReadFile(filepath.Join(home, "NOTICE.txt"))
	for _, mod := range []string{"github.com/elastic/go-libaudit/v2", "www.velocidex.com/golang/evtx", "github.com/elastic/beats/v7"} {
		if !strings.Contains(string(notice), "\n"+mod+" ") {
			t.Errorf("NOTICE.txt has no license section for %s", mod)
		}
	}
	want, _ := filepath.Glob("../_meta/kibana/7/*/*.json")
	if got, _ := filepath.Glob(filepath.Join(home, "kibana/7/*/*.json")); len(got) != len(want) || len(want) == 0 {
		t.Errorf("kibana/ has %d saved objects, _meta/kibana %d", len(got), len(want))
	}

	if v := run(t, bin, "version"); !strings.Contains(v, dist.Version()) || strings.Contains(v, "unknown") {
		t.Errorf("version: %s; want %s with the commit and its time", v, dist.Version())
	}
	// Run in the unpacked folder with no path flags, as a user does
	// (path.home is the working folder): the modules and the configuration
	// are those beside the binary, with their modes (no --strict.perms=false).
	if out := runIn(t, home, bin, "test", "config"); !strings.Contains(out, "Config OK") {
		t.Errorf("test config: %s", out)
	}
	checkServiceCommand(t, home, bin)
	// Every module but windows (the live event log: winlog is in the
	// Windows build only).
	wantModules := slices.DeleteFunc(shippedModules(t), func(m string) bool { return m == "windows" })
	if enabled, disabled := parseList(t, runIn(t, home, bin, "modules", "list")); len(enabled) != 0 || !slices.Equal(disabled, wantModules) {
		t.Errorf("modules list: enabled %v, disabled %v; want disabled %v", enabled, disabled, wantModules)
	}
	// setup --dashboards finds the saved objects in kibana/ by default.
	kb := newFakeKibana(t)
	defer kb.Close()
	runIn(t, home, bin, "setup", "--dashboards", "-E", "setup.kibana.host="+kb.URL)
	imported, _ := kb.imports()
	for key := range loadSavedObjects(t) {
		if _, ok := imported[key]; !ok {
			t.Errorf("setup --dashboards from the package did not import %s", key)
		}
	}

	apache := abs(t, "linux-capture/apache_access.log")
	wantEvents, wantAlerts := huntCounts(t, apache)
	work := t.TempDir()
	runBinary(t, bin, work, func() bool { return len(readDocs(t, work)) >= wantEvents },
		append(fileOutputFlags(work), "--path.home", home, "--modules", "apache",
			"-M", "apache.paths=["+apache+"]", "-M", "apache.prospector.scanner.fingerprint.length=64")...)
	events, gotAlerts := eventAlerts(t, work)
	if events != wantEvents || !maps.Equal(gotAlerts, wantAlerts) {
		t.Errorf("the unpacked beat on the apache capture: %d documents, alerts %v; hunt: %d events, alerts %v", events, gotAlerts, wantEvents, wantAlerts)
	}
	logs, _ := filepath.Glob(filepath.Join(work, "beat-*.log"))
	for _, l := range logs {
		raw, _ := os.ReadFile(l)
		if strings.Contains(string(raw), `"log.level":"error"`) {
			t.Errorf("the unpacked beat logged errors:\n%s", logTail(l))
		}
	}
}

func checkDeb(t *testing.T, deb string) {
	if got := run(t, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture"); got != "Package: webshellbeat\nVersion: "+dist.Version()+"\nArchitecture: "+runtime.GOARCH+"\n" {
		t.Errorf("control fields:\n%s", got)
	}
	// The maintainer scripts parse; on a host booted with systemd they
	// reload the unit (here, without systemd as init, they do nothing).
	control := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, control)
	for _, script := range []string{"postinst", "prerm"} {
		run(t, "sh", "-n", filepath.Join(control, script))
	}
	if b, _ := os.ReadFile(filepath.Join(control, "postinst")); !strings.Contains(string(b), "systemctl daemon-reload") {
		t.Errorf("postinst does not reload systemd:\n%s", b)
	}
	listing := run(t, "dpkg-deb", "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/share/webshellbeat/bin/webshellbeat",
		"./usr/bin/webshellbeat", "./lib/systemd/system/webshellbeat.service",
		"./usr/share/webshellbeat/kibana/7/dashboard/", "./etc/webshellbeat/modules.d/apache.yml.disabled",
	} {
		if !strings.Contains(listing, want) {
			t.Errorf("the .deb has no %s", want)
		}
	}
	for _, line := range strings.Split(listing, "\n") {
		if strings.HasSuffix(line, "./etc/webshellbeat/webshellbeat.yml") && !strings.HasPrefix(line, "-rw------- root/root") {
			t.Errorf("webshellbeat.yml in the .deb: %s", line)
		}
		if (strings.HasSuffix(line, " ./var/") || strings.HasSuffix(line, " ./var/lib/") || strings.HasSuffix(line, " ./var/log/")) && !strings.HasPrefix(line, "drwxr-xr-x") {
			t.Errorf("the .deb would change a system folder's mode: %s", line)
		}
	}

	if os.Geteuid() != 0 {
		t.Skip("installing the .deb needs root (CI runs as root)")
	}
	if _, err := os.Stat("/etc/webshellbeat"); exec.Command("dpkg-query", "-W", "webshellbeat").Run() == nil || err == nil {
		t.Skip("webshellbeat is installed on this machine already: not replaced")
	}
	run(t, "dpkg", "-i", deb)
	t.Cleanup(func() {
		run(t, "dpkg", "--purge", "webshellbeat")
		if _, err := os.Stat("/etc/webshellbeat/webshellbeat.yml"); err == nil {
			t.Errorf("dpkg --purge left /etc/webshellbeat/webshellbeat.yml")
		}
		// Left by purge, as by filebeat's: modules enable renamed a
		// conffile, so dpkg no longer knows modules.d/apache.yml.
		os.RemoveAll("/etc/webshellbeat")
	})
	// The /usr/bin wrapper points the beat at /etc/webshellbeat and the
	// other folders of the package.
	if out := run(t, "webshellbeat", "test", "config"); !strings.Contains(out, "Config OK") {
		t.Errorf("test config: %s", out)
	}
	run(t, "webshellbeat", "modules", "enable", "apache")
	if _, err := os.Stat("/etc/webshellbeat/modules.d/apache.yml"); err != nil {
		t.Errorf("modules enable apache: %v", err)
	}
	// Installing again (as an upgrade does) keeps the user's configuration:
	// it is a conffile.
	testfiles.Append(t, "/etc/webshellbeat/webshellbeat.yml", "# edited by the package test\n")
	run(t, "dpkg", "-i", deb)
	if b, _ := os.ReadFile("/etc/webshellbeat/webshellbeat.yml"); !strings.HasSuffix(string(b), "# edited by the package test\n") {
		t.Errorf("reinstalling replaced the edited webshellbeat.yml")
	}
	if st, err := os.Stat("/etc/webshellbeat/webshellbeat.yml"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("webshellbeat.yml after reinstalling: %v %v", st, err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/webshellbeat.service").CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	samples, _ := filepath.Abs("../testdata/samples")
	installed := lastLine(run(t, "webshellbeat", "hunt", samples))
	if built := lastLine(run(t, binary, "hunt", samples)); installed != built || !strings.Contains(installed, "alerts") {
		t.Errorf("hunt with the installed beat: %q; with the test build: %q", installed, built)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// checkServiceCommand runs the beat of the unpacked package with the command
// line the Windows package's install-service script gives the service, its
// PowerShell variables set to folders here and its backslashes made
// slashes: the flags parse, the configuration loads, and the keystore the
// service reads is the one `keystore add` writes when run in the unpacked
// folder without flags. (PowerShell and the service manager cannot be had
// here; this checks what the script hands them.)
func checkServiceCommand(t *testing.T, home, bin string) {
	programFiles := t.TempDir()
	args := serviceCommand(t, dist.InstallServiceScript(), map[string]string{"$WorkDir": home, "$env:ProgramFiles": programFiles})
	if len(args) < 2 || args[0] != filepath.Join(home, "webshellbeat.exe") { // the Windows package's binary
		t.Fatalf("the service runs %q, not the package's binary", args)
	}
	if out := runIn(t, t.TempDir(), bin, append(args[1:], "test", "config")...); !strings.Contains(out, "Config OK") {
		t.Errorf("test config with the service's flags: %s", out)
	}
	cmd := exec.Command(bin, "keystore", "add", "WSB_TEST_SECRET", "--stdin", "--force")
	cmd.Dir, cmd.Stdin = home, strings.NewReader("s3cret")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keystore add in the unpacked folder: %v\n%s", err, out)
	}
	if out := runIn(t, t.TempDir(), bin, append(args[1:], "keystore", "list")...); !strings.Contains(out, "WSB_TEST_SECRET") {
		t.Errorf("the service's keystore is not the unpacked folder's: keystore list gave %q", out)
	}
}

// serviceCommand evaluates the install script's string assignments in
// order ($X = "..." and a $FullCmd summed over lines, `" an escaped quote),
// vars given, and splits $FullCmd into arguments as Windows does: spaces
// separate, double quotes group. Backslashes become slashes.
func serviceCommand(t *testing.T, script string, vars map[string]string) []string {
	variable := regexp.MustCompile(`\$(env:)?\w+`)
	expand := func(s string) string {
		return variable.ReplaceAllStringFunc(s, func(name string) string {
			if v, ok := vars[name]; ok {
				return v
			}
			return name
		})
	}
	unquote := func(l string) string {
		l = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), "+"))
		if len(l) < 2 || l[0] != '"' || l[len(l)-1] != '"' {
			t.Fatalf("%q is not a double-quoted string", l)
		}
		return strings.ReplaceAll(expand(l[1:len(l)-1]), "`\"", "\"")
	}
	var fullCmd string
	lines := strings.Split(strings.ReplaceAll(script, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		name, value, ok := strings.Cut(lines[i], " = ")
		if !ok || !strings.HasPrefix(name, "$") || strings.Contains(name, " ") || strings.HasPrefix(value, "Split-Path") {
			continue // not a string assignment ($WorkDir is the test's)
		}
		v := unquote(value)
		for strings.HasSuffix(strings.TrimSpace(lines[i]), "+") {
			i++
			v += unquote(lines[i])
		}
		vars[name] = v
		if name == "$FullCmd" {
			fullCmd = v
		}
	}
	if fullCmd == "" {
		t.Fatal("the install script sets no $FullCmd")
	}
	if strings.Contains(fullCmd, "$") {
		t.Fatalf("$FullCmd uses a variable the script does not set: %s", fullCmd)
	}
	cmdline := strings.ReplaceAll(fullCmd, `\`, "/")
	var args []string
	var arg strings.Builder
	quoted, started := false, false
	for _, r := range cmdline + " " {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				args = append(args, arg.String())
			}
			arg.Reset()
			started = false
		default:
			arg.WriteRune(r)
			started = true
		}
	}
	if quoted {
		t.Fatalf("$FullCmd has an unclosed quote: %s", cmdline)
	}
	return args
}
