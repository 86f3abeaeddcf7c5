package hunt

import (
	"fmt"
	"io"
	"iter"
	"regexp"
	"strings"

	"webshellbeat/detection"
	"webshellbeat/module/modsec"
)

// maxEntryText bounds event.original of a ModSecurity entry: the bodies in
// it are kept, clipped, in http.*.body.content.
const maxEntryText = 32 << 10

// readModSec reads a ModSecurity audit log: the Serial type's entries one
// after another, or one entry of the Concurrent type's files. An entry runs
// from its A boundary to its Z boundary; one cut short (the next entry's A
// first, or the file's end: a log rotated or copied mid-write) is read with
// the sections it has, and says so in error.message.
func readModSec(name string, r io.Reader) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		var b strings.Builder
		start := 0
		flush := func() bool {
			if b.Len() == 0 {
				return true
			}
			text := b.String()
			b.Reset()
			doc, err := modsec.Parse(text)
			return yield(lineRecord(name, start, detection.Clip(text, maxEntryText), doc, err))
		}
		for n, line := range lines(r) {
			section := modsec.Section(line)
			if section == "A" && !flush() {
				return
			}
			if b.Len() == 0 {
				if section == "" {
					if strings.TrimSpace(line) != "" && !yield(errRecord(fmt.Sprintf("%s:%d", name, n), line, errOutside)) {
						return
					}
					continue
				}
				start = n
			}
			b.WriteString(line)
			b.WriteByte('\n')
			if section == "Z" && !flush() {
				return
			}
		}
		flush()
	}
}

var errOutside = fmt.Errorf("%w: a line outside any entry (between a Z section and the next A)", modsec.ErrMalformed)

// modSecIndexLine matches a line of the index that ModSecurity's
// Concurrent audit log writes (SecAuditLog), one line per entry file:
// an access line, then the entry's unique id, its file, offset, size and
// md5.
var modSecIndexLine = regexp.MustCompile(`" \S+ "[^"]*" /\S+ \d+ \d+ md5:[0-9a-f]{32}\s*$`)

// modSecIndex reports whether head opens such an index.
func modSecIndex(head []byte) bool {
	first, _, _ := strings.Cut(string(head), "\n")
	return modSecIndexLine.MatchString(first)
}

// isModSec reports whether the first line of a file opens a ModSecurity
// audit log section (an entry's A, or a later one where the log was cut).
func isModSec(first string) bool {
	return modsec.Section(strings.TrimRight(first, "\r")) != ""
}
