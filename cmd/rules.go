package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"webshellbeat/config"
	"webshellbeat/detection/engine"
	"webshellbeat/detection/pipeline"
	"webshellbeat/detection/sigma"
	"webshellbeat/detector"
)

// Exit statuses of "rules check".
const (
	rulesOK       = 0 // ran; rejections are reported but not fatal
	rulesRejected = 1 // --strict and at least one rule was rejected
	rulesUsage    = 2 // bad arguments, flags or pipeline files
)

func rulesCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "Work with Sigma rules",
	}
	var strict, builtin bool
	var pipelines, placeholders []string
	check := &cobra.Command{
		Use:   "check PATH...",
		Short: "Load Sigma rule files and folders and report every rejected rule",
		Long: `Loads Sigma rule files and folders (recursively, *.yml and *.yaml) the way the
beat does: parse, expand placeholders (--placeholder, as rules.placeholders),
apply the built-in field pipelines (and any --pipeline), compile and route, and
prepare the correlation rules. Prints each rejected rule as
path:line:col: code: message, each warning, and a summary: files, rules loaded,
correlation and filter rules loaded, rejections by code, warnings, and rules
whose logsource webshellbeat never produces (they load but never run).

Exit status: 0 when it ran, 1 with --strict when a rule was rejected, 2 on a
usage error (a bad flag, no path, a path that does not exist, a bad pipeline
file).`,
		Args: cobra.ArbitraryArgs,
		Run: func(cmd *cobra.Command, args []string) {
			os.Exit(runRulesCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, checkOptions{strict: strict, builtin: builtin, pipelines: pipelines}, placeholders...))
		},
	}
	// A bad flag is a usage error too (2), not main's generic 1.
	check.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		fmt.Fprintf(cmd.ErrOrStderr(), "rules check: %v\n%s", err, cmd.UsageString())
		os.Exit(rulesUsage)
		return err
	})
	check.Flags().BoolVar(&strict, "strict", false, "exit 1 when any rule is rejected")
	check.Flags().BoolVar(&builtin, "builtin", false, "also load webshellbeat's built-in pack, as the beat does, so that correlation and filter rules may name its rules (its rules are counted too)")
	check.Flags().StringArrayVar(&pipelines, "pipeline", nil, "field-mapping pipeline YAML applied before the built-ins, repeatable")
	check.Flags().StringArrayVar(&placeholders, "placeholder", nil, "NAME=VALUE: a value of the expand modifier's %NAME% placeholder, repeatable (values of one name add up)")
	c.AddCommand(check)
	return c
}

// runRulesCheck is "rules check" without os.Exit: it writes the report to
// stdout, usage errors to stderr, and returns the exit status.
// checkOptions are the flags of "rules check" besides --placeholder.
type checkOptions struct {
	strict    bool     // exit 1 when a rule is rejected
	builtin   bool     // load the built-in pack beside the paths
	pipelines []string // extra pipeline files
}

