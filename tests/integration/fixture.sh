#!/usr/bin/env bash
# ctest fixture: starts (start STATE) or stops (stop STATE) the PostgreSQL
# server the integration tests share, and on stop runs the cleanup scripts
# and kills every daemon a test registered under STATE/cleanup and
# STATE/pids (a test killed by a timeout cannot clean up after itself).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/lib/pg.sh"
action=$1 state=$2
mkdir -p "$state/pids"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case $action in
start)
    if [ -f "$state/pg.env" ]; then
        . "$state/pg.env"
        pg_destroy "$PGDIR"
    fi
    pg_destroy "$state/pg"
    port=$(free_port)
    pg_start "$state/pg" "$port"
    printf 'PGDIR=%s\nPGPORT=%s\n' "$state/pg" "$port" >"$state/pg.env"
    echo "PostgreSQL running on port $port (data in $state/pg)"
    ;;
stop)
    # Cleanup scripts a killed test left (harness.register_cleanup).
    for f in "$state"/cleanup/*.sh; do
        [ -e "$f" ] || continue
        echo "running leftover cleanup $f"
        timeout 300 bash "$f" || echo "cleanup $f failed" >&2
        rm -f "$f"
    done
    for f in "$state"/pids/*; do
        [ -e "$f" ] || continue
        pid=$(basename "$f")
        if kill -0 "$pid" 2>/dev/null; then
            echo "killing leftover process $pid ($(cat "$f"))"
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
    if [ -f "$state/pg.env" ]; then
        . "$state/pg.env"
        pg_destroy "$PGDIR"
        echo "PostgreSQL stopped and its data removed"
    fi
    ;;
*)
    echo "usage: $0 start|stop STATE" >&2
    exit 2
    ;;
esac
