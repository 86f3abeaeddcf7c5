// Package session groups the alerts of one web shell into a session and
// tunes what is raised: the first alert of a session at full severity,
// later ones lowered (or folded into a periodic summary); exceptions; and a
// baseline of process shapes learnt during a learning period.
//
// All times are event times. The package takes plain values and does not
// import libbeat. Its types are safe for concurrent use.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"
)

// Key names a web shell: the host, the web-server root (its name and
// application pool, not its pid, which changes with every recycle) and the
// script path or URL path. Script is empty when no script is known: the
// alerts of that root are grouped together. Site is the web site of a URL
// path, when the log tells it: two sites' /index.php are two scripts.
type Key struct {
	Host, Root, Script, Site string
}

// ID is the session's stable id: the same key gives the same id across
// restarts and beats. A key without a site keeps the id it had before
// sites were part of keys.
func (k Key) ID() string {
	text := k.Host + "\x00" + k.Root + "\x00" + k.Script
	if k.Site != "" {
		text += "\x00" + k.Site
	}
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:12])
}

// Mode says what happens to alerts after the first of a session.
type Mode string

const (
	Every       Mode = "every"   // every alert, later ones at lower severity
	SummaryMode Mode = "summary" // later ones become events; one summary alert per interval
)

// Options of a Tracker. Zero fields take the defaults.
type Options struct {
	Mode        Mode
	Interval    time.Duration // summary interval; default 10m
	Idle        time.Duration // a session idle this long ends; default 1h
	MaxSessions int           // default 10000
	MaxCommands int           // command keys remembered per session; default 256
}

// Tracker keeps the open sessions.
type Tracker struct {
	opt      Options
	mu       sync.Mutex
	sessions map[Key]*state
}

type state struct {
	id              string
	first, last     time.Time
	commands        []string
	firstCommand    string
	count           int
	maxSeverity     int
	summarized      time.Time // last summary (event time)
	pending         int       // alerts since the last summary
	pendingCommands []string
}

// Decision is what the tracker says of one alert.
type Decision struct {
	ID                  string
	FirstSeen, LastSeen time.Time
	CommandCount        int
	First               bool // the session's first alert: raise at full severity
	Escalated           bool // more severe than any earlier alert of the session: raise in full
	NewCommand          bool
	// Summary is set in summary mode when a summary is due with this alert.
	Summary *Summary
}

// Summary is the periodic summary of a session in summary mode.
type Summary struct {
	Key                 Key
	ID                  string
	FirstSeen, LastSeen time.Time
	CommandCount        int
	Alerts              int      // alerts folded since the last summary
	Commands            []string // their commands, up to 20
}

// NewTracker returns an empty tracker.
func NewTracker(opt Options) *Tracker {
	if opt.Mode == "" {
		opt.Mode = Every
	}
	if opt.Interval <= 0 {
		opt.Interval = 10 * time.Minute
	}
	if opt.Idle <= 0 {
		opt.Idle = time.Hour
	}
	if opt.MaxSessions <= 0 {
		opt.MaxSessions = 10000
	}
	if opt.MaxCommands <= 0 {
		opt.MaxCommands = 256
	}
	return &Tracker{opt: opt, sessions: map[Key]*state{}}
}

// Observe adds an alert to its session. command identifies the command the
// alert belongs to (a request, or the shell process): alerts of one command
// (the request, sh -c and its child) count once. An empty command is an
// alert about no command (the upload of the session's script): it keeps
// full severity and leaves the first-command place to the first command,
// whose alerts keep theirs, so that the upload alert does not lower the
// first thing the shell was used for. text is the command's readable text.
func (t *Tracker) Observe(k Key, at time.Time, severity int, command, text string) Decision {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[k]
	if s != nil && at.Sub(s.last) > t.opt.Idle {
		s = nil // idle too long: a new session (same id, new first_seen)
	}
	d := Decision{}
	if s == nil {
		if len(t.sessions) >= t.opt.MaxSessions {
			t.dropOldest()
		}
		s = &state{id: k.ID(), first: at, last: at, summarized: at, firstCommand: command}
		t.sessions[k] = s
	}
	// Every alert of the session's first command (the request, its shell,
	// the shell's child) keeps full severity.
	if s.firstCommand == "" {
		s.firstCommand = command
	}
	d.First = command == s.firstCommand || command == ""
	if at.After(s.last) {
		s.last = at
	}
	if at.Before(s.first) {
		s.first = at
	}
	if command != "" && !slices.Contains(s.commands, command) {
		s.count++
		d.NewCommand = true
		if len(s.commands) >= t.opt.MaxCommands {
			s.commands = s.commands[1:]
		}
		s.commands = append(s.commands, command)
		if text != "" && len(s.pendingCommands) < 20 {
			s.pendingCommands = append(s.pendingCommands, text)
		}
	}
	if severity > s.maxSeverity {
		d.Escalated = !d.First
		s.maxSeverity = severity
	}
	d.ID, d.FirstSeen, d.LastSeen, d.CommandCount = s.id, s.first, s.last, s.count
	if t.opt.Mode == SummaryMode && !d.First && !d.Escalated {
		s.pending++
		if at.Sub(s.summarized) >= t.opt.Interval {
			d.Summary = t.summary(k, s)
		}
	} else if d.First || d.Escalated {
		s.pendingCommands = s.pendingCommands[:0]
	}
	return d
}

func (t *Tracker) summary(k Key, s *state) *Summary {
	sum := &Summary{Key: k, ID: s.id, FirstSeen: s.first, LastSeen: s.last, CommandCount: s.count,
		Alerts: s.pending, Commands: slices.Clone(s.pendingCommands)}
	s.pending, s.pendingCommands, s.summarized = 0, nil, s.last
	return sum
}

// Flush returns the summaries of sessions with alerts folded since their
// last summary (at shutdown or the end of a hunt), in summary mode.
func (t *Tracker) Flush() []Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Summary
	for k, s := range t.sessions {
		if s.pending > 0 {
			out = append(out, *t.summary(k, s))
		}
	}
	slices.SortFunc(out, func(a, b Summary) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return out
}

func (t *Tracker) dropOldest() {
	var old Key
	var oldT time.Time
	first := true
	for k, s := range t.sessions {
		if first || s.last.Before(oldT) {
			old, oldT, first = k, s.last, false
		}
	}
	delete(t.sessions, old)
}
