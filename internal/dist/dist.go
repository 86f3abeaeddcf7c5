// Package dist builds webshellbeat's release packages, in the layouts that
// users of Elastic's beats know: a tar.gz (Linux) or zip (Windows) that runs
// from where it is unpacked, and a .deb that installs the beat under
// /usr/share/webshellbeat with its configuration in /etc/webshellbeat and a
// systemd unit. The mage target Package calls it.
package dist

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha512"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/elastic/beats/v7/libbeat/version"
	"gopkg.in/yaml.v3"

	"webshellbeat/internal/notice"
	"webshellbeat/internal/osinputs"
)

// Name is the beat's name, in file names and paths.
const Name = "webshellbeat"

// Platform is a GOOS/GOARCH pair the beat ships for.
type Platform struct{ GOOS, GOARCH string }

// Platforms are those Package builds when not told otherwise.
var Platforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}}

// ParsePlatform reads "linux/amd64".
func ParsePlatform(s string) (Platform, error) {
	goos, goarch, ok := strings.Cut(strings.TrimSpace(s), "/")
	for _, p := range Platforms {
		if ok && p.GOOS == goos && p.GOARCH == goarch {
			return p, nil
		}
	}
	return Platform{}, fmt.Errorf("platform %q: want one of %v", s, Platforms)
}

// arch is the architecture as beats name it in package files.
func (p Platform) arch() string {
	if p.GOARCH == "amd64" {
		return "x86_64"
	}
	return p.GOARCH
}

func (p Platform) exe() string {
	if p.GOOS == "windows" {
		return Name + ".exe"
	}
	return Name
}

// Version is the beat's version: libbeat's, as `webshellbeat version` and
// the index templates give it.
func Version() string { return version.GetDefaultVersion() }

// Build builds the packages of p from the source tree root into out and
// returns their paths: an archive, and for Linux a .deb.
func Build(root, out string, p Platform) ([]string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "webshellbeat-dist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, p.exe())
	if err := compile(root, bin, p); err != nil {
		return nil, err
	}
	var noticeText strings.Builder
	mods, err := notice.Deps(root, p.GOOS, p.GOARCH)
	if err != nil {
		return nil, err
	}
	if err := notice.Write(&noticeText, "webshellbeat "+Version()+"\nFinds web shells by their behaviour (MITRE ATT&CK T1505.003).", mods); err != nil {
		return nil, err
	}
	files, err := layout(root, bin, noticeText.String(), p)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("%s-%s-%s-%s", Name, Version(), p.GOOS, p.arch())
	var built []string
	if p.GOOS == "windows" {
		f := filepath.Join(out, base+".zip")
		if err := writeZip(f, base, files); err != nil {
			return nil, err
		}
		built = append(built, f)
	} else {
		f := filepath.Join(out, base+".tar.gz")
		if err := writeTarGz(f, base, files); err != nil {
			return nil, err
		}
		deb, err := buildDeb(work, out, p, files)
		if err != nil {
			return nil, err
		}
		built = append(built, f, deb)
	}
	for _, f := range built {
		if err := writeSHA512(f); err != nil {
			return nil, err
		}
	}
	return built, nil
}

// writeSHA512 writes f.sha512 beside f, in the form of Elastic's
// downloads and of sha512sum: `sha512sum -c f.sha512` checks it.
func writeSHA512(f string) error {
	fh, err := os.Open(f)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha512.New()
	if _, err := io.Copy(h, fh); err != nil {
		return err
	}
	return os.WriteFile(f+".sha512", fmt.Appendf(nil, "%x  %s\n", h.Sum(nil), filepath.Base(f)), 0o644)
}

// compile builds a static binary without local paths, and with the commit
// and its time in `webshellbeat version`.
func compile(root, bin string, p Platform) error {
	commit, when := "unknown", "unknown"
	if out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%H %cI").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) == 2 {
			commit, when = f[0], f[1]
		}
	}
	v := "github.com/elastic/beats/v7/libbeat/version"
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin,
		"-ldflags", fmt.Sprintf("-s -w -X %s.commit=%s -X %s.buildTime=%s", v, commit, v, when), ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+p.GOOS, "GOARCH="+p.GOARCH, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s/%s: %v\n%s", p.GOOS, p.GOARCH, err, out)
	}
	return nil
}

