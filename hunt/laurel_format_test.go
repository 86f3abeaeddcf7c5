package hunt

import (
	"slices"
	"strings"
	"testing"
)

// TestLaurelFormat: LAUREL's lines are told from other JSON by their ID,
// and a line of another kind among them is reported with its line number.
func TestLaurelFormat(t *testing.T) {
	line := `{"ID":"1700000000.100:42","SYSCALL":{"arch":"0xc000003e","syscall":59,"success":"yes","exit":0,"ppid":10,"pid":11,"uid":33,"comm":"sh","exe":"/usr/bin/dash","key":"exec","SPAWNED_BY":{"pid":10,"comm":"apache2","exe":"/usr/sbin/apache2"}},"EXECVE":{"argc":3,"ARGV":["sh","-c","id"]}}`
	if f := Detect([]byte(line + "\n")); f != FormatLaurel {
		t.Fatalf("Detect = %q", f)
	}
	dir := t.TempDir()
	p := writeFile(t, dir, "audit.log", []byte(line+"\n{\"level\":\"info\"}\n"+line+"\n"))
	recs, _ := records(t, p)
	ok, failed := wheres(recs)
	if !slices.Equal(ok, []string{p + ":1", p + ":3"}) || len(failed) != 1 || !strings.HasPrefix(failed[0], p+":2: not a LAUREL event") {
		t.Errorf("read %v, failed %q", ok, failed)
	}
}
