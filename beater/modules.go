package beater

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/elastic/beats/v7/libbeat/cfgfile"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	ucfg "github.com/elastic/go-ucfg"

	"webshellbeat/internal/osinputs"
)

// cliModules gives --modules and -M the meaning filebeat users know, for
// webshellbeat's modules, which are files of inputs in modules.d/ (see
// modulesManager):
//
//   - --modules apache,auditd runs the inputs of those module files for this
//     run, whether enabled or not, as filebeat's flag runs modules without
//     the modules command. A module whose file is enabled is loaded by
//     config.inputs already and is not added twice.
//   - -M apache.paths=[/srv/logs/access.log*] sets a setting on every input
//     of a module that --modules adds. filebeat's -M sets fileset variables
//     (nginx.access.var.paths), which webshellbeat's modules do not have;
//     their inputs' own settings are the variables.
//
// The inputs are appended to c's inputs (webshellbeat.inputs). A name that
// is not a module, or an -M that would change nothing, is an error: a
// silently ignored flag would read nothing the user asked for.
func cliModules(c *conf.C, names string, overrides *conf.C, log *logp.Logger) error {
	list := splitNames(names)
	overridden := overrides.GetFields()
	if len(list) == 0 {
		if len(overridden) > 0 {
			return fmt.Errorf("-M %s: -M sets the inputs of the modules given with --modules (e.g. --modules %s -M %s.paths=[...])", overridden[0], overridden[0], overridden[0])
		}
		return nil
	}
	for _, name := range overridden {
		if !slices.Contains(list, name) {
			return fmt.Errorf("-M %s: module %s is not in --modules %s; -M sets the inputs of the modules given there", name, name, names)
		}
	}
	mods, err := moduleFilesOf(c)
	if err != nil {
		return err
	}
	n, err := c.CountField("inputs")
	if err != nil {
		n = 0 // no inputs yet
	}
	for _, name := range list {
		inputs, file, err := mods.inputs(name)
		if err != nil {
			return err
		}
		if err := missingInput(file, inputs, runtime.GOOS); err != nil {
			return err
		}
		if inputs == nil {
			if slices.Contains(overridden, name) {
				return fmt.Errorf("-M %s: module %s is enabled (%s), so config.inputs loads it as the file says; disable it (webshellbeat modules disable %s) to set its inputs with -M", name, name, file, name)
			}
			log.Infof("--modules %s: enabled in %s, loaded by config.inputs", name, file)
			continue
		}
		for _, in := range inputs {
			if ov, err := overrides.Child(name, -1); err == nil {
				if err := in.MergeWithOpts(ov, ucfg.PathSep("."), ucfg.ReplaceArrValues); err != nil {
					return fmt.Errorf("-M %s: %w", name, err)
				}
			}
			if err := c.SetChild("inputs", n, in); err != nil {
				return fmt.Errorf("--modules %s: %w", name, err)
			}
			n++
		}
		log.Infof("--modules %s: runs the inputs of %s (%d)", name, file, len(inputs))
	}
	return nil
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// moduleFiles are the module files of config.inputs.path, as the modules
// command lists them (libbeat's GlobManager: name.yml enabled,
// name.yml.disabled not), and whether config.inputs loads the enabled ones.
type moduleFiles struct {
	dir    string
	files  *cfgfile.GlobManager
	loaded bool
}

func moduleFilesOf(c *conf.C) (moduleFiles, error) {
	glob, err := c.String("config.inputs.path", -1)
	if err != nil || !strings.HasSuffix(glob, "*.yml") {
		return moduleFiles{}, errors.New("--modules needs webshellbeat.config.inputs.path (the module files, ${path.config}/modules.d/*.yml)")
	}
	files, err := cfgfile.NewGlobManager(glob, ".yml", ".disabled", logp.NewNopLogger())
	if err != nil {
		return moduleFiles{}, fmt.Errorf("config.inputs.path %s: %w", glob, err)
	}
	sub, err := c.Child("config", -1)
	if err == nil {
		sub, err = sub.Child("inputs", -1)
	}
	return moduleFiles{dir: filepath.Dir(glob), files: files, loaded: err == nil && sub.Enabled()}, nil
}

// inputs reads the inputs of module name: nil when its enabled file is
// loaded by config.inputs already. An enabled file is read before a
// disabled one of the same name.
func (m moduleFiles) inputs(name string) ([]*conf.C, string, error) {
	if strings.ContainsAny(name, `/\`) {
		return nil, "", fmt.Errorf("--modules %s: not a module name", name)
	}
	files := m.list()
	i := slices.IndexFunc(files, func(f *cfgfile.CfgFile) bool { return f.Name == name })
	if i < 0 {
		return nil, "", fmt.Errorf("--modules %s: no module %s in %s (modules: %s)", name, name, m.dir, strings.Join(m.names(), ", "))
	}
	file := files[i]
	if file.Enabled && m.loaded {
		return nil, file.Path, nil
	}
	inputs, err := cfgfile.LoadList(file.Path, logp.NewNopLogger())
	if err != nil {
		return nil, "", fmt.Errorf("--modules %s: %w", name, err)
	}
	if len(inputs) == 0 {
		return nil, "", fmt.Errorf("--modules %s: %s has no inputs", name, file.Path)
	}
	return inputs, file.Path, nil
}

// list is every module file, the enabled ones first.
func (m moduleFiles) list() []*cfgfile.CfgFile {
	return append(m.files.ListEnabled(), m.files.ListDisabled()...)
}

// names lists the modules, enabled or not, sorted.
func (m moduleFiles) names() []string {
	var names []string
	for _, f := range m.list() {
		if !slices.Contains(names, f.Name) {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}

// checkInputs refuses, in one walk of the enabled inputs of
// webshellbeat.inputs and of the enabled modules, naming where each is:
//   - an input this build lacks (winlog off Windows, auditd off Linux), with
//     what to use instead; filebeat would stop on it too, with "No such
//     input type exist", which names neither; the same for a processor
//     (decode_auditd off Linux);
//   - an input whose processors cannot be built (inputProcessors).
func checkInputs(c *conf.C, goos string) error {
	return eachInput(c, func(where string, in *conf.C) error {
		if err := missingInput(where, []*conf.C{in}, goos); err != nil {
			return err
		}
		if err := missingProcessor(where, in, goos); err != nil {
			return err
		}
		return inputProcessors(where, in)
	})
}

func missingInput(where string, inputs []*conf.C, goos string) error {
	for _, in := range inputs {
		t, _ := in.String("type", -1)
		if o, missing := osinputs.Missing(t, goos); missing && in.Enabled() {
			return fmt.Errorf("%s: the %s input (%s) is in the %s build of webshellbeat only; %s", where, t, o.Reads, o.GOOS, o.Instead)
		}
	}
	return nil
}

// missingProcessor refuses an input with a processor this build lacks
// (decode_auditd off Linux: the laurel module) with what to use instead;
// libbeat would say only that the processor does not exist.
func missingProcessor(where string, in *conf.C, goos string) error {
	var v struct {
		Processors []*conf.C `config:"processors"`
	}
	if err := in.Unpack(&v); err != nil {
		return nil // inputProcessors reports it
	}
	for _, p := range v.Processors {
		for _, name := range p.GetFields() {
			if only, missing := osinputs.MissingProcessor(name, goos); missing {
				return fmt.Errorf("%s: the %s processor is in the %s build of webshellbeat only; elsewhere, hunt reads such logs (webshellbeat hunt)", where, name, only)
			}
		}
	}
	return nil
}

// eachInput calls check on every enabled input of webshellbeat.inputs and
// of the enabled module files, with where it is, and returns its first
// error. A malformed list is left to filebeat and config.inputs, which
// report it themselves.
func eachInput(c *conf.C, check func(where string, in *conf.C) error) error {
	var v struct {
		Inputs []*conf.C `config:"inputs"`
	}
	if err := c.Unpack(&v); err != nil {
		return nil
	}
	lists := map[string][]*conf.C{"webshellbeat.inputs": v.Inputs}
	if mods, err := moduleFilesOf(c); err == nil && mods.loaded {
		for _, f := range mods.files.ListEnabled() {
			if inputs, err := cfgfile.LoadList(f.Path, logp.NewNopLogger()); err == nil {
				lists[f.Path] = inputs
			}
		}
	}
	for _, where := range slices.Sorted(maps.Keys(lists)) {
		for _, in := range lists[where] {
			if !in.Enabled() {
				continue
			}
			if err := check(where, in); err != nil {
				return err
			}
		}
	}
	return nil
}