// file is one file of a package: its path inside the package, where its
// bytes come from (a file, or text), and its mode.
type file struct {
	name string
	src  string // a path, or "" for text
	text string
	mode fs.FileMode
}

// layout lists the files of the archive, as in a beat's tar.gz: the binary
// and its configuration side by side, so that it runs where it is unpacked.
// The Kibana saved objects go in kibana/, where setup --dashboards looks
// by default (setup.dashboards.directory: ${path.home}/kibana). Modules
// whose inputs the platform's build lacks are left out (see moduleRuns).
func layout(root, bin, noticeText string, p Platform) ([]file, error) {
	files := []file{
		{name: filepath.Base(bin), src: bin, mode: 0o755},
		{name: Name + ".yml", src: filepath.Join(root, Name+".yml"), mode: 0o600},
		{name: Name + ".reference.yml", src: filepath.Join(root, Name+".reference.yml"), mode: 0o644},
		{name: "fields.yml", src: filepath.Join(root, "_meta/fields.yml"), mode: 0o644},
		{name: "README.md", src: filepath.Join(root, "README.md"), mode: 0o644},
		{name: "NOTICE.txt", text: noticeText, mode: 0o644},
	}
	if p.GOOS == "windows" {
		files = append(files,
			file{name: installScript, text: InstallServiceScript(), mode: 0o644},
			file{name: uninstallScript, text: uninstallService(), mode: 0o644})
	}
	for _, dir := range []struct{ src, dst string }{{"modules.d", "modules.d"}, {"_meta/kibana", "kibana"}} {
		err := filepath.WalkDir(filepath.Join(root, dir.src), func(f string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if dir.src == "modules.d" {
				if ok, err := moduleRuns(f, p); err != nil || !ok {
					return err
				}
			}
			rel, _ := filepath.Rel(filepath.Join(root, dir.src), f)
			files = append(files, file{name: path.Join(dir.dst, filepath.ToSlash(rel)), src: f, mode: 0o644})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// moduleRuns reports whether every input of module file f, and every
// processor it names, exists in the build for p: a Linux package has no
// windows module (live event log), a Windows one no auditd or laurel
// modules.
func moduleRuns(f string, p Platform) (bool, error) {
	raw, err := os.ReadFile(f)
	if err != nil {
		return false, err
	}
	var inputs []struct {
		Type       string           `yaml:"type"`
		Processors []map[string]any `yaml:"processors"`
	}
	if err := yaml.Unmarshal(raw, &inputs); err != nil {
		return false, fmt.Errorf("%s: %w", f, err)
	}
	for _, in := range inputs {
		if _, missing := osinputs.Missing(in.Type, p.GOOS); missing {
			return false, nil
		}
		for _, proc := range in.Processors {
			for name := range proc {
				if _, missing := osinputs.MissingProcessor(name, p.GOOS); missing {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

func (f file) open() (io.ReadCloser, int64, error) {
	if f.src == "" {
		return io.NopCloser(strings.NewReader(f.text)), int64(len(f.text)), nil
	}
	fh, err := os.Open(f.src)
	if err != nil {
		return nil, 0, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, 0, err
	}
	return fh, st.Size(), nil
}

// mtime is the time written into archives: fixed, so that two builds of
// one commit give the same bytes apart from the binary.
var mtime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func writeTarGz(dst, base string, files []file) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	for _, f := range files {
		for _, d := range parents(path.Join(base, f.name)) {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
					return err
				}
			}
		}
		r, size, err := f.open()
		if err != nil {
			return err
		}
		err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(base, f.name), Mode: int64(f.mode), Size: size, ModTime: mtime})
		if err == nil {
			_, err = io.Copy(tw, r)
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return out.Close()
}

// parents lists the folders above name, outermost first.
func parents(name string) []string {
	var out []string
	for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

func writeZip(dst, base string, files []file) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, f := range files {
		h := &zip.FileHeader{Name: path.Join(base, f.name), Method: zip.Deflate, Modified: mtime}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		r, _, err := f.open()
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Close()
}
