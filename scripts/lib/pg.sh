# Private PostgreSQL 15 servers for the test suite, quickstart and benches.
# Sourced, not run.  Functions:
#   pg_start DIR PORT   initdb (if needed) and start a server for DIR,
#                       listening on 127.0.0.1:PORT; without fsync (a test
#                       server), unless PG_DURABLE=1 (PostgreSQL's defaults:
#                       every commit flushed to disk, for benchmarks)
#   pg_stop DIR         stop it (fast, then immediate); safe if not running
#   pg_destroy DIR      stop it and delete its data
#   pg_conninfo DIR PORT DB   a libpq connection string for database DB
#   pg_socket_dir DIR   where its socket, data (data/) and log live
# DIR names the server; its files live in pg_socket_dir DIR, a short path
# under /tmp (unix socket paths are limited to ~107 bytes) owned by the
# server's user.  initdb refuses to run as root, so as root the server runs
# as 'postgres', which may not be able to enter DIR (a 0700 checkout).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_socket_dir() {
    local sum
    sum=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
    echo "/tmp/opspulse-pg-$sum"
}

pg_start() {
    local dir=$1 port=$2 run durability="-c fsync=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = 1 ] && durability=
    run=$(pg_socket_dir "$dir")
    mkdir -p "$dir" "$run"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$run"
    fi
    chmod 0755 "$run"
    if [ ! -f "$run/data/PG_VERSION" ]; then
        pg_as_owner "$PG_BIN/initdb" -D "$run/data" -A trust -U postgres \
            --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            echo "pg: initdb failed; see $dir/initdb.log" >&2
            cat "$dir/initdb.log" >&2
            return 1
        }
    fi
    if pg_as_owner "$PG_BIN/pg_ctl" -D "$run/data" status >/dev/null 2>&1; then
        return 0
    fi
    pg_as_owner "$PG_BIN/pg_ctl" -D "$run/data" -l "$run/server.log" -w -t 60 \
        -o "-p $port -k $run -c listen_addresses=127.0.0.1 $durability -c max_connections=200" \
        start >/dev/null || {
        echo "pg: server did not start; see $run/server.log" >&2
        tail -20 "$run/server.log" >&2
        return 1
    }
}

pg_stop() {
    local run
    run=$(pg_socket_dir "$1")
    [ -f "$run/data/PG_VERSION" ] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$run/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        pg_as_owner "$PG_BIN/pg_ctl" -D "$run/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pg_destroy() {
    pg_stop "$1"
    rm -rf "$(pg_socket_dir "$1")"
}

pg_conninfo() {
    echo "host=$(pg_socket_dir "$1") port=$2 user=postgres dbname=$3"
}
