#!/usr/bin/env bash
# Start or stop one OpenSearch 2.19 node for webshellbeat's integration tests.
#
#   testing/opensearch/run.sh start   build (Maven), start in the background,
#                                     wait for _cluster/health yellow or green
#   testing/opensearch/run.sh stop    stop it (SIGTERM, then SIGKILL after 30 s)
#
# Environment: OPENSEARCH_PORT (9200), OPENSEARCH_HOME (a fresh data folder,
# default target/node-PORT under this folder), OPENSEARCH_KEEP (true: start on
# the data the folder holds, as a node restarted after a crash; default: wiped),
# OPENSEARCH_OVERRIDE (true: GET / reports 7.10.2), OPENSEARCH_HEAP (512m),
# OPENSEARCH_WAIT (120 s).
#
# The Maven build is skipped when the jars are newer than pom.xml and src/, so
# that a second node (tests/opensearch_outage_test.go) never rewrites the jars
# of one that is running.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${OPENSEARCH_PORT:-9200}"
home="${OPENSEARCH_HOME:-$here/target/node-$port}"
override="${OPENSEARCH_OVERRIDE:-true}"
heap="${OPENSEARCH_HEAP:-512m}"
wait_s="${OPENSEARCH_WAIT:-120}"
pidfile="$here/target/opensearch-$port.pid"
log="$here/target/opensearch-$port.log"
url="http://127.0.0.1:$port"

health() {
  curl -fsS --max-time 2 "$url/_cluster/health" 2>/dev/null | grep -Eq '"status" *: *"(green|yellow)"'
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# built: the node's jar and its dependencies exist and nothing in pom.xml or
# src/ changed since.
built() {
  local jar="$here/target/opensearch-node-0.1.0.jar"
  [ -f "$jar" ] && [ -d "$here/target/lib" ] &&
    [ -z "$(find "$here/pom.xml" "$here/src" -newer "$jar" -print -quit)" ]
}

start() {
  if running; then
    echo "opensearch: already running (pid $(cat "$pidfile"))" >&2
    exit 1
  fi
  if curl -fsS --max-time 2 "$url" >/dev/null 2>&1; then
    echo "opensearch: something already answers on $url" >&2
    exit 1
  fi
  mkdir -p "$here/target"
  if built; then
    :
  elif ! (cd "$here" && mvn -B -Dstyle.color=never package -DskipTests &&
        mvn -B -Dstyle.color=never dependency:copy-dependencies \
          -DoutputDirectory=target/lib -DincludeScope=runtime) >"$here/target/build.log" 2>&1; then
    echo "opensearch: the Maven build failed; last lines of $here/target/build.log:" >&2
    tail -40 "$here/target/build.log" >&2
    exit 1
  fi
  if [ "${OPENSEARCH_KEEP:-}" != true ]; then
    rm -rf "$home"
  fi
  mkdir -p "$home"
  local t0=$SECONDS
  nohup java -Xms"$heap" -Xmx"$heap" -XX:+UseSerialGC \
    -Dlog4j2.disable.jmx=true -Dlog4j.shutdownHookEnabled=false -Djava.awt.headless=true \
    -cp "$here/target/opensearch-node-0.1.0.jar:$here/target/lib/*" \
    webshellbeat.testing.OpenSearchNode "$home" "$port" "$override" \
    >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  while ! health; do
    if ! running; then
      echo "opensearch: the node exited; last lines of $log:" >&2
      tail -30 "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if (( SECONDS - t0 >= wait_s )); then
      echo "opensearch: no healthy cluster after ${wait_s}s; last lines of $log:" >&2
      tail -30 "$log" >&2
      stop
      exit 1
    fi
    sleep 1
  done
  echo "opensearch: $url up in $((SECONDS - t0))s (pid $(cat "$pidfile"), log $log)"
}

stop() {
  if ! [ -f "$pidfile" ]; then
    echo "opensearch: not running (no $pidfile)"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "opensearch: pid $pid still alive after 30 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
  echo "opensearch: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
