package auditd

// A parser for the subset of auditctl's rule syntax that audit rule files
// use (-a/-A list,action, -F, -C, -S, -k, -w, -p), building go-libaudit's
// rule structures. go-libaudit's own rule/flags package needs a module
// (go-shellquote) this build does not carry.

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"
)

var (
	valueFilterRe = regexp.MustCompile(`^(\w+)\s*(<=|>=|&=|=|!=|<|>|&)(\S+)$`)
	interFilterRe = regexp.MustCompile(`^(\w+)\s*(!?=)(\w+)$`)
)

// parseRule parses one rule in auditctl syntax. Values are separated by
// spaces; a value may be quoted with ' or " (without escapes inside).
func parseRule(text string) (rule.Rule, error) {
	args, err := splitArgs(text)
	if err != nil {
		return nil, err
	}
	var (
		add, prepend  string
		filters       []rule.FilterSpec
		syscalls      []string
		keys          []string
		path          string
		perms         []rule.AccessType
		watch, sysOps bool
	)
	for i := 0; i < len(args); i++ {
		flag := args[i]
		if !strings.HasPrefix(flag, "-") || len(flag) != 2 {
			return nil, fmt.Errorf("unexpected %q (want a flag such as -a, -w, -F, -S, -k)", flag)
		}
		if i+1 >= len(args) {
			return nil, fmt.Errorf("flag %s needs a value", flag)
		}
		i++
		v := args[i]
		switch flag {
		case "-a":
			add, sysOps = v, true
		case "-A":
			prepend, sysOps = v, true
		case "-F":
			m := valueFilterRe.FindStringSubmatch(v)
			if m == nil {
				return nil, fmt.Errorf("invalid filter %q", v)
			}
			filters = append(filters, rule.FilterSpec{Type: rule.ValueFilterType, LHS: m[1], Comparator: m[2], RHS: m[3]})
			sysOps = true
		case "-C":
			m := interFilterRe.FindStringSubmatch(v)
			if m == nil {
				return nil, fmt.Errorf("invalid field comparison %q", v)
			}
			filters = append(filters, rule.FilterSpec{Type: rule.InterFieldFilterType, LHS: m[1], Comparator: m[2], RHS: m[3]})
			sysOps = true
		case "-S":
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					syscalls = append(syscalls, s)
				}
			}
			sysOps = true
		case "-k":
			keys = append(keys, v)
		case "-w":
			path, watch = v, true
		case "-p":
			watch = true
			for _, c := range []byte(v) {
				switch c {
				case 'r':
					perms = append(perms, rule.ReadAccessType)
				case 'w':
					perms = append(perms, rule.WriteAccessType)
				case 'x':
					perms = append(perms, rule.ExecuteAccessType)
				case 'a':
					perms = append(perms, rule.AttributeChangeAccessType)
				default:
					return nil, fmt.Errorf("invalid permission %q in -p %s (use r, w, x, a)", string(c), v)
				}
			}
		default:
			return nil, fmt.Errorf("unsupported flag %s (supported: -a -A -F -C -S -k -w -p)", flag)
		}
	}
	switch {
	case watch && sysOps:
		return nil, errors.New("a file watch (-w/-p) cannot be combined with -a/-A/-F/-C/-S")
	case watch:
		if path == "" {
			return nil, errors.New("-p needs -w PATH")
		}
		return &rule.FileWatchRule{Type: rule.FileWatchRuleType, Path: path, Permissions: perms, Keys: keys}, nil
	case sysOps:
		if (add == "") == (prepend == "") {
			return nil, errors.New("a syscall rule needs exactly one of -a or -A")
		}
		r := &rule.SyscallRule{Type: rule.AppendSyscallRuleType, Filters: filters, Syscalls: syscalls, Keys: keys}
		spec := add
		if prepend != "" {
			r.Type, spec = rule.PrependSyscallRuleType, prepend
		}
		for _, part := range strings.Split(spec, ",") {
			switch part = strings.TrimSpace(part); part {
			case "task", "exit", "user", "exclude":
				r.List = part
			case "never", "always":
				r.Action = part
			default:
				return nil, fmt.Errorf("invalid list or action %q in %q", part, spec)
			}
		}
		if r.List == "" || r.Action == "" {
			return nil, fmt.Errorf("%q needs a list (exit, task, user, exclude) and an action (always, never)", spec)
		}
		return r, nil
	}
	return nil, errors.New("no rule: use -a/-A for a syscall rule or -w for a file watch")
}

func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
