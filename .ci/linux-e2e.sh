#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for tests/live_*_test.go (the live Linux
# audit end-to-end tests): installs auditd, Apache 2 with mod_php, nginx and
# php-fpm, Tomcat 10, Node.js and logrotate from the distribution's packages
# (and LAUREL, an auditd plug-in, from crates.io) and
# configures two small PHP sites, a Java one and a Node.js one on loopback.
# It does not leave the servers running: the tests start and stop them. Safe
# to run again (every step overwrites or checks first).
#
#   Apache + mod_php  127.0.0.1:18080  /var/www/wsb-apache  /var/log/apache2/wsb-access.log
#                     (Host: wsb-other.localhost: /var/log/apache2/other_vhosts_access.log)
#                     (Host: wsb-modsec.localhost: ModSecurity's audit log, /var/log/apache2/modsec_audit.log)
#   nginx + php-fpm   127.0.0.1:18081  /var/www/wsb-nginx   /var/log/nginx/wsb-access.log
#   Tomcat 10 (java)  127.0.0.1:18082  /var/lib/tomcat10/webapps/ROOT  /var/log/tomcat10/wsb-access.log
#   Node.js           127.0.0.1:18083  /var/www/wsb-node/server.js (run as www-data by the test)
#   nginx             127.0.0.1:18089  /var/log/nginx/wsb-rotate.log    (each site and log written
#   Apache            127.0.0.1:18090  /var/log/apache2/wsb-rotate.log   and removed by
#                                      tests/live_logrotate_test.go)
#   Apache + php-fpm  127.0.0.1:18094  /var/www/wsb-apache-fpm /var/log/apache2/wsb-fpm-access.log
#   nginx + php-fpm   127.0.0.1:18095  /var/www/wsb-site    /var/log/nginx/wsb-site-access.log
#     (a pool of its own, run as the site's account wsbsite, as shared hosting runs PHP)
#   nginx + php-fpm   127.0.0.1:18099  /var/www/wsb-nginx   access log over UDP in syslog to 127.0.0.1:18599
#   nginx -> Tomcat   127.0.0.1:18100  proxy_pass to 18082   /var/log/nginx/wsb-proxy-access.log
#   gunicorn (Flask)  127.0.0.1:18097  /var/www/wsb-py/app.py     (run as wsbsite by the test)
#   puma (Rack)       127.0.0.1:18098  /var/www/wsb-rb/config.ru  (run as wsbsite by the test)
#   lighttpd + php-cgi 127.0.0.1:18092 /var/www/wsb-lighttpd /var/log/lighttpd/wsb-access.log
#   Caddy + php-fpm   127.0.0.1:18093  /var/www/wsb-caddy    /var/log/caddy/wsb-access.log
#
# Needs root (apt-get, /etc). Exits non-zero with the reason otherwise.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "linux-e2e: must run as root (it installs packages and writes /etc/apache2, /etc/nginx)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "linux-e2e: apt-get not found: this script supports Debian and Ubuntu" >&2
  exit 1
fi

# gcc and libc6-dev build the LD_PRELOAD library of tests/live_mail_bypass_test.go; cron gives
# crontab, which tests/live_persistence_test.go has a web shell run.
pkgs=(apache2 libapache2-mod-php libapache2-mod-security2 nginx php-fpm tomcat10 tomcat10-admin nodejs auditd curl logrotate gcc libc6-dev
  lighttpd php-cgi caddy gunicorn python3-flask puma cron)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

php_fpm=$(ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -n1)
if [ -z "$php_fpm" ]; then
  echo "linux-e2e: php-fpm installed but no /usr/sbin/php-fpm*" >&2
  exit 1
