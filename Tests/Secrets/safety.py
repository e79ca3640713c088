"""Safety checks through the CLI: MySQL TLS modes against the TLS test server and against a plaintext
server started here (and stopped by PID) (Redis TLS: redis_tls.py); copy, restore and runbooks refusing a target that is the
source under another name; copy and runbooks refusing targets whose schema or key layout is foreign.
Everything runs with the secret password so that the password search covers these outputs too."""
import os, shutil, tempfile
from passwords import PASSWORD, USER

COPY_RUNBOOK = """name: one-copy
description: a single copy step
variables:
  source: ""
  target: ""
steps:
  - id: copy
    kind: copy
    source: ${source}
    target: ${target}
"""


def tls(h, a):
    mysql = f"{h.mysql_host}:{h.mysql_port}"
    base = f"mysql://{USER}:{PASSWORD}@{mysql}/smt_secret_src"
    if h.tls_ca:
        h.run("tls verify-identity", ["inspect", f"{base}?ssl-mode=verify-identity&ssl-ca={h.tls_ca}"], expect=0,
              contains="connection:    TLS (")
        h.run("tls verify-ca", ["inspect", f"{base}?ssl-mode=verify-ca&ssl-ca={h.tls_ca}"], expect=0, contains="connection:    TLS (")
        h.run("tls required", ["inspect", f"{base}?ssl-mode=required"], expect=0, contains="connection:    TLS (")
        h.run("tls preferred (default)", ["inspect", base], expect=0, contains="connection:    TLS (")
        h.run("tls disabled", ["inspect", f"{base}?ssl-mode=disabled"], expect=0, contains="connection:    plaintext")
        h.run("tls verify-ca with another CA", ["inspect", f"{base}?ssl-mode=verify-ca&ssl-ca={h.tls_other_ca}"], expect=2,
              contains="certificate")
        h.run("tls verify-identity with another CA", ["copy", f"{base}?ssl-mode=verify-identity&ssl-ca={h.tls_other_ca}", "never.db"],
              expect=2, contains="TLS (ssl-mode=verify-identity) refused")
        h.check(not os.path.exists(os.path.join(h.work, "never.db")), "refused TLS wrote no target")
        h.run("tls copy over verify-identity", ["copy", f"{base}?ssl-mode=verify-identity&ssl-ca={h.tls_ca}", a["dst"]], expect=0)
    else:
        print("SKIP tls against the TLS server: SESSMIGRATE_MYSQL_TLS_CA is not set (scripts/test sets it)")
    plaintext_server(h)


def plaintext_server(h):
    """A second mariadbd without TLS: required and the verify modes refuse it; preferred falls back."""
    directory = tempfile.mkdtemp(prefix="smt-plain-", dir="/tmp")
    started = h.servers_sh("start_plain_mariadb", directory)
    if not h.check(started.returncode == 0, "plaintext mariadbd started", started.stderr[-400:]):
        return
    try:
        socket = os.path.join(directory, "mysqld.sock")
        quoted = PASSWORD.replace("'", "''")
        h.sql(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{quoted}'; CREATE DATABASE smt_secret_src;"
              f" GRANT ALL ON smt_secret_src.* TO '{USER}'@'127.0.0.1'", socket=socket)
        with open(os.path.join(directory, "mysqld.port")) as file:
            port = file.read().strip()
        base = f"mysql://{USER}:{PASSWORD}@127.0.0.1:{port}/smt_secret_src"
        ca = h.tls_ca or h.write("any-ca.pem", "unused\n")
        h.run("plaintext server, ssl-mode=required", ["inspect", f"{base}?ssl-mode=required"], expect=2,
              contains="does not support TLS")
        h.run("plaintext server, verify-ca", ["inspect", f"{base}?ssl-mode=verify-ca&ssl-ca={ca}"], expect=2, contains="does not support")
        h.run("plaintext server, verify-identity", ["copy", f"{base}?ssl-mode=verify-identity&ssl-ca={ca}", "never.db"], expect=2,
              contains="does not support")
        h.run("plaintext server, preferred", ["inspect", base], expect=0, contains="connection:    plaintext")
    finally:
        stopped = h.servers_sh("stop_servers", directory)
        h.check(stopped.returncode == 0, "plaintext mariadbd stopped by PID", stopped.stderr[-400:])
        if stopped.returncode == 0:
            shutil.rmtree(directory, ignore_errors=True)


