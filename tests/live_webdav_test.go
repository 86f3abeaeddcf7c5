//go:build linux

package tests

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/detection"
	"webshellbeat/internal/testfiles"
)

// davPort is the WebDAV server of TestLiveWebDAVUpload, beside the nginx
// site of .ci/linux-e2e.sh.
const davPort = 18086

// WebDAV left writable on a PHP web root, on a real nginx (its dav module)
// with php-fpm: a web shell is PUT as x.php, and another PUT as x.txt
// and MOVEd to x.php (what IIS WebDAV intruders do where scripts may not
// be PUT); each is then requested with a command. The PUT must raise the
// access-log rule on writes of scripts; both uploads, the audit-log
// rename included, must raise the upload-then-execute alert naming nginx
// as the writer; and the commands must be linked to their requests.
func TestLiveWebDAVUpload(t *testing.T) {
	fpm := liveReady(t)
	site := liveSites[1]
	writeDavSite(t, site)
	nonce := fmt.Sprintf("wsbdav%d", time.Now().UnixNano())
	put, moved := "/uploads/"+nonce+"put.php", "/uploads/"+nonce+"move.php"
	for _, p := range []string{put, moved, strings.TrimSuffix(moved, ".php") + ".txt"} {
		t.Cleanup(func() { os.Remove(site.root + p) })
	}
	startServers(t, fpm)
	waitPort(t, davPort)
	dir := t.TempDir()
	const davLog = "/var/log/nginx/wsb-dav-access.log"
	startLiveBeat(t, dir, liveSitesInputs()+liveAccessInput("dav-live", davLog, "nginx")+detectAll)

	const shell = "<?php echo shell_exec($_GET['c']); ?>\n"
	base := fmt.Sprintf("http://127.0.0.1:%d", davPort)
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", shell, base+put); code != "201" {
		t.Fatalf("PUT %s: status %s, want 201", put, code)
	}
	txt := strings.TrimSuffix(moved, ".php") + ".txt"
	curl(t, "-X", "PUT", "--data-binary", shell, base+txt)
	// nginx answers a MOVE 204 whether or not the destination was there.
	if code := curl(t, "-o", "/dev/null", "-w", "%{http_code}", "-X", "MOVE", "-H", "Destination: "+base+moved, base+txt); code != "201" && code != "204" {
		t.Fatalf("MOVE %s to %s: status %s, want 201 or 204", txt, moved, code)
	}
	var attacks []liveAttack
	for _, p := range []string{put, moved} {
		// A command of its own: the beat reads the access log from its
		// start, and an earlier test's request with the same command (the
		// mail() bypass's ?cmd=id) would explain these shells as well.
		a := liveAttack{site, base + p + "?c=", "echo " + nonce + "; id"}
		if out := curl(t, a.url+urlQuery(a.cmd)); !strings.Contains(out, "uid=") {
			t.Fatalf("%s did not run its command: %q", p, out)
		}
		attacks = append(attacks, a)
	}
	docs := waitLinked(t, dir, attacks)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(uploadAlerts(docs, nonce)) < 2; time.Sleep(250 * time.Millisecond) {
		docs = readDocs(t, dir)
	}
	for _, a := range unlinked(docs, attacks) {
		t.Errorf("no alert for %s that carries its request", a.url)
	}
	const putRule = "02369e75-bce3-4f4f-82fb-fcd3d8636d77"
	if !slices.ContainsFunc(docs, func(d map[string]any) bool {
		return detection.LookupString(d, "http.request.method") == "PUT" && detection.LookupString(d, "url.path") == put &&
			slices.Contains(detection.LookupStrings(d, "webshell.rule_ids"), putRule)
	}) {
		t.Errorf("the PUT of %s raised no alert of the script-write-by-PUT rule", put)
	}
	got := uploadAlerts(docs, nonce)
	for _, p := range []string{put, moved} {
		d, ok := got[site.root+p]
		if !ok {
			t.Errorf("no upload-then-execute alert for %s", p)
			continue
		}
		if w := detection.LookupString(d, "webshell.upload.process.name"); w != "nginx" {
			t.Errorf("%s: upload-then-execute alert names writer %q, want nginx", p, w)
		}
	}
	if t.Failed() {
		for _, d := range docs {
			if strings.Contains(fmt.Sprint(d["url"], d["file"], d["process"]), nonce) {
				t.Logf("%s %s %s %v %v %v rules %v request %q ancestry %v", detection.LookupString(d, "@timestamp"), detection.LookupString(d, "event.kind"),
					detection.LookupString(d, "event.action"), lookup(d, "url.original"), lookup(d, "file.path"), lookup(d, "process.command_line"),
					detection.LookupStrings(d, "webshell.rule_ids"), detection.LookupString(d, "webshell.request.url.original"), ancestry(d))
			}
		}
	}
}

// uploadAlerts are the upload-then-execute alerts of files named with
// nonce, by file path.
func uploadAlerts(docs []map[string]any, nonce string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, d := range docs {
		if p := detection.LookupString(d, "webshell.upload.path"); strings.Contains(p, nonce) && detection.LookupString(d, "event.dataset") == "webshellbeat.correlation" {
			out[p] = d
		}
	}
	return out
}

// writeDavSite enables a WebDAV server on site's web root for the test: PUT,
// MOVE and COPY of any file, PHP run for GET and POST, through the
// fastcgi_pass of the site of .ci/linux-e2e.sh (a PUT to a .php goes to
// the dav module by an internal rewrite, since a regex location takes it
// first). The file goes at cleanup.
func writeDavSite(t *testing.T, site liveSite) {
	t.Helper()
	own, err := os.ReadFile("/etc/nginx/sites-enabled/wsb")
	if err != nil {
		t.Fatal(err)
	}
	pass := regexp.MustCompile(`fastcgi_pass [^;]+;`).Find(own)
	if pass == nil {
		t.Fatal("no fastcgi_pass in /etc/nginx/sites-enabled/wsb")
	}
	conf := fmt.Sprintf(`server {
    listen 127.0.0.1:%d;
    root %s;
    access_log /var/log/nginx/wsb-dav-access.log combined;
    location / {
        dav_methods PUT MOVE COPY;
        create_full_put_path on;
    }
    location ~ \.php$ {
        if ($request_method !~ ^(GET|POST|HEAD)$) { rewrite ^ /__dav$uri last; }
        include snippets/fastcgi-php.conf;
        %s
    }
    location ^~ /__dav/ {
        internal;
        alias %s/;
        dav_methods PUT MOVE COPY;
        create_full_put_path on;
    }
}
`, davPort, site.root, pass, site.root)
	const path = "/etc/nginx/sites-enabled/wsb-dav"
	testfiles.Write(t, path, conf)
	t.Cleanup(func() { os.Remove(path) })
	if out, err := exec.Command("nginx", "-t").CombinedOutput(); err != nil {
		t.Fatalf("nginx -t with the WebDAV site: %v\n%s", err, out)
	}
}
