package correlate

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkBusySite is a busy site: 1,000 requests a second, two in three
// for script pages, and a command the site runs itself every 50 ms (an
// image library's convert) that no parameter ties to a page. Requests and
// processes are held for the whole reorder window. It reports the cost of
// one event (a request or a process) in that steady state: with the
// commands run in the folder of the pages (PHP), and elsewhere (Tomcat),
// where only time can link them.
//
//	go test -run '^$' -bench BusySite ./detection/correlate
func BenchmarkBusySite(b *testing.B) {
	for _, site := range []struct {
		name, cwd, server string
		paths             []string
	}{
		{"php", "/var/www/html/wp-admin", "nginx", []string{"/wp-admin/admin-ajax.php", "/index.php", "/wp-content/themes/a/style.css"}},
		{"tomcat", "/var/lib/tomcat10", "tomcat", []string{"/app/cart.jsp", "/app/index.jsp", "/app/style.css"}},
	} {
		b.Run(site.name, func(b *testing.B) {
			c := New(Options{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				if i%50 == 0 { // a command of the site's own every 50 ms
					id := fmt.Sprint("p", i)
					c.AddProcess("h", Process{Ref: int64(i), Time: at, ID: id, Shell: id, CommandLine: "convert a.png b.jpg", Cwd: site.cwd})
				} else {
					p := site.paths[i%len(site.paths)]
					c.AddRequest("h", Request{Ref: int64(i), Time: at.Truncate(time.Second), Path: p, Script: p != site.paths[2], Server: site.server})
				}
				i++
			}
		})
	}
}