fi
php_ver=${php_fpm#/usr/sbin/php-fpm}
fpm_sock=/run/php/php${php_ver}-fpm.sock

# Package installs start the services where systemd runs: stop them, the
# test starts its own (and port 80 stays free).
for s in apache2 nginx "php${php_ver}-fpm" tomcat10 lighttpd caddy; do
  service "$s" stop >/dev/null 2>&1 || true
done

# --- the two sites -----------------------------------------------------------
write_site() { # root
  local root=$1
  mkdir -p "$root/uploads"
  cat >"$root/index.php" <<'PHP'
<?php $title = "Example shop"; ?>
<html><head><title><?= $title ?></title></head>
<body><h1><?= $title ?></h1><p>Welcome. <a href="login.php">Log in</a>, <a href="upload.php">send us a picture</a>.</p></body></html>
PHP
  # An upload form that checks nothing: the way the web shell gets in.
  cat >"$root/upload.php" <<'PHP'
<?php
if ($_SERVER['REQUEST_METHOD'] === 'POST' && isset($_FILES['file'])) {
    $dest = __DIR__ . '/uploads/' . basename($_FILES['file']['name']);
    if (move_uploaded_file($_FILES['file']['tmp_name'], $dest)) {
        echo "uploaded: uploads/" . htmlspecialchars(basename($dest)) . "\n";
    } else {
        http_response_code(500);
        echo "upload failed\n";
    }
    exit;
}
?>
<form method="post" enctype="multipart/form-data"><input type="file" name="file"><input type="submit"></form>
PHP
  # The clean login page; the test hides a backdoor in it.
  cat >"$root/login.php" <<'PHP'
<?php
$user = $_POST['user'] ?? '';
if ($user !== '') { echo "Wrong password for " . htmlspecialchars($user) . "\n"; exit; }
?>
<form method="post">User <input name="user"> Password <input type="password" name="password"><input type="submit"></form>
PHP
  # A legitimate page that runs a program through a shell (a false-positive trap).
  cat >"$root/status.php" <<'PHP'
<?php header('Content-Type: text/plain'); echo "up: " . shell_exec('uptime'); ?>
PHP
  chown -R root:root "$root"
  chown www-data:www-data "$root/uploads"
  chmod 0755 "$root" "$root/uploads"
}
write_site /var/www/wsb-apache
write_site /var/www/wsb-nginx
write_site /var/www/wsb-apache-fpm
write_site /var/www/wsb-lighttpd
write_site /var/www/wsb-caddy

# --- Apache 2 + mod_php on 127.0.0.1:18080 --------------------------------------
a2dismod -q mpm_event mpm_worker >/dev/null 2>&1 || true
a2enmod -q mpm_prefork "php${php_ver}" >/dev/null
printf 'Listen 127.0.0.1:18080\nListen 127.0.0.1:18094\n' >/etc/apache2/ports.conf
cat >/etc/apache2/sites-available/wsb.conf <<'CONF'
<VirtualHost 127.0.0.1:18080>
    ServerName wsb-apache.localhost
    DocumentRoot /var/www/wsb-apache
    DirectoryIndex index.php index.html
    CustomLog /var/log/apache2/wsb-access.log combined
    ErrorLog /var/log/apache2/wsb-error.log
</VirtualHost>
# A second site on the same address and root that names no CustomLog: Debian
# logs it to other_vhosts_access.log (vhost_combined), as every site of a
# stock install that has no log of its own (TestLiveApacheOtherVhosts).
<VirtualHost 127.0.0.1:18080>
    ServerName wsb-other.localhost
    DocumentRoot /var/www/wsb-apache
    DirectoryIndex index.php index.html
</VirtualHost>
# A third site with ModSecurity on, detecting only, writing every request
# and its bodies to the audit log as Debian's recommended configuration
# would (TestLiveModSecurity); the other sites have it off, as the engine
# is by default.
<VirtualHost 127.0.0.1:18080>
    ServerName wsb-modsec.localhost
    DocumentRoot /var/www/wsb-apache
    DirectoryIndex index.php index.html
    CustomLog /var/log/apache2/wsb-modsec-access.log combined
    <IfModule security2_module>
        SecRuleEngine DetectionOnly
        SecRequestBodyAccess On
        SecResponseBodyAccess On
        SecAuditEngine On
        SecAuditLogParts ABIJDEFHZ
        SecAuditLogType Serial
        SecAuditLog /var/log/apache2/modsec_audit.log
    </IfModule>
</VirtualHost>
CONF
# A site of the same Apache whose PHP runs in php-fpm's pool (proxy_fcgi), as
# Debian's php-fpm package sets Apache up (conf-available/php8.2-fpm.conf);
# the other sites keep mod_php.
cat >/etc/apache2/sites-available/wsb-fpm.conf <<CONF
<VirtualHost 127.0.0.1:18094>
    ServerName wsb-apache-fpm.localhost
    DocumentRoot /var/www/wsb-apache-fpm
    DirectoryIndex index.php index.html
    CustomLog /var/log/apache2/wsb-fpm-access.log combined
    ErrorLog /var/log/apache2/wsb-fpm-error.log
    <FilesMatch "\.php\$">
        SetHandler "proxy:unix:${fpm_sock}|fcgi://localhost"
    </FilesMatch>
</VirtualHost>
CONF
a2enmod -q proxy_fcgi >/dev/null
a2ensite -q wsb-fpm >/dev/null
a2enmod -q security2 >/dev/null
a2enconf -q other-vhosts-access-log >/dev/null
a2dissite -q 000-default >/dev/null 2>&1 || true
a2ensite -q wsb >/dev/null
apache2ctl configtest

# --- nginx + php-fpm on 127.0.0.1:18081 -----------------------------------------
rm -f /etc/nginx/sites-enabled/default
# Two JSON access logs beside the combined one, as sites write them: nginx's
# variable names with escape=json, and other key names with nginx's default
# escaping (\xHH, not JSON). TestLiveNginxJSONLog reads all three.
cat >/etc/nginx/conf.d/wsb-json.conf <<'CONF'
log_format wsb_json escape=json '{"time_local":"$time_local","remote_addr":"$remote_addr","remote_user":"$remote_user","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"http_referer":"$http_referer","http_user_agent":"$http_user_agent"}';
log_format wsb_json_parts '{"@timestamp":"$time_iso8601","client_ip":"$remote_addr","method":"$request_method","request_uri":"$request_uri","protocol":"$server_protocol","status":"$status","bytes":"$body_bytes_sent","referer":"$http_referer","user_agent":"$http_user_agent"}';
CONF
cat >/etc/nginx/sites-available/wsb <<CONF
server {
    listen 127.0.0.1:18081;
    server_name wsb-nginx.localhost;
    root /var/www/wsb-nginx;
    index index.php index.html;
    access_log /var/log/nginx/wsb-access.log combined;
    access_log /var/log/nginx/wsb-access.json wsb_json;
    access_log /var/log/nginx/wsb-access-parts.json wsb_json_parts;
    error_log /var/log/nginx/wsb-error.log;
    client_max_body_size 2m;
    location ~ \.php\$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:${fpm_sock};
    }
}
CONF
ln -sf /etc/nginx/sites-available/wsb /etc/nginx/sites-enabled/wsb
nginx -t -q
# php-fpm keeps its workers' standard error (a web shell's commands' errors)
# in its own log only when the pool catches it; TestLivePHPFPMLog reads it.
fpm_pool=/etc/php/${php_ver}/fpm/pool.d/www.conf
sed -i 's/^;\?catch_workers_output = .*/catch_workers_output = yes/' "$fpm_pool"
# A site whose PHP runs as its own account, in a pool of its own, as shared
# hosting panels (cPanel, Plesk, ISPConfig, CloudPanel) run every site: its
# files are the account's, and no web-server account is involved.
id wsbsite >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin wsbsite
write_site /var/www/wsb-site
chown -R wsbsite:wsbsite /var/www/wsb-site
cat >"/etc/php/${php_ver}/fpm/pool.d/wsb-site.conf" <<'CONF'
[wsb-site]
user = wsbsite
group = wsbsite
listen = /run/php/wsb-site.sock
listen.owner = www-data
listen.group = www-data
pm = ondemand
pm.max_children = 4
CONF
cat >/etc/nginx/sites-available/wsb-site <<'CONF'
server {
    listen 127.0.0.1:18095;
    server_name wsb-site.localhost;
    root /var/www/wsb-site;
    index index.php index.html;
    access_log /var/log/nginx/wsb-site-access.log combined;
    location ~ \.php$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:/run/php/wsb-site.sock;
    }
}
CONF
ln -sf /etc/nginx/sites-available/wsb-site /etc/nginx/sites-enabled/wsb-site
# The nginx site's pages again, with the access log sent over UDP in syslog
# to where the beat's udp input listens (tests/live_servers_test.go
# TestLiveNginxSyslog); nothing listens otherwise, and nginx drops the lines.
cat >/etc/nginx/sites-available/wsb-syslog <<CONF
server {
    listen 127.0.0.1:18099;
    server_name wsb-syslog.localhost;
    root /var/www/wsb-nginx;
    index index.php index.html;
    access_log syslog:server=127.0.0.1:18599,tag=nginx combined;
    error_log /var/log/nginx/wsb-syslog-error.log;
    location ~ \.php\$ {
        include snippets/fastcgi-php.conf;
        fastcgi_pass unix:${fpm_sock};
    }
}
CONF
ln -sf /etc/nginx/sites-available/wsb-syslog /etc/nginx/sites-enabled/wsb-syslog
# nginx in front of the Tomcat site (proxy_pass), as Java applications are
# put on the web: both logs hold each request (tests/live_proxy_test.go).
cat >/etc/nginx/sites-available/wsb-proxy <<'CONF'
server {
    listen 127.0.0.1:18100;
    server_name wsb-proxy.localhost;
    access_log /var/log/nginx/wsb-proxy-access.log combined;
    error_log /var/log/nginx/wsb-proxy-error.log;
    location / {
        proxy_pass http://127.0.0.1:18082;
        proxy_set_header X-Forwarded-For $remote_addr;
    }
}
CONF
ln -sf /etc/nginx/sites-available/wsb-proxy /etc/nginx/sites-enabled/wsb-proxy
touch /var/log/nginx/wsb-proxy-access.log
nginx -t -q
grep -q '^catch_workers_output = yes' "$fpm_pool" ||
  { echo "linux-e2e: could not set catch_workers_output in $fpm_pool" >&2; exit 1; }

