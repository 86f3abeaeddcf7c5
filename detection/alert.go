package detection

import (
	"regexp"
	"sort"
	"strings"
)

// RuleInfo is what an alert says about a rule that matched. It is a plain copy
// of the rule's metadata so that alert building does not depend on the rule
// engine's types.
type RuleInfo struct {
	ID          string
	Title       string
	Description string
	Level       string // Sigma level: informational, low, medium, high, critical
	Author      string
	Version     string // the rule's modified or creation date
	References  []string
	Tags        []string
	Ruleset     string // "webshellbeat" for the built-in pack, else the rule's folder
}

// Severity maps a Sigma level to ECS event.severity, on the scale Elastic
// Security uses for alerts (21 low, 47 medium, 73 high, 99 critical).
func Severity(level string) int {
	switch strings.ToLower(level) {
	case "critical":
		return 99
	case "high":
		return 73
	case "medium":
		return 47
	case "low":
		return 21
	default: // informational or unset
		return 1
	}
}

// MarkAlert turns doc, a normalised event that matched rules, into an ECS
// alert document in place: event.kind alert, severity and risk score of the
// most severe rule, rule.*, threat.* from the rules' ATT&CK tags, and message.
// The event's own fields stay, because they are what explains the alert.
//
// One source record gives one document, so when several rules match, rule.id,
// rule.name and the other rule.* fields list all of them, most severe first;
// message and severity come from the first.
func MarkAlert(doc map[string]any, rules []RuleInfo) {
	if len(rules) == 0 {
		return
	}
	rules = append([]RuleInfo(nil), rules...)
	sort.SliceStable(rules, func(i, j int) bool { return Severity(rules[i].Level) > Severity(rules[j].Level) })
	top := rules[0]
	sev := Severity(top.Level)
	Put(doc, "event.kind", "alert")
	Put(doc, "event.severity", sev)
	Put(doc, "event.risk_score", float64(sev))
	// message becomes the rule's title, as in Elastic's alerts; the event's
	// own message (an error log line, a rendered Windows message) is what
	// explains it, so it is kept in event.original unless that is set.
	if msg, _ := doc["message"].(string); msg != "" && msg != top.Title {
		if _, ok := Lookup(doc, "event.original"); !ok {
			Put(doc, "event.original", msg)
		}
	}
	Put(doc, "message", top.Title)
	Put(doc, "rule", ruleFields(rules))
	if threat := threatFields(rules); threat != nil {
		Put(doc, "threat", threat)
	}
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	Put(doc, "webshell.rule_ids", ids)
}

// ruleFields fills rule.*: a single value when one rule matched, a list in
// severity order when several did.
func ruleFields(rules []RuleInfo) map[string]any {
	pick := func(f func(RuleInfo) string) any {
		if len(rules) == 1 {
			return f(rules[0])
		}
		out := make([]string, len(rules))
		for i, r := range rules {
			out[i] = f(r)
		}
		return out
	}
	m := map[string]any{
		"id":          pick(func(r RuleInfo) string { return r.ID }),
		"name":        pick(func(r RuleInfo) string { return r.Title }),
		"description": pick(func(r RuleInfo) string { return r.Description }),
		"ruleset":     pick(func(r RuleInfo) string { return r.Ruleset }),
		"version":     pick(func(r RuleInfo) string { return r.Version }),
		"author":      pick(func(r RuleInfo) string { return r.Author }),
		"category":    "web shell",
	}
	var refs []string
	for _, r := range rules {
		refs = appendUnique(refs, r.References...)
	}
	if len(refs) > 0 {
		m["reference"] = refs
	}
	return m
}

var techniqueTag = regexp.MustCompile(`^attack\.(t\d{4})(?:\.(\d{3}))?$`)

