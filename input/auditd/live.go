package auditd

// The parts of live mode that need no kernel: configuration, the audit rules
// to install, the choice of socket, turning kernel messages into audit.log
// lines, and the errors a user can act on. They are tested without root.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/elastic/go-libaudit/v2/auparse"
	"github.com/elastic/go-libaudit/v2/rule"
)

// Socket types.
const (
	socketAuto      = "auto"
	socketUnicast   = "unicast"
	socketMulticast = "multicast"
)

// liveSourceName names the one source of live mode. Live mode has no
// resumable position: the kernel does not replay what was missed.
const liveSourceName = "kernel"

// liveConfig holds the options of live mode (no paths).
type liveConfig struct {
	// SocketType: auto (multicast when another audit daemon such as auditd
	// owns the unicast socket, unicast otherwise), unicast or multicast.
	SocketType string `config:"socket_type"`
	// ExecRules installs the execve/execveat rules (arch b64 and b32).
	ExecRules bool `config:"exec_rules"`
	// WebRoots get write/attribute watches (-w ROOT -p wa -k webroot).
	WebRoots []string `config:"web_roots"`
	// AuditRules are more rules in auditctl syntax, one per line.
	AuditRules string `config:"audit_rules"`
	// BacklogLimit, RateLimit: kernel settings applied in unicast mode.
	BacklogLimit uint32 `config:"backlog_limit"`
	RateLimit    uint32 `config:"rate_limit"`
	// ResolveIDs adds user and group names (like auditd's ENRICHED format).
	ResolveIDs bool `config:"resolve_ids"`
	// Reassembler tuning (go-libaudit's reassembler).
	ReassemblerMaxInFlight int           `config:"reassembler.max_in_flight"`
	ReassemblerTimeout     time.Duration `config:"reassembler.timeout"`
	// LostCheckInterval is how often the kernel's lost counter is read.
	LostCheckInterval time.Duration `config:"lost_check_interval"`
	// RulesCheckInterval is how often the loaded rules are checked for the
	// configured ones, which another process may have deleted.
	RulesCheckInterval time.Duration `config:"rules_check_interval"`
	// ProcessCacheSize bounds the table of processes seen (pid -> image).
	ProcessCacheSize int `config:"process_cache_size"`
}

func defaultLiveConfig() liveConfig {
	return liveConfig{
		SocketType:             socketAuto,
		ExecRules:              true,
		BacklogLimit:           8192,
		ResolveIDs:             true,
		ReassemblerMaxInFlight: 50,
		ReassemblerTimeout:     2 * time.Second,
		LostCheckInterval:      10 * time.Second,
		RulesCheckInterval:     5 * time.Second,
		ProcessCacheSize:       16384,
	}
}

func (c *liveConfig) validate() error {
	c.SocketType = strings.ToLower(strings.TrimSpace(c.SocketType))
	switch c.SocketType {
	case "":
		c.SocketType = socketAuto
	case socketAuto, socketUnicast, socketMulticast:
	default:
		return fmt.Errorf("socket_type %q: use auto, unicast or multicast", c.SocketType)
	}
	if c.ReassemblerMaxInFlight <= 0 {
		return errors.New("reassembler.max_in_flight must be positive")
	}
	if c.ReassemblerTimeout <= 0 {
		return errors.New("reassembler.timeout must be positive")
	}
	if c.LostCheckInterval <= 0 {
		return errors.New("lost_check_interval must be positive")
	}
	if c.RulesCheckInterval <= 0 {
		return errors.New("rules_check_interval must be positive")
	}
	for _, r := range c.WebRoots {
		if !filepath.IsAbs(r) {
			return fmt.Errorf("web_roots: %q is not an absolute path", r)
		}
	}
	_, err := c.rules()
	return err
}

// auditRule is one rule in auditctl syntax and its kernel wire format.
type auditRule struct {
	text string
	data []byte
}