# --- Tomcat 10 on 127.0.0.1:18082 --------------------------------------------------
# Debian's package runs it under systemd; the test starts catalina.sh itself,
# as the tomcat user, so the cache directory systemd would make is made here.
# The access log gets a fixed name and is written unbuffered.
tc_conf=/etc/tomcat10/server.xml
sed -i 's|<Connector port="8080" protocol="HTTP/1.1"|<Connector port="18082" address="127.0.0.1" protocol="HTTP/1.1"|' "$tc_conf"
sed -i 's|prefix="localhost_access_log" suffix=".txt"|prefix="wsb-access" suffix=".log" rotatable="false" buffered="false"|' "$tc_conf"
grep -q 'port="18082"' "$tc_conf" && grep -q 'prefix="wsb-access"' "$tc_conf" ||
  { echo "linux-e2e: could not set Tomcat's port or access log in $tc_conf" >&2; exit 1; }
install -d -o tomcat -g tomcat -m 0750 /var/cache/tomcat10
# A manager account (tomcat10-admin's text API), for the WAR deploy of
# tests/live_tomcat_deploy_test.go.
tc_users=/etc/tomcat10/tomcat-users.xml
grep -q 'username="wsbdeploy"' "$tc_users" ||
  sed -i 's|</tomcat-users>|  <user username="wsbdeploy" password="wsb-deploy-pw" roles="manager-script"/>\n</tomcat-users>|' "$tc_users"