def same_store(h, a, db_base):
    mysql = f"{h.mysql_host}:{h.mysql_port}"
    socket_twin = f"mysql://root@localhost/smt_secret_src?socket={h.socket}"
    h.run("copy mysql into itself over the socket as root", ["copy", a["src"], socket_twin], expect=64, contains="are the same store")
    h.run("copy mysql into itself, encoded password", ["copy", socket_twin, a["src_encoded"]], expect=64, contains="are the same store")
    other_host = "localhost" if h.redis_host == "127.0.0.1" else "127.0.0.1"
    twin = a["redis"].replace(f"@{h.redis_host}:", f"@{other_host}:") + "&ttl=60"
    h.run("copy redis into itself by another host name", ["copy", a["redis"], twin], expect=64, contains="are the same store")
    h.run("copy sqlite into itself by another path", ["copy", "snap-url.db", "./snap-url.db"], expect=64, contains="same store")
    os.symlink("snap-url.db", os.path.join(h.work, "snap-link.db"))
    h.run("restore a snapshot into itself by a symlink", ["restore", "snap-url.db", "snap-link.db"], expect=64, contains="itself")
    h.run("snapshot a file onto itself", ["snapshot", "snap-link.db", "snap-url.db", "--force"], expect=64, contains="itself")
    runbook = h.write("one-copy.yaml", COPY_RUNBOOK)
    h.run("runbook copy into itself", ["run", runbook, "--journal", "same.journal", "--var", f"source={a['src']}",
                                       "--var", f"target={socket_twin}"], expect=2, contains="are the same store")


def foreign_targets(h, a, db_base):
    h.sql("DROP DATABASE IF EXISTS smt_secret_foreign; CREATE DATABASE smt_secret_foreign;"
          " CREATE TABLE smt_secret_foreign.sessions (id VARCHAR(64) PRIMARY KEY, data TEXT);"
          " INSERT INTO smt_secret_foreign.sessions VALUES ('web-1', 'cart=3')")
    h.sql(f"GRANT ALL ON smt_secret_foreign.* TO '{USER}'@'127.0.0.1'")
    mysql_target = a["dst"].replace("smt_secret_dst", "smt_secret_foreign")
    tables = lambda: h.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'smt_secret_foreign'")
    checksum = lambda: h.sql("CHECKSUM TABLE smt_secret_foreign.sessions")
    before = (tables(), checksum())
    foreign_db = db_base + 3
    h.redis("FLUSHDB", db=foreign_db)
    h.redis("HSET", "session:web-1", "user", "42", db=foreign_db)
    h.redis("SET", "user:web-1", "not a hash", db=foreign_db)
    redis_target = a["redis"].replace(f"/{db_base}?", f"/{foreign_db}?")
    dump = lambda: (h.redis("KEYS", "*", db=foreign_db), h.redis("HGETALL", "session:web-1", db=foreign_db))
    redis_before = dump()
    runbook = h.write("one-copy.yaml", COPY_RUNBOOK)
    for label, target, says in [("mysql with a foreign sessions table", mysql_target, "unknown schema"),
                                ("redis with foreign session keys", redis_target, "not ADK data")]:
        h.run(f"copy into {label}", ["copy", a["src"], target], expect=2, contains=says)
        h.run(f"restore into {label}", ["restore", "snap-url.db", target], expect=2, contains=says)
        h.run(f"generate into {label}", ["generate", target, "--sessions", "2"], expect=2, contains=says)
        journal = "foreign-" + label.split()[0] + ".journal"
        h.run(f"runbook copy into {label}", ["run", runbook, "--journal", journal, "--var", f"source={a['src']}",
                                             "--var", f"target={target}"], expect=2, contains=says)
    h.check((tables(), checksum()) == before, "foreign MySQL database untouched (no ADK table created, rows unchanged)")
    h.check(dump() == redis_before, "foreign Redis database untouched")
    h.sql("DROP DATABASE IF EXISTS smt_secret_foreign")
    h.redis("FLUSHDB", db=foreign_db)
