package auditd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	f, _ := os.Open(os.Getenv("F"))
	defer f.Close()
	j := NewJoiner(JoinerConfig{})
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var off int64
	var gs []Group
	for sc.Scan() {
		off += int64(len(sc.Bytes())) + 1
		gs = append(gs, j.Add(sc.Text(), off)...)
	}
	gs = append(gs, j.Flush()...)
	for _, g := range gs {
		d, err := MapGroup(g)
		if os.Getenv("ALL") != "" || err != nil {
			b, _ := json.MarshalIndent(d, "", " ")
			fmt.Println(string(b), err)
		}
	}
	fmt.Printf("%+v\n", j.Stats())
}