// threatFields builds threat.* (ECS) from the rules' attack.* tags.
func threatFields(rules []RuleInfo) map[string]any {
	var tacticIDs, tacticNames, techIDs, techNames, subIDs, subNames []string
	for _, r := range rules {
		for _, tag := range r.Tags {
			tag = strings.ToLower(tag)
			if t, ok := tactics[strings.TrimPrefix(tag, "attack.")]; ok && strings.HasPrefix(tag, "attack.") {
				tacticIDs = appendUnique(tacticIDs, t.id)
				tacticNames = appendUnique(tacticNames, t.name)
				continue
			}
			m := techniqueTag.FindStringSubmatch(tag)
			if m == nil {
				continue
			}
			tech := strings.ToUpper(m[1])
			techIDs = appendUnique(techIDs, tech)
			techNames = appendUnique(techNames, techniques[tech])
			if m[2] != "" {
				sub := tech + "." + m[2]
				subIDs = appendUnique(subIDs, sub)
				subNames = appendUnique(subNames, techniques[sub])
			}
		}
	}
	if len(techIDs) == 0 && len(tacticIDs) == 0 {
		return nil
	}
	threat := map[string]any{"framework": "MITRE ATT&CK"}
	if len(tacticIDs) > 0 {
		threat["tactic"] = map[string]any{"id": tacticIDs, "name": tacticNames, "reference": refsFor("tactics", tacticIDs)}
	}
	if len(techIDs) > 0 {
		tech := map[string]any{"id": techIDs, "reference": refsFor("techniques", techIDs)}
		if names := nonEmpty(techNames); len(names) > 0 {
			tech["name"] = names
		}
		if len(subIDs) > 0 {
			sub := map[string]any{"id": subIDs, "reference": refsFor("techniques", subIDs)}
			if names := nonEmpty(subNames); len(names) > 0 {
				sub["name"] = names
			}
			tech["subtechnique"] = sub
		}
		threat["technique"] = tech
	}
	return threat
}

func refsFor(kind string, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "https://attack.mitre.org/" + kind + "/" + strings.ReplaceAll(id, ".", "/") + "/"
	}
	return out
}

func appendUnique(list []string, vals ...string) []string {
	for _, v := range vals {
		found := false
		for _, have := range list {
			if have == v {
				found = true
				break
			}
		}
		if !found {
			list = append(list, v)
		}
	}
	return list
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type tactic struct{ id, name string }

// tactics maps Sigma's attack.<tactic> tags to ATT&CK Enterprise tactics.
var tactics = map[string]tactic{
	"reconnaissance":       {"TA0043", "Reconnaissance"},
	"resource-development": {"TA0042", "Resource Development"},
	"initial-access":       {"TA0001", "Initial Access"},
	"initial_access":       {"TA0001", "Initial Access"},
	"execution":            {"TA0002", "Execution"},
	"persistence":          {"TA0003", "Persistence"},
	"privilege-escalation": {"TA0004", "Privilege Escalation"},
	"privilege_escalation": {"TA0004", "Privilege Escalation"},
	"defense-evasion":      {"TA0005", "Defense Evasion"},
	"defense_evasion":      {"TA0005", "Defense Evasion"},
	"credential-access":    {"TA0006", "Credential Access"},
	"credential_access":    {"TA0006", "Credential Access"},
	"discovery":            {"TA0007", "Discovery"},
	"lateral-movement":     {"TA0008", "Lateral Movement"},
	"lateral_movement":     {"TA0008", "Lateral Movement"},
	"collection":           {"TA0009", "Collection"},
	"command-and-control":  {"TA0011", "Command and Control"},
	"command_and_control":  {"TA0011", "Command and Control"},
	"exfiltration":         {"TA0010", "Exfiltration"},
	"impact":               {"TA0040", "Impact"},
}

// techniques names the ATT&CK techniques that web-shell rules cite; others are
// reported by id alone.
var techniques = map[string]string{
	"T1505":     "Server Software Component",
	"T1505.003": "Web Shell",
	"T1190":     "Exploit Public-Facing Application",
	"T1059":     "Command and Scripting Interpreter",
	"T1059.001": "PowerShell",
	"T1059.003": "Windows Command Shell",
	"T1059.004": "Unix Shell",
	"T1033":     "System Owner/User Discovery",
	"T1082":     "System Information Discovery",
	"T1087":     "Account Discovery",
	"T1016":     "System Network Configuration Discovery",
	"T1049":     "System Network Connections Discovery",
	"T1057":     "Process Discovery",
	"T1105":     "Ingress Tool Transfer",
	"T1595":     "Active Scanning",
	"T1595.003": "Wordlist Scanning",
	"T1197":     "BITS Jobs",
}