func runRulesCheck(stdout, stderr io.Writer, paths []string, o checkOptions, placeholders ...string) int {
	strict, pipelineFiles := o.strict, o.pipelines
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "rules check: at least one rule file or folder is required")
		return rulesUsage
	}
	files := 0
	for _, p := range paths {
		n, err := countRuleFiles(p)
		if err != nil {
			fmt.Fprintf(stderr, "rules check: %v\n", err)
			return rulesUsage
		}
		files += n
	}
	var opts engine.Options
	for _, p := range placeholders {
		name, value, ok := strings.Cut(p, "=")
		name = strings.Trim(strings.TrimSpace(name), "%")
		if ps := sigma.Placeholders("%" + name + "%"); !ok || len(ps) != 1 || ps[0] != name {
			fmt.Fprintf(stderr, "rules check: --placeholder %q is not NAME=VALUE (NAME of letters, digits, _ - .)\n", p)
			return rulesUsage
		}
		if opts.Placeholders == nil {
			opts.Placeholders = map[string][]string{}
		}
		opts.Placeholders[name] = append(opts.Placeholders[name], value)
	}
	var user []*pipeline.Pipeline
	for _, f := range pipelineFiles {
		p, err := pipeline.Load(f)
		if err != nil {
			fmt.Fprintf(stderr, "rules check: pipeline %s: %v\n", f, err)
			return rulesUsage
		}
		user = append(user, p)
	}
	// One list renames detection and correlation rules, as in the detector.
	pipes, err := pipeline.WithBuiltin(user)
	if err != nil {
		fmt.Fprintf(stderr, "rules check: %v\n", err)
		return rulesUsage
	}
	opts.Pipelines, opts.NoBuiltinPipelines = pipes, true

	coll := sigma.LoadPaths(paths...)
	if o.builtin {
		cfg := config.Default()
		cfg.Rules.Paths = paths
		coll = detector.LoadRules(cfg)
	}
	eng, err := engine.New(coll, opts)
	if err != nil {
		fmt.Fprintf(stderr, "rules check: %v\n", err)
		return rulesUsage
	}
	// Parser rejections, compiler rejections and correlation rules the
	// correlator refuses are all rejections. Correlations are renamed and
	// built chain by chain by the detector's own code, so that what is
	// refused here is what the beat refuses.
	rejected := append(append(sigma.ErrorList(nil), coll.Errors...), eng.Errors()...)
	correlations := detector.PrepareCorrelations(coll, pipes, &rejected)
	rejected.Sort()
	for _, e := range rejected {
		fmt.Fprintln(stdout, e.Error())
	}
	for _, w := range coll.Warnings {
		fmt.Fprintf(stdout, "%s (warning)\n", w.Error())
	}

	st := eng.Stats()
	fmt.Fprintf(stdout, "files: %d\n", files)
	fmt.Fprintf(stdout, "rules loaded: %d (%d routed)\n", st.Rules+st.Unroutable, st.Rules)
	fmt.Fprintf(stdout, "correlation rules loaded: %d\n", correlations)
	fmt.Fprintf(stdout, "filter rules loaded: %d (%d rules filtered)\n", len(coll.Filters), st.Filtered)
	fmt.Fprintf(stdout, "rejected: %d%s\n", len(rejected), byCode(rejected))
	fmt.Fprintf(stdout, "warnings: %d%s\n", len(coll.Warnings), byCode(coll.Warnings))
	fmt.Fprintf(stdout, "unroutable: %d (loaded, but their logsource is one webshellbeat never produces: they never run)%s\n", st.Unroutable, byLogsource(eng.Unroutable(), 10))
	if strict && len(rejected) > 0 {
		return rulesRejected
	}
	return rulesOK
}

// byCode formats " (code n, code n)" sorted by code, or "" for no errors.
func byCode(l sigma.ErrorList) string {
	if len(l) == 0 {
		return ""
	}
	m := l.ByCode()
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s %d", c, m[c])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// countRuleFiles counts the files sigma.LoadPaths reads under p: p itself
// when it is a file, else every *.yml and *.yaml below it. A path that does
// not exist is an error (a usage error for the command).
func countRuleFiles(p string) (int, error) {
	info, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	if !info.IsDir() {
		return 1, nil
	}
	n := 0
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil // LoadPaths reports it as an io rejection
			}
			return err
		}
		if ext := strings.ToLower(filepath.Ext(path)); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			n++
		}
		return nil
	})
	return n, err
}

// byLogsource formats the most common logsources of counts, "; most: a/b/c
// n, ..." (at most top of them, then how many more), product/category/service
// with "-" for a part a rule leaves open.
func byLogsource(counts map[sigma.Logsource]int, top int) string {
	if len(counts) == 0 {
		return ""
	}
	ls := slices.Collect(maps.Keys(counts))
	sort.Slice(ls, func(i, j int) bool {
		if counts[ls[i]] != counts[ls[j]] {
			return counts[ls[i]] > counts[ls[j]]
		}
		return logsourceName(ls[i]) < logsourceName(ls[j])
	})
	var parts []string
	for _, l := range ls[:min(top, len(ls))] {
		parts = append(parts, fmt.Sprintf("%s %d", logsourceName(l), counts[l]))
	}
	more := ""
	if len(ls) > top {
		more = fmt.Sprintf(", and %d more logsources", len(ls)-top)
	}
	return "; most: " + strings.Join(parts, ", ") + more
}

func logsourceName(l sigma.Logsource) string {
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return part(l.Product) + "/" + part(l.Category) + "/" + part(l.Service)
}