grep -q 'username="wsbdeploy"' "$tc_users" || { echo "linux-e2e: could not add the manager account to $tc_users" >&2; exit 1; }
# A page of the site that runs nothing.
cat >/var/lib/tomcat10/webapps/ROOT/hello.jsp <<'JSP'
<%@ page contentType="text/plain" %>Hello from <%= application.getServerInfo() %> at <%= new java.util.Date() %>
JSP

# --- Node.js on 127.0.0.1:18083 ---------------------------------------------------
# A small app with a debug route that runs its cmd parameter through a shell:
# the shape of a Node.js web shell or command-injection bug.
mkdir -p /var/www/wsb-node
cat >/var/www/wsb-node/server.js <<'JS'
const http = require('http');
const { exec } = require('child_process');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/debug' && url.searchParams.has('cmd')) {
    exec(url.searchParams.get('cmd'), (err, stdout, stderr) => res.end(stdout + stderr));
    return;
  }
  res.end('Example API\n');
}).listen(18083, '127.0.0.1');
JS

# --- lighttpd + php-cgi on 127.0.0.1:18092, Caddy + php-fpm on 127.0.0.1:18093 ----
# Two servers that log differently from Apache and nginx: lighttpd writes
# the host it served in the ident column and stamps a request when it ends;
# Caddy writes JSON. lighttpd starts its own php-cgi (FastCGI) processes,
# so a web shell's commands are children of php-cgi, children of lighttpd.
# Caddy passes PHP to the php-fpm pool nginx uses. Both configurations are
# standalone (nothing in Debian's conf-enabled folders); the tests
# (tests/live_servers_test.go) start and stop the servers.
cat >/etc/lighttpd/wsb.conf <<'CONF'
server.modules = ("mod_access", "mod_accesslog", "mod_fastcgi")
server.document-root = "/var/www/wsb-lighttpd"
server.bind = "127.0.0.1"
server.port = 18092
server.username = "www-data"
server.groupname = "www-data"
server.pid-file = "/run/wsb-lighttpd.pid"
server.errorlog = "/var/log/lighttpd/wsb-error.log"
accesslog.filename = "/var/log/lighttpd/wsb-access.log"
index-file.names = ("index.php")
fastcgi.server = (".php" => ((
  "bin-path" => "/usr/bin/php-cgi",
  "socket" => "/run/lighttpd/wsb-php.socket",
  "max-procs" => 1,
  "bin-environment" => ("PHP_FCGI_CHILDREN" => "2", "PHP_FCGI_MAX_REQUESTS" => "1000"),
)))
CONF
install -d -o www-data -g www-data -m 0750 /run/lighttpd /var/log/lighttpd
lighttpd -tt -f /etc/lighttpd/wsb.conf
mkdir -p /etc/caddy /var/log/caddy
cat >/etc/caddy/wsb.Caddyfile <<CONF
{
	admin off
}
http://127.0.0.1:18093 {
	root * /var/www/wsb-caddy
	php_fastcgi unix/${fpm_sock}
	file_server
	log {
		output file /var/log/caddy/wsb-access.log
		format json
	}
}
CONF
caddy validate --adapter caddyfile --config /etc/caddy/wsb.Caddyfile >/dev/null

