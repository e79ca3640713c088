# shellcheck shell=bash
# Throwaway redis-server and mariadbd on loopback, for tests and the demo.
#
#   . scripts/lib/servers.sh
#   dir=$(mktemp -d /tmp/sessmigrate-srv.XXXXXX)
#   start_servers "$dir"      # exports SESSMIGRATE_REDIS_URL, SESSMIGRATE_MYSQL_URL,
#                             #         SESSMIGRATE_MYSQL_ROOT_SOCKET, and with TLS
#                             #         SESSMIGRATE_MYSQL_TLS_CA, SESSMIGRATE_MYSQL_TLS_OTHER_CA,
#                             #         SESSMIGRATE_REDIS_TLS_URL, SESSMIGRATE_REDIS_MTLS_URL,
#                             #         SESSMIGRATE_TLS_DIR (the certificates, below)
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
# Redis TLS: with SESSMIGRATE_SERVERS_TLS=1 two more redis-servers listen on TLS ports only (--port 0,
# --tls-port) with the same server certificate: SESSMIGRATE_REDIS_TLS_URL=rediss://127.0.0.1:PORT
# (--tls-auth-clients no) and SESSMIGRATE_REDIS_MTLS_URL (--tls-auth-clients yes: a client certificate
# from the test CA is required). SESSMIGRATE_TLS_DIR=DIR/tls also holds server2-cert.pem/-key.pem (the
# same CA and IP: a rotated certificate) and expired-cert.pem/-key.pem (expired a day before it began).
# Redis Cluster: with SESSMIGRATE_SERVERS_CLUSTER=1 start_servers also runs start_redis_cluster (below):
# SESSMIGRATE_REDIS_CLUSTER_URL, SESSMIGRATE_REDIS_CLUSTER_PORTS.
# `start_redis_tls DIR NAME AUTH-CLIENTS [CERT KEY]` starts one more (its port in DIR/NAME.port; stopped
# with stop_servers DIR). The benchmark sets SESSMIGRATE_SERVERS_REDIS_TLS=1 for the TLS Redis alone.
# Set SESSMIGRATE_SERVERS_QUIET=1 to silence progress messages, SESSMIGRATE_MYSQL_BUFFER_POOL to size
# InnoDB's buffer pool (default 256M; the benchmark uses 4G, as a production CloudSQL instance has more).

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
            --appendonly no --databases 128 --daemonize yes \
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
                -out client-cert.pem &&
            openssl req "${key[@]}" -subj "/CN=127.0.0.1" -keyout server2-key.pem -out server2.csr &&
            openssl x509 -req -in server2.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 7 \
                -extfile server.ext -out server2-cert.pem &&
            openssl req "${key[@]}" -subj "/CN=127.0.0.1" -keyout expired-key.pem -out expired.csr &&
            openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days -1 \
                -extfile server.ext -out expired-cert.pem
    ) >"$1/tls.log" 2>&1 || { echo "servers: openssl failed; see $1/tls.log" >&2; return 1; }
    chmod 600 "$tls"/*-key.pem
}

# start_redis_tls DIR NAME AUTH-CLIENTS [CERT KEY]: a redis-server on a TLS port only (--port 0), with the
# certificate in DIR/tls (server-cert.pem by default), trusting DIR/tls/ca.pem for client certificates
# (--tls-auth-clients AUTH-CLIENTS: yes, no or optional). Port in DIR/NAME.port, PID in DIR/NAME.pid.
start_redis_tls() {
    local dir=${1:?usage: start_redis_tls DIR NAME AUTH-CLIENTS [CERT KEY]} name=${2:?} auth=${3:?} port attempt
    local cert=${4:-$dir/tls/server-cert.pem} key=${5:-$dir/tls/server-key.pem} tls=$dir/tls
    for attempt in 1 2 3; do
        port=$(_srv_pick_port $((20000 + (RANDOM % 20000)))) || return 1
        rm -f "$dir/$name.pid"
        redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --dir "$dir" --save '' \
            --tls-cert-file "$cert" --tls-key-file "$key" --tls-ca-cert-file "$tls/ca.pem" \
            --tls-auth-clients "$auth" --appendonly no --databases 128 --daemonize yes \
            --pidfile "$dir/$name.pid" --logfile "$dir/$name.log" </dev/null >/dev/null 2>&1 || true
        local deadline=$(($(date +%s) + 20))
        while [ "$(date +%s)" -lt "$deadline" ]; do
            if [ -s "$dir/$name.pid" ] && redis-cli --tls --cacert "$tls/ca.pem" --cert "$tls/client-cert.pem" \
                --key "$tls/client-key.pem" -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
                echo "$port" >"$dir/$name.port"
                _srv_log "redis-server ($name, TLS, auth-clients $auth) ready on 127.0.0.1:$port (pid $(cat "$dir/$name.pid"))"
                return 0
            fi
            sleep 0.05
        done
        _srv_log "redis-server ($name) did not come up on TLS port $port (attempt $attempt); log tail:"
        tail -n 5 "$dir/$name.log" >&2 2>/dev/null || true
        _srv_stop_one redis-server "$dir/$name.pid"
    done
    return 1
}

# start_redis_cluster DIR: a Redis Cluster of 3 primaries and 3 replicas on loopback (redis-cli --cluster
# create --cluster-replicas 1), files in DIR/cluster/NODE, PIDs in DIR/redis-cluster-N.pid (stopped with
# stop_servers DIR by PID). Ports are 6 free ports probed from a random base (each also needs port+10000
# free: the cluster bus). Exports SESSMIGRATE_REDIS_CLUSTER_URL=redis://127.0.0.1:FIRST-PORT and
# SESSMIGRATE_REDIS_CLUSTER_PORTS (space-separated, primaries first as created) and
# SESSMIGRATE_REDIS_CLUSTER_DIR (DIR/cluster: a node's files are in DIR/cluster/PORT, to restart a killed
# node) and appends them to DIR/env.
# cluster-node-timeout is 2000 ms so that a killed primary's replica takes over within a few seconds.
start_redis_cluster() {
    local dir=${1:?usage: start_redis_cluster DIR} ports=() port base attempt n
    mkdir -p "$dir/cluster" || return 1
    for attempt in 1 2 3; do
        ports=()
        base=$((21000 + (RANDOM % 20000)))
        port=$base
        while [ ${#ports[@]} -lt 6 ] && [ $port -lt $((base + 400)) ]; do
            if _srv_port_free "$port" && _srv_port_free $((port + 10000)); then ports+=("$port"); fi
            port=$((port + 1))
        done
        [ ${#ports[@]} = 6 ] || continue
        n=0
        for port in "${ports[@]}"; do
            n=$((n + 1))
            mkdir -p "$dir/cluster/$port"
            rm -f "$dir/redis-cluster-$n.pid"
            redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/cluster/$port" --save '' --appendonly no \
                --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
                --daemonize yes --pidfile "$dir/redis-cluster-$n.pid" --logfile "$dir/cluster/$port/redis.log" \
                </dev/null >/dev/null 2>&1 || true
        done
        local deadline=$(($(date +%s) + 20)) ready=0
        while [ "$(date +%s)" -lt "$deadline" ] && [ $ready -lt 6 ]; do
            ready=0
            for port in "${ports[@]}"; do
                redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && ready=$((ready + 1))
            done
            [ $ready = 6 ] || sleep 0.05
        done
        if [ $ready = 6 ] && redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") \
            --cluster-replicas 1 --cluster-yes >"$dir/cluster/create.log" 2>&1; then
            deadline=$(($(date +%s) + 30))
            while [ "$(date +%s)" -lt "$deadline" ]; do
                ready=0
                for port in "${ports[@]}"; do
                    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' &&
                        ready=$((ready + 1))
                done
                [ $ready = 6 ] && break
                sleep 0.1
            done
            if [ $ready = 6 ]; then
                export SESSMIGRATE_REDIS_CLUSTER_URL="redis://127.0.0.1:${ports[0]}"
                export SESSMIGRATE_REDIS_CLUSTER_PORTS="${ports[*]}"
                export SESSMIGRATE_REDIS_CLUSTER_DIR="$dir/cluster"
                echo "export SESSMIGRATE_REDIS_CLUSTER_URL='$SESSMIGRATE_REDIS_CLUSTER_URL'" >>"$dir/env"
                echo "export SESSMIGRATE_REDIS_CLUSTER_DIR='$SESSMIGRATE_REDIS_CLUSTER_DIR'" >>"$dir/env"
                echo "export SESSMIGRATE_REDIS_CLUSTER_PORTS='$SESSMIGRATE_REDIS_CLUSTER_PORTS'" >>"$dir/env"
                _srv_log "redis cluster (3 primaries, 3 replicas) ready on 127.0.0.1 ports ${ports[*]}"
                return 0
            fi
        fi
        _srv_log "redis cluster did not form on ports ${ports[*]} (attempt $attempt); see $dir/cluster/create.log"
        for n in 1 2 3 4 5 6; do _srv_stop_one redis-server "$dir/redis-cluster-$n.pid"; done
        rm -rf "$dir/cluster"/*
    done
    return 1
}

_srv_start_mariadb() {
    local dir=$1 port attempt pid tls_args=()
    if [ -f "$dir/tls/server-cert.pem" ] && [ ! -f "$dir/tls/redis-only" ]; then
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
        # Its own tmpdir: another mariadbd on the machine (the fault suite's, a second CI job) that starts
        # up removes temporary files it takes for its own in a shared /tmp ("Error on delete of
        # '/tmp/#sql-temptable-…'" mid-query).
        mkdir -p "$dir/tmp"
        /usr/sbin/mariadbd --no-defaults --user="$(id -un)" --datadir="$dir/data" --tmpdir="$dir/tmp" \
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
    if [ "${SESSMIGRATE_SERVERS_TLS:-}" = 1 ] || [ "${SESSMIGRATE_SERVERS_REDIS_TLS:-}" = 1 ]; then
        command -v openssl >/dev/null 2>&1 || { echo "servers: openssl not found (run scripts/setup)" >&2; return 1; }
        _srv_make_tls "$dir" || return 1
        # SESSMIGRATE_SERVERS_REDIS_TLS alone (the benchmark): mariadbd stays without TLS.
        [ "${SESSMIGRATE_SERVERS_TLS:-}" = 1 ] || touch "$dir/tls/redis-only"
        start_redis_tls "$dir" redis-tls no || { stop_servers "$dir"; return 1; }
    fi
    if [ "${SESSMIGRATE_SERVERS_TLS:-}" = 1 ]; then
        start_redis_tls "$dir" redis-mtls yes || { stop_servers "$dir"; return 1; }
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
    if [ "${SESSMIGRATE_SERVERS_CLUSTER:-}" = 1 ]; then
        start_redis_cluster "$dir" || { stop_servers "$dir"; return 1; }
    fi
    if [ -f "$dir/redis-tls.port" ]; then
        export SESSMIGRATE_REDIS_TLS_URL="rediss://127.0.0.1:$(cat "$dir/redis-tls.port")"
        export SESSMIGRATE_TLS_DIR="$dir/tls"
        echo "export SESSMIGRATE_REDIS_TLS_URL='$SESSMIGRATE_REDIS_TLS_URL'" >>"$dir/env"
        echo "export SESSMIGRATE_TLS_DIR='$SESSMIGRATE_TLS_DIR'" >>"$dir/env"
    fi
    if [ -f "$dir/redis-mtls.port" ]; then
        export SESSMIGRATE_REDIS_MTLS_URL="rediss://127.0.0.1:$(cat "$dir/redis-mtls.port")"
        echo "export SESSMIGRATE_REDIS_MTLS_URL='$SESSMIGRATE_REDIS_MTLS_URL'" >>"$dir/env"
    fi
    if [ -f "$dir/tls/server-cert.pem" ] && [ ! -f "$dir/tls/redis-only" ]; then
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
    local stoppers=() file
    for file in "$dir"/redis*.pid; do
        [ -e "$file" ] || continue
        _srv_stop_one redis-server "$file" &
        stoppers+=($!)
    done
    _srv_stop_one mariadbd "$dir/mysqld.pid"
    for file in "${stoppers[@]+"${stoppers[@]}"}"; do wait "$file" 2>/dev/null || true; done
}
