# Private PostgreSQL 15 servers for the test suite and quickstart.
# Sourced, not run.  Functions:
#   pg_start DIR PORT   initdb (if needed) and start a server whose data and
#                       socket live under DIR, listening on 127.0.0.1:PORT
#   pg_stop DIR         stop it (fast, then immediate); safe if not running
#   pg_conninfo DIR PORT DB   a libpq connection string for database DB
# initdb refuses to run as root, so as root the server runs as 'postgres'.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    # The socket path must stay short (unix socket paths max ~107 bytes).
    local sock
    sock=$(pg_socket_dir "$dir")
    mkdir -p "$sock"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir" "$sock"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
            --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            echo "pg: initdb failed; see $dir/initdb.log" >&2
            cat "$dir/initdb.log" >&2
            return 1
        }
    fi
    if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        return 0
    fi
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        echo "pg: server did not start; see $dir/server.log" >&2
        tail -20 "$dir/server.log" >&2
        return 1
    }
}

pg_socket_dir() {
    # A short, stable socket directory derived from DIR.
    local sum
    sum=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
    echo "/tmp/opspulse-pg-$sum"
}

pg_stop() {
    local dir=$1
    [ -f "$dir/data/PG_VERSION" ] || return 0
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

pg_conninfo() {
    echo "host=$(pg_socket_dir "$1") port=$2 user=postgres dbname=$3"
}
