package hunt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os/exec"
	"strings"
)

// journalFields are the fields of a journal entry that hunt reads (the
// message, who wrote it, where): journalctl prints only those, besides its
// own (__CURSOR, __REALTIME_TIMESTAMP, ...), which keeps its JSON about a
// quarter of the size of every field's.
const journalFields = "MESSAGE,SYSLOG_IDENTIFIER,_HOSTNAME,_COMM"

// openJournal reads a systemd journal file (/var/log/journal/*/*.journal:
// where Debian 12 and other systems without a syslog daemon keep Sysmon for
// Linux's events and the access lines of web servers that log to syslog)
// through journalctl, as the beat's journald input does: its JSON (journalctl
// -o json) is written out to a temporary file, read as any journalctl
// export is. Without journalctl (Windows, a container without systemd) the
// file is reported with how to export it elsewhere.
func openJournal(path string, st *Stats) ([]iter.Seq[Record], []io.Closer, error) {
	bin, err := exec.LookPath("journalctl")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: a systemd journal file, which hunt reads with journalctl, not found here (%w); on a machine with systemd: journalctl --file %s -o json > journal.json, then hunt that", path, err, path)
	}
	cmd := exec.Command(bin, "--file", path, "--output", "json", "--output-fields", journalFields, "--no-pager", "--quiet")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	left := int64(maxEntry)
	t, size, err := spill(out, &left)
	failed := cmd.Wait()
	if err != nil {
		if t != nil {
			t.Close()
		}
		if errors.Is(err, errTooLarge) || errors.Is(err, errTotalTooLarge) {
			err = fmt.Errorf("journalctl's JSON of it is larger than %d bytes, not read", maxEntry)
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	st.Files++
	st.Formats[FormatJournal]++
	streams := []iter.Seq[Record]{fromStart(FormatJSON, path, t.File, size)}
	if failed != nil { // a damaged file: journalctl prints the entries before the damage
		failed = fmt.Errorf("%s: journalctl: %w: %s; the entries it printed were read", path, failed, strings.TrimSpace(stderr.String()))
		streams = append(streams, func(yield func(Record) bool) { yield(Record{Where: path, Err: failed}) })
	}
	return streams, []io.Closer{t}, nil
}