# --- gunicorn (Flask) on 127.0.0.1:18097, puma (Rack) on 127.0.0.1:18098 --------
# Python and Ruby servers run as their interpreter (python3.11, ruby3.1):
# a command-injection bug in a Flask app (a ping page that passes its host
# to a shell) and a Ruby web shell (its c parameter through a shell).
# tests/live_script_servers_test.go runs them as the wsbsite account.
mkdir -p /var/www/wsb-py /var/www/wsb-rb
cat >/var/www/wsb-py/app.py <<'PY'
import subprocess
from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "127.0.0.1")
    return subprocess.run("ping -c 1 -W 1 " + host, shell=True, capture_output=True, text=True).stdout
PY
cat >/var/www/wsb-rb/config.ru <<'RB'
require "uri"
run lambda { |env|
  c = URI.decode_www_form(env["QUERY_STRING"].to_s).to_h["c"].to_s
  [200, {"content-type" => "text/plain"}, [c.empty? ? "ok\n" : `#{c} 2>&1`]]
}
RB

# LAUREL 0.8.2, the auditd plug-in that writes JSON, for
# tests/live_laurel_test.go (which runs auditd with it from a config of its
# own, nothing in /etc/audit changes): built from crates.io with its own
# Cargo.lock; its bindgen needs libclang, its exacl libacl.
export PATH="$PATH:$HOME/.cargo/bin"
if ! /usr/local/bin/laurel --version 2>/dev/null | grep -q '^0\.8\.2 '; then
  if ! command -v cargo >/dev/null; then
    echo "linux-e2e: cargo not found: LAUREL is built with it (rustup's toolchain)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends libclang-dev libacl1-dev ||
    { apt-get update -q && apt-get install -y -q --no-install-recommends libclang-dev libacl1-dev; }
  # Once more on failure: a registry hiccup should not fail the run.
  cargo install laurel --version 0.8.2 --locked --root /usr/local ||
    { sleep 10; cargo install laurel --version 0.8.2 --locked --root /usr/local; }
fi

touch /var/log/apache2/wsb-access.log /var/log/apache2/wsb-fpm-access.log /var/log/nginx/wsb-site-access.log /var/log/nginx/wsb-access.log /var/log/nginx/wsb-access.json /var/log/nginx/wsb-access-parts.json
install -o tomcat -g adm -m 0640 /dev/null /var/log/tomcat10/wsb-access.log
install -o www-data -g www-data -m 0640 /dev/null /var/log/lighttpd/wsb-access.log
touch /var/log/caddy/wsb-access.log
echo "linux-e2e: ready (apache2 + mod_php ${php_ver} on 127.0.0.1:18080, nginx + ${php_fpm##*/} on 127.0.0.1:18081, apache2 + ${php_fpm##*/} on 127.0.0.1:18094, nginx + a pool as wsbsite on 127.0.0.1:18095, tomcat10 on 127.0.0.1:18082, node on 127.0.0.1:18083 (started by the test), lighttpd + php-cgi on 127.0.0.1:18092, caddy + php-fpm on 127.0.0.1:18093, auditd and LAUREL installed)"