// ruleTexts lists the configured rules in auditctl syntax, in order.
func (c liveConfig) ruleTexts() []string {
	var out []string
	if c.ExecRules {
		out = append(out,
			"-a always,exit -F arch=b64 -S execve,execveat -k exec",
			"-a always,exit -F arch=b32 -S execve,execveat -k exec",
		)
	}
	for _, root := range c.WebRoots {
		out = append(out, fmt.Sprintf("-w %s -p wa -k webroot", filepath.Clean(root)))
	}
	for _, line := range strings.Split(c.AuditRules, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// rules parses and builds the configured rules. Duplicates (same wire
// format) and unparsable lines are errors naming the rule.
func (c liveConfig) rules() ([]auditRule, error) {
	var (
		out  []auditRule
		errs []error
		seen = map[string]string{}
	)
	for _, text := range c.ruleTexts() {
		r, err := buildRule(text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[string(r.data)]; dup {
			errs = append(errs, fmt.Errorf("audit rule %q duplicates %q", text, prev))
			continue
		}
		seen[string(r.data)] = text
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func buildRule(text string) (auditRule, error) {
	r, err := parseRule(text)
	if err != nil {
		return auditRule{}, fmt.Errorf("audit rule %q: %w", text, err)
	}
	data, err := rule.Build(r)
	if err != nil {
		return auditRule{}, fmt.Errorf("audit rule %q: %w", text, err)
	}
	return auditRule{text: text, data: []byte(data)}, nil
}

// ignoreSelfRule keeps the beat's own system calls out of the stream (it
// reads /proc and writes its output; a watched output folder would loop).
func ignoreSelfRule(pid int) (auditRule, error) {
	return buildRule(fmt.Sprintf("-A exit,never -F pid=%d -S all", pid))
}

// --- socket choice -------------------------------------------------------

// kernelState is what the socket choice depends on.
type kernelState struct {
	ownerPID   uint32 // audit PID registered in the kernel (0: none)
	ownerAlive bool   // that process exists
	ownerName  string // its comm, when known
	locked     bool   // enabled == 2 (auditctl -e 2)
	multicast  bool   // kernel >= 3.16
}

func (k kernelState) owner() string {
	if k.ownerName != "" {
		return fmt.Sprintf("pid %d (%s)", k.ownerPID, k.ownerName)
	}
	return fmt.Sprintf("pid %d", k.ownerPID)
}

// chooseSocket picks unicast or multicast for requested (auto, unicast,
// multicast) and says why, or returns an error saying what to change.
func chooseSocket(requested string, k kernelState, self int) (string, string, error) {
	owned := k.ownerPID != 0 && k.ownerAlive && int(k.ownerPID) != self
	switch requested {
	case socketUnicast:
		if owned {
			return "", "", fmt.Errorf("%w: %s receives the kernel's audit events (it owns the unicast audit socket); "+
				"stop it (systemctl stop auditd) or set socket_type: multicast to read beside it", ErrSocketOwned, k.owner())
		}
		if k.locked {
			return "", "", fmt.Errorf("%w: socket_type unicast would change audit settings; reboot without 'auditctl -e 2' or use socket_type: multicast with the rules already loaded", ErrAuditLocked)
		}
		return socketUnicast, "socket_type: unicast requested", nil
	case socketMulticast:
		if !k.multicast {
			return "", "", fmt.Errorf("%w: socket_type multicast needs Linux 3.16 or later; use socket_type: unicast", ErrNoMulticast)
		}
		return socketMulticast, "socket_type: multicast requested", nil
	default:
		if owned {
			if !k.multicast {
				return "", "", fmt.Errorf("%w: %s owns the unicast audit socket and this kernel has no multicast audit (Linux 3.16+); stop it to let webshellbeat read the kernel's events", ErrSocketOwned, k.owner())
			}
			return socketMulticast, fmt.Sprintf("%s owns the unicast audit socket: reading the multicast group beside it", k.owner()), nil
		}
		if k.locked {
			if !k.multicast {
				return "", "", fmt.Errorf("%w and this kernel has no multicast audit", ErrAuditLocked)
			}
			return socketMulticast, "audit settings are locked (enabled=2): reading the multicast group with the rules already loaded", nil
		}
		return socketUnicast, "no audit daemon is running: webshellbeat owns the unicast audit socket", nil
	}
}

// hasMulticast reports kernel >= 3.16 from a uname release string.
func hasMulticast(release string) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minorDigits := parts[1]
	if i := strings.IndexFunc(minorDigits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorDigits = minorDigits[:i]
	}
	minor, err2 := strconv.Atoi(minorDigits)
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 3 || (major == 3 && minor >= 16)
}

// --- errors ---------------------------------------------------------------

// Errors of live mode, for errors.Is; the messages around them say how to
// fix the situation.
var (
	ErrNotPermitted = errors.New("not permitted to use the kernel's audit interface")
	ErrSocketOwned  = errors.New("another process owns the audit unicast socket")
	ErrNoAudit      = errors.New("no audit support in this kernel or container")
	ErrAuditLocked  = errors.New("the kernel's audit configuration is locked")
	ErrNoMulticast  = errors.New("the kernel has no multicast audit")
)

const (
	capAuditControl = 30
	capAuditRead    = 37
)

// checkCapabilities checks the effective capabilities (CapEff of
// /proc/self/status) that socket needs: CAP_AUDIT_CONTROL for unicast and
// for installing rules, CAP_AUDIT_READ for multicast.
func checkCapabilities(capEff uint64, socket string, installRules bool) error {
	has := func(bit uint) bool { return capEff&(1<<bit) != 0 }
	var missing []string
	if (socket == socketUnicast || installRules) && !has(capAuditControl) {
		missing = append(missing, "CAP_AUDIT_CONTROL")
	}
	if socket == socketMulticast && !has(capAuditRead) {
		missing = append(missing, "CAP_AUDIT_READ")
	}
	if len(missing) == 0 {
		return nil
	}
	who := "this process"
	if os.Geteuid() != 0 {
		who = fmt.Sprintf("this process (uid %d, not root)", os.Geteuid())
	}
	return fmt.Errorf("%w: %s lacks %s; run webshellbeat as root, or grant the capabilities "+
		"(setcap cap_audit_control,cap_audit_read+ep webshellbeat, or AmbientCapabilities=CAP_AUDIT_CONTROL CAP_AUDIT_READ in its systemd unit; in a container --cap-add AUDIT_CONTROL --cap-add AUDIT_READ)",
		ErrNotPermitted, who, strings.Join(missing, " and "))
}

// parseCapEff reads the CapEff line of a /proc/<pid>/status file.
func parseCapEff(status string) (uint64, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, errors.New("no CapEff line")
}

// classify wraps an error of a netlink operation with the sentinel and the
// fix when the errno says which situation it is.
func classify(op string, err error, k kernelState) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, syscall.EPROTONOSUPPORT), errors.Is(err, syscall.EAFNOSUPPORT),
		strings.Contains(err.Error(), "audit not supported by kernel"):
		return fmt.Errorf("%w: %s: %v; the kernel was built without CONFIG_AUDIT, or this runs in a container "+
			"whose network namespace is not the host's (audit netlink exists only in the initial namespace): run on the host, "+
			"or give the container the host's network and PID namespaces (--network=host --pid=host) and AUDIT_CONTROL/AUDIT_READ", ErrNoAudit, op, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %s: %v; the kernel refuses audit requests from a user namespace other than the initial one (a rootless or user-namespaced container): run on the host", ErrNoAudit, op, err)
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		if k.locked {
			return fmt.Errorf("%w: %s: %v; audit rules and settings cannot change until reboot (auditctl -e 2 was used)", ErrAuditLocked, op, err)
		}
		capErr := checkCapabilities(0, socketUnicast, true)
		return fmt.Errorf("%s: %v: %w", op, err, capErr)
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%w: %s: %v: %s receives the audit events; stop it (systemctl stop auditd) or set socket_type: multicast", ErrSocketOwned, op, err, k.owner())
	}
	return fmt.Errorf("%s: %w", op, err)
}

// --- kernel messages to audit.log lines --------------------------------

// skipRecord drops what is not an audit record: netlink control replies
// (AUDIT_GET and the like, below 1100) and AUDIT_REPLACE probes.
func skipRecord(typ auparse.AuditMessageType) bool {
	switch {
	case typ == auparse.AUDIT_REPLACE:
		return true
	case (typ < auparse.AUDIT_USER_AUTH || typ > auparse.AUDIT_LAST_USER_MSG2) && typ != auparse.AUDIT_LOGIN:
		return true
	}
	return false
}

// idNamer resolves user and group ids to names; nil leaves lines raw.
type idNamer interface {
	user(id string) string
	group(id string) string
}

// idKeys are the fields that auditd's ENRICHED format interprets.
var idKeys = map[string]bool{
	"uid": true, "euid": true, "suid": true, "fsuid": true, "auid": true, "ouid": true, "oauid": true,
	"gid": true, "egid": true, "sgid": true, "fsgid": true, "ogid": true,
}

// formatLine builds the audit.log line of one kernel message:
// "type=NAME msg=audit(ts:seq): body", plus, when names is set, auditd's
// ENRICHED interpretations of the user and group ids after a 0x1D byte
// (UID="www-data" ...), so module/auditd maps it like an auditd log line.
func formatLine(typ auparse.AuditMessageType, raw string, names idNamer) string {
	raw = strings.TrimSpace(raw)
	line := "type=" + typ.String() + " msg=" + raw
	if names == nil || typ == auparse.AUDIT_EXECVE || typ == auparse.AUDIT_PROCTITLE {
		return line
	}
	body := raw
	if i := strings.Index(raw, "): "); i >= 0 {
		body = raw[i+3:]
	}
	var rich []string
	for _, kv := range topLevelFields(body) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !idKeys[k] {
			continue
		}
		var name string
		switch {
		case v == "4294967295" || v == "-1":
			name = "unset"
		case strings.Contains(k, "g"):
			name = names.group(v)
		default:
			name = names.user(v)
		}
		if name == "" {
			continue
		}
		rich = append(rich, fmt.Sprintf("%s=%q", strings.ToUpper(k), name))
	}
	if len(rich) == 0 {
		return line
	}
	return line + "\x1d" + strings.Join(rich, " ")
}

// topLevelFields splits "k=v k2='a b' k3="c d"" on spaces outside quotes.
func topLevelFields(s string) []string {
	var out []string
	start, quote := -1, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			if start < 0 {
				start = i
			}
		case c == ' ':
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// lines formats the records of one reassembled event.
func lines(msgs []*auparse.AuditMessage, names idNamer) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, formatLine(m.RecordType, m.RawData, names))
	}
	return out
}
