# Starts a throwaway PostgreSQL cluster for the calling script: Debian's
# postgresql package (installed if missing), a free loopback port, a
# temporary directory, torn down on exit. Sets PG_URL (the postgres
# database's URL) and PG_DIR. Source it from bash. The tests' cluster
# trades durability for speed (no fsync); with PG_DURABLE=1 it keeps
# PostgreSQL's durable defaults (fsync, synchronous commit, full page
# writes), as the benchmarks need.

find_pg_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV) \
               "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if ! PG_BIN=$(find_pg_bin); then
    echo "scripts/test: installing PostgreSQL (Debian's postgresql package)" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/test: PostgreSQL is missing and installing it needs root (apt-get install postgresql)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    PG_BIN=$(find_pg_bin)
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return 0
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

PG_DIR=$(mktemp -d -t edufed-pg.XXXXXX)
PG_PORT=$(free_port)

# initdb refuses to run as root: then the cluster runs as the postgres user,
# which owns its directory.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DIR"
fi

cleanup() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap cleanup EXIT INT TERM

if [ "${PG_DURABLE:-0}" = 1 ]; then
    PG_DURABILITY=""
else
    PG_DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2
    exit 1
}
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR $PG_DURABILITY -c max_connections=400" \
    start >/dev/null || {
    cat "$PG_DIR/postgres.log" >&2
    exit 1
}
echo "scripts/test: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" >&2

PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
