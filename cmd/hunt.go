package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detector"
	"webshellbeat/hunt"
)

// exitUsage and exitInput are hunt's exit statuses for errors; 0 means it ran,
// whether or not it found something.
const (
	exitInput = 1
	exitUsage = 2
)

func huntCommand() *cobra.Command {
	var format, configFile string
	var rulePaths []string
	c := &cobra.Command{
		Use:   "hunt PATH...",
		Short: "Hunt for web shells offline in log files and folders (EVTX, event XML, JSON, audit.log, access logs)",
		Long: `Reads files, folders (recursively), zip, tar and tar.gz/.tgz archives and gzip-compressed
files (.gz), each recognised by content, with the beat's own mappers and detector, as one
stream in event-time order, and prints the alerts. No Elasticsearch needed. A truncated
archive is read up to the cut and the cut is reported as an unreadable record.

Exit status: 0 when it ran (found something or not), 1 when a path cannot be read,
2 on a usage or configuration error.`,
		Args: cobra.MinimumNArgs(1),
		Run: func(cmd *cobra.Command, args []string) {
			os.Exit(runHunt(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, format, configFile, rulePaths))
		},
	}
	c.Flags().StringVar(&format, "format", "table", "output: table (readable) or ndjson (one ECS alert document per line)")
	c.Flags().StringVar(&configFile, "config", "", "webshellbeat.yml whose webshell processor settings to use")
	c.Flags().StringArrayVar(&rulePaths, "rules", nil, "Sigma rule file or folder, repeatable; replaces the built-in pack")
	return c
}

func runHunt(stdout, stderr io.Writer, paths []string, format, configFile string, rulePaths []string) int {
	if format != "table" && format != "ndjson" {
		fmt.Fprintf(stderr, "hunt: --format %q is not one of table, ndjson\n", format)
		return exitUsage
	}
	cfg := config.Default()
	if configFile != "" {
		var err error
		if cfg, err = config.FromFile(configFile); err != nil {
			fmt.Fprintf(stderr, "hunt: %v\n", err)
			return exitUsage
		}
	}
	// A hunt starts from an empty process table and baseline: the beat's
	// saved state describes another stream.
	cfg.State = config.State{}
	if len(rulePaths) > 0 {
		cfg.Rules = config.Rules{Paths: rulePaths, Pipelines: cfg.Rules.Pipelines, Placeholders: cfg.Rules.Placeholders}
	}
	det, err := detector.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "hunt: %v\n", err)
		return exitUsage
	}
	for _, p := range det.Problems {
		fmt.Fprintf(stderr, "rule: %v\n", p)
	}
	// An updated copy (webshell.update_of) replaces the alert it updates:
	// offline, the final state of each alert is what one wants to read. The
	// beat indexes both (a data stream is append-only).
	var alerts []map[string]any
	byID := map[string]int{}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	onAlert := func(doc map[string]any) {
		if of := detection.LookupString(doc, "webshell.update_of"); of != "" {
			if i, ok := byID[of]; ok {
				alerts[i] = doc
				return
			}
		}
		if id := detection.LookupString(doc, "webshell.doc_id"); id != "" {
			byID[id] = len(alerts)
		}
		alerts = append(alerts, doc)
	}
	errorsShown := 0
	onError := func(r hunt.Record) {
		if errorsShown < 20 {
			fmt.Fprintf(stderr, "input: %v\n", r.Err)
		}
		errorsShown++
	}
	st, err := hunt.Run(paths, det, onAlert, onError)
	if err != nil { // a named path could not be opened: nothing was read
		fmt.Fprintf(stderr, "hunt: %v\n", err)
		return exitInput
	}
	if format == "table" {
		printTable(stdout, alerts)
	} else {
		for _, a := range alerts {
			_ = enc.Encode(a)
		}
	}
	printSummary(stderr, det, st)
	return 0
}

func printSummary(w io.Writer, det *detector.Detector, st hunt.Stats) {
	var formats []string
	for f, n := range st.Formats {
		formats = append(formats, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(formats)
	// Correlation rules are counted apart, as "rules check" and the reload
	// log do: det.Loaded counts detection rules only.
	fmt.Fprintf(w, "hunt: %d rules, %d correlation rules, %d files (%s), %d skipped, %d events, %d unreadable records, %d alerts, %d derived (correlations, updates, summaries)\n",
		det.Loaded, det.Rules().Correlations, st.Files, strings.Join(formats, ", "), len(st.Skipped), st.Events, st.Errors, st.Alerts, st.Derived)
}

// printTable writes one line per alert: time, level, rule, host, the process
// (parent -> child) or request, and what it ran or asked for.
func printTable(w io.Writer, alerts []map[string]any) {
	var t table
	t.add("TIME", "LEVEL", "RULE", "HOST", "WHO", "WHAT", "SESSION", "LINK")
	for _, a := range alerts {
		s := func(path string) string { return detection.LookupString(a, path) }
		ts, _ := a["@timestamp"].(time.Time)
		who := s("process.name")
		if p := s("process.parent.name"); p != "" {
			who = p + " -> " + who
		}
		what := s("process.command_line")
		if what == "" {
			what = s("url.original")
			who = s("source.ip")
		}
		if what == "" {
			what = s("file.path")
		}
		if what == "" {
			what = s("message")
		}
		if anc, _ := detection.Lookup(a, "webshell.ancestry.name"); anc != nil {
			if names, ok := anc.([]string); ok && len(names) > 1 {
				names = append([]string(nil), names...)
				for i, n := range names {
					if n == "" {
						names[i] = "?"
					}
				}
				who = s("process.name") + " <- " + strings.Join(names, " <- ")
			}
		}
		link := s("webshell.request.url.original")
		if n, _ := detection.Lookup(a, "webshell.processes.count"); n != nil {
			link = fmt.Sprintf("%v process(es)", n)
		}
		sess := s("webshell.session.id")
		if len(sess) > 8 {
			sess = sess[:8]
		}
		t.add(ts.UTC().Format(time.RFC3339), levelName(a), ruleNames(a), s("host.name"), clip(who, 60), clip(what, 80), sess, clip(link, 60))
	}
	t.write(w)
}

func levelName(doc map[string]any) string {
	v, _ := detection.Lookup(doc, "event.severity")
	n, _ := v.(int)
	switch {
	case n >= 99:
		return "critical"
	case n >= 73:
		return "high"
	case n >= 47:
		return "medium"
	case n >= 21:
		return "low"
	}
	return "info"
}

func ruleNames(doc map[string]any) string {
	v, _ := detection.Lookup(doc, "rule.name")
	switch n := v.(type) {
	case string:
		return n
	case []string:
		return n[0] + fmt.Sprintf(" (+%d)", len(n)-1)
	}
	return ""
}
