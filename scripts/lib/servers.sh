# shellcheck shell=bash
# Throwaway redis-server and mariadbd on loopback, for tests and the demo.
#
#   . scripts/lib/servers.sh
#   dir=$(mktemp -d /tmp/sessmigrate-srv.XXXXXX)
#   start_servers "$dir"      # exports SESSMIGRATE_REDIS_URL, SESSMIGRATE_MYSQL_URL,
#                             #         SESSMIGRATE_MYSQL_ROOT_SOCKET, and with TLS
#                             #         SESSMIGRATE_MYSQL_TLS_CA, SESSMIGRATE_MYSQL_TLS_OTHER_CA
#   ...
#   stop_servers "$dir"       # SIGTERM by PID, waits, SIGKILL after a bound
#   start_plain_mariadb DIR2  # one more mariadbd without TLS (a plaintext server for TLS refusal
#                             # tests); its port in DIR2/mysqld.port; stop it with stop_servers DIR2
#
# Both servers run as the current user (root included), listen on 127.0.0.1 only,
# on free ports found by probing (never the dev servers' 6390/3307), and keep all
# their files in DIR. PIDs are written to DIR/redis.pid and DIR/mysqld.pid, and the
# exported variables to DIR/env (sourceable). MariaDB gets database `app` and user
# app/apppw (@127.0.0.1 for TCP, @localhost for the socket) with ALL PRIVILEGES ON
# *.*; root has no password on the socket DIR/mysqld.sock.
# TLS: with SESSMIGRATE_SERVERS_TLS=1, start_servers makes a throwaway CA and a server certificate
# (subjectAltName IP:127.0.0.1 only, so `localhost` over the socket fails a host-name check) with
# openssl in DIR/tls and starts mariadbd with --ssl-ca/--ssl-cert/--ssl-key (TLS offered, not
# required). DIR/tls/ca.pem signed the server's certificate and DIR/tls/client-cert.pem (key
# client-key.pem); DIR/tls/other-ca.pem is an unrelated CA (for "wrong CA" tests). Without it (the
# default, used by the benchmark and the demo) mariadbd offers no TLS.
# Set SESSMIGRATE_SERVERS_QUIET=1 to silence progress messages, SESSMIGRATE_MYSQL_BUFFER_POOL to size
# InnoDB's buffer pool (default 256M; the benchmark uses 1G, as a production CloudSQL instance has more).

_srv_log() { [ "${SESSMIGRATE_SERVERS_QUIET:-}" = 1 ] || echo "servers: $*" >&2; }

# _srv_port_free PORT: true when nothing accepts connections on 127.0.0.1:PORT.
_srv_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _srv_pick_port BASE: prints a free port at or above BASE (skipping the dev ports).
_srv_pick_port() {
    local port=$1 tries=0
    while [ $tries -lt 200 ]; do
        if [ "$port" != 6390 ] && [ "$port" != 3307 ] && _srv_port_free "$port"; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
        tries=$((tries + 1))
    done
    echo "servers: no free port found above $1" >&2
    return 1
}

# _srv_alive PID: true while PID exists and is not a zombie.
_srv_alive() {
    local pid=$1 state
    [ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
    [ -n "$state" ] && [ "$state" != Z ]
}

# _srv_pid_is NAME PIDFILE: prints the PID from PIDFILE if that process is NAME.
_srv_pid_is() {
    local name=$1 file=$2 pid comm
    [ -f "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    _srv_alive "$pid" || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null)
    case "$comm" in "$name"*) echo "$pid" ;; *) return 1 ;; esac
}

# _srv_wait_gone PID SECONDS: waits until PID is gone; false on timeout.
_srv_wait_gone() {
    local pid=$1 deadline=$(($(date +%s) + $2))
    while _srv_alive "$pid"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || true   # reap it if it is our child
    return 0
}

_srv_start_redis() {
    local dir=$1 port attempt
    for attempt in 1 2 3; do
        port=$(_srv_pick_port $((20000 + (RANDOM % 20000)))) || return 1
        rm -f "$dir/redis.pid"
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
            --appendonly no --databases 64 --daemonize yes \
            --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 || true
        local deadline=$(($(date +%s) + 20))
        while [ "$(date +%s)" -lt "$deadline" ]; do
            if [ -s "$dir/redis.pid" ] && redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
                echo "$port" >"$dir/redis.port"
                _srv_log "redis-server ready on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"))"
                return 0
            fi
            sleep 0.05
        done
        _srv_log "redis-server did not come up on port $port (attempt $attempt); log tail:"
        tail -n 5 "$dir/redis.log" >&2 2>/dev/null || true
        _srv_stop_one redis-server "$dir/redis.pid"
    done
    return 1
}

# _srv_make_tls DIR: a CA, a server key and certificate for 127.0.0.1, a client key and certificate, and
# an unrelated CA, in DIR/tls (valid for 7 days; throwaway).
_srv_make_tls() {
    local tls=$1/tls
    mkdir -p "$tls" || return 1
    (
        cd "$tls" || exit 1
        local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
        openssl req -x509 "${key[@]}" -days 7 -subj "/CN=sessmigrate test CA" \
            -keyout ca-key.pem -out ca.pem &&
            openssl req -x509 "${key[@]}" -days 7 -subj "/CN=sessmigrate unrelated CA" \
                -keyout other-ca-key.pem -out other-ca.pem &&
            openssl req "${key[@]}" -subj "/CN=127.0.0.1" -keyout server-key.pem -out server.csr &&
            printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >server.ext &&
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 7 \
                -extfile server.ext -out server-cert.pem &&
            openssl req "${key[@]}" -subj "/CN=sessmigrate test client" -keyout client-key.pem -out client.csr &&
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 7 \
                -out client-cert.pem
    ) >"$1/tls.log" 2>&1 || { echo "servers: openssl failed; see $1/tls.log" >&2; return 1; }
    chmod 600 "$tls"/*-key.pem
}

_srv_start_mariadb() {
    local dir=$1 port attempt pid tls_args=()
    if [ -f "$dir/tls/server-cert.pem" ]; then
        tls_args=(--ssl-ca="$dir/tls/ca.pem" --ssl-cert="$dir/tls/server-cert.pem" --ssl-key="$dir/tls/server-key.pem")
    fi
    if [ ! -d "$dir/data/mysql" ]; then
        mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/install-db.log" 2>&1 || {
            echo "servers: mariadb-install-db failed; see $dir/install-db.log" >&2
            tail -n 20 "$dir/install-db.log" >&2
            return 1
        }
    fi
    for attempt in 1 2 3; do
        port=$(_srv_pick_port $((40000 + (RANDOM % 20000)))) || return 1
        rm -f "$dir/mysqld.pid"
        /usr/sbin/mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" \
            --socket="$dir/mysqld.sock" --port="$port" --bind-address=127.0.0.1 \
            --skip-name-resolve --pid-file="$dir/mysqld.pid" --log-error="$dir/err.log" \
            --local-infile=1 --character-set-server=utf8mb4 \
            --collation-server=utf8mb4_unicode_ci --innodb-buffer-pool-size="${SESSMIGRATE_MYSQL_BUFFER_POOL:-256M}" \
            --max-allowed-packet=64M --innodb-flush-log-at-trx-commit=2 \
            "${tls_args[@]+"${tls_args[@]}"}" </dev/null >/dev/null 2>&1 &
        pid=$!
        echo "$pid" >"$dir/mysqld.pid"
        local deadline=$(($(date +%s) + 60))
        while [ "$(date +%s)" -lt "$deadline" ] && _srv_alive "$pid"; do
            if mariadb-admin --no-defaults -uroot --socket="$dir/mysqld.sock" ping >/dev/null 2>&1; then
                echo "$pid" >"$dir/mysqld.pid"   # mariadbd rewrote it; keep ours
                echo "$port" >"$dir/mysqld.port"
                _srv_log "mariadbd ready on 127.0.0.1:$port (pid $pid)"
                return 0
            fi
            sleep 0.1
        done
        _srv_log "mariadbd did not come up on port $port (attempt $attempt); log tail:"
        tail -n 8 "$dir/err.log" >&2 2>/dev/null || true
        _srv_stop_one mariadbd "$dir/mysqld.pid"
    done
    return 1
}

_srv_setup_mariadb() {
    local dir=$1
    mariadb --no-defaults -uroot --socket="$dir/mysqld.sock" -e "
        CREATE DATABASE IF NOT EXISTS app CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY 'apppw';
        CREATE USER IF NOT EXISTS 'app'@'localhost' IDENTIFIED BY 'apppw';
        GRANT ALL PRIVILEGES ON *.* TO 'app'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON *.* TO 'app'@'localhost';
        FLUSH PRIVILEGES;"
}

# start_servers DIR: starts both servers with their files in DIR (created if needed).
start_servers() {
    local dir=${1:?usage: start_servers DIR}
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
    local tool
    for tool in redis-server redis-cli mariadb-install-db mariadb mariadb-admin; do
        command -v "$tool" >/dev/null 2>&1 || { echo "servers: $tool not found (run scripts/setup)" >&2; return 1; }
    done
    [ -x /usr/sbin/mariadbd ] || { echo "servers: /usr/sbin/mariadbd not found (run scripts/setup)" >&2; return 1; }
    if [ "${SESSMIGRATE_SERVERS_TLS:-}" = 1 ]; then
        command -v openssl >/dev/null 2>&1 || { echo "servers: openssl not found (run scripts/setup)" >&2; return 1; }
        _srv_make_tls "$dir" || return 1
    fi
    _srv_start_redis "$dir" || { stop_servers "$dir"; return 1; }
    _srv_start_mariadb "$dir" || { stop_servers "$dir"; return 1; }
    _srv_setup_mariadb "$dir" || { echo "servers: creating app database/users failed" >&2; stop_servers "$dir"; return 1; }
    export SESSMIGRATE_REDIS_URL="redis://127.0.0.1:$(cat "$dir/redis.port")"
    export SESSMIGRATE_MYSQL_URL="mysql://app:apppw@127.0.0.1:$(cat "$dir/mysqld.port")/app"
    export SESSMIGRATE_MYSQL_ROOT_SOCKET="$dir/mysqld.sock"
    {
        echo "export SESSMIGRATE_REDIS_URL='$SESSMIGRATE_REDIS_URL'"
        echo "export SESSMIGRATE_MYSQL_URL='$SESSMIGRATE_MYSQL_URL'"
        echo "export SESSMIGRATE_MYSQL_ROOT_SOCKET='$SESSMIGRATE_MYSQL_ROOT_SOCKET'"
    } >"$dir/env"
    if [ -f "$dir/tls/server-cert.pem" ]; then
        export SESSMIGRATE_MYSQL_TLS_CA="$dir/tls/ca.pem"
        export SESSMIGRATE_MYSQL_TLS_OTHER_CA="$dir/tls/other-ca.pem"
        {
            echo "export SESSMIGRATE_MYSQL_TLS_CA='$SESSMIGRATE_MYSQL_TLS_CA'"
            echo "export SESSMIGRATE_MYSQL_TLS_OTHER_CA='$SESSMIGRATE_MYSQL_TLS_OTHER_CA'"
        } >>"$dir/env"
    fi
}

# start_plain_mariadb DIR: one more mariadbd (no TLS, no Redis) with its files in DIR, database `app` and
# user app/apppw; its port is in DIR/mysqld.port. Stop it with stop_servers DIR.
start_plain_mariadb() {
    local dir=${1:?usage: start_plain_mariadb DIR}
    mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
    _srv_start_mariadb "$dir" || { stop_servers "$dir"; return 1; }
    _srv_setup_mariadb "$dir" || { echo "servers: creating app database/users failed" >&2; stop_servers "$dir"; return 1; }
}

# _srv_stop_one NAME PIDFILE: SIGTERM, wait up to 30 s, then SIGKILL (by PID only).
_srv_stop_one() {
    local name=$1 file=$2 pid
    pid=$(_srv_pid_is "$name" "$file") || { rm -f "$file"; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    if ! _srv_wait_gone "$pid" 30; then
        _srv_log "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        _srv_wait_gone "$pid" 10 || _srv_log "$name (pid $pid) is still alive"
    fi
    rm -f "$file"
    _srv_log "$name stopped"
}

# stop_servers DIR: stops the servers started by start_servers DIR (both in parallel).
stop_servers() {
    local dir=${1:?usage: stop_servers DIR}
    [ -d "$dir" ] || return 0
    _srv_stop_one redis-server "$dir/redis.pid" &
    local redis_stopper=$!
    _srv_stop_one mariadbd "$dir/mysqld.pid"
    wait "$redis_stopper" 2>/dev/null || true
}
