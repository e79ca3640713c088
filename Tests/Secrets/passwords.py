"""The password search: a MySQL user and a Redis ACL user with a distinctive password, every
subcommand run with the password given every way (in the URL, percent-encoded, in the environment
and a .env file, --password-file, ?password-file=), failures included; then stdout, stderr and every
file written (journal, snapshots and their manifest, SQLite targets) must not hold the password."""
import json, os, urllib.parse

PASSWORD = "Pw-7c1f9e-SECRET/x@y"
# Searched for: the password, its percent-encoded form, and its distinctive core (catches fragments).
NEEDLES = [PASSWORD, urllib.parse.quote(PASSWORD, safe=""), "7c1f9e-SECRET"]
USER = "smt_secret"
RUNBOOK = """name: secrets-test
description: every step kind that opens a store, with a gate to stop at
variables:
  source: cloudsql
  target: redis
  snapshot: ./secrets-runbook-snapshot.db
  db_password: ""
steps:
  - id: preflight
    kind: preflight
    stores: ["${source}", "${target}"]
  - id: snapshot
    kind: snapshot
    source: ${source}
    file: ${snapshot}
  - id: gate
    kind: gate
  - id: copy
    kind: copy
    source: ${source}
    target: ${target}
    ttl_from: now
  - id: verify
    kind: verify
    a: ${source}
    b: ${target}
"""


def setup(h, db_base):
    """Creates the users and empty stores; returns a dict of addresses and paths."""
    quoted = PASSWORD.replace("'", "''")
    for host in ["127.0.0.1", "localhost"]:
        h.sql(f"CREATE OR REPLACE USER '{USER}'@'{host}' IDENTIFIED BY '{quoted}';"
              f" GRANT ALL PRIVILEGES ON `smt\\_secret\\_%`.* TO '{USER}'@'{host}'")
    for name in ["smt_secret_src", "smt_secret_dst", "smt_secret_run"]:
        h.sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4")
    h.redis("ACL", "SETUSER", USER, "reset", "on", ">" + PASSWORD, "~session:*", "~app:*", "~user:*", "~sessmigrate:*",
            "resetchannels", "-@all", "+auth", "+select", "+ping", "+info", "+scan", "+type", "+get", "+set", "+del",
            "+pttl", "+pexpire", "+pexpireat", "+persist", "+hgetall", "+hset", "+sadd", "+srem", "+multi", "+exec", "+discard",
            "+script|load", "+evalsha", "+eval", "+time", "+smembers", "+getrange")
    for db in range(db_base, db_base + 3):
        h.redis("FLUSHDB", db=db)
    encoded = urllib.parse.quote(PASSWORD, safe="")
    mysql = f"{h.mysql_host}:{h.mysql_port}"
    redis = f"{h.redis_host}:{h.redis_port}"
    files = {
        "pwfile": h.write("pw.txt", PASSWORD + "\n"),
        "pwfile_open": h.write("pw-open.txt", PASSWORD + "\n", mode=0o644),
        "pwfile_bad": h.write("pw-bad.txt", PASSWORD + "\nsecond line\n"),
        "env": h.write("bot.env", f"CLOUDSQL_HOST={h.mysql_host}\nCLOUDSQL_PORT={h.mysql_port}\nCLOUDSQL_DATABASE=smt_secret_src\n"
                                  f"CLOUDSQL_USER={USER}\nCLOUDSQL_PASSWORD='{PASSWORD}'\n"
                                  f"REDIS_URL=redis://{USER}:{encoded}@{redis}/{db_base + 2}?layout=community\n"),
        "runbook": h.write("secrets.yaml", RUNBOOK),
    }
    return dict(files, **{
        "src": f"mysql://{USER}:{PASSWORD}@{mysql}/smt_secret_src",
        "src_encoded": f"mysql://{USER}:{encoded}@{mysql}/smt_secret_src",
        "src_file": f"mysql://{USER}@{mysql}/smt_secret_src?password-file={files['pwfile']}",
        "src_bare": f"mysql://{USER}@{mysql}/smt_secret_src",
        "dst": f"mysql://{USER}:{encoded}@{mysql}/smt_secret_dst",
        "redis": f"redis://{USER}:{PASSWORD}@{redis}/{db_base}?layout=community",
        "redis_encoded": f"redis://{USER}:{encoded}@{redis}/{db_base}?layout=community",
        "redis_file": f"redis://{USER}@{redis}/{db_base + 1}?layout=adk-redis&password-file={files['pwfile']}",
        "redis_bare": f"redis://{USER}@{redis}/{db_base + 1}?layout=adk-redis",
        "cloudsql_env": {"CLOUDSQL_HOST": h.mysql_host, "CLOUDSQL_PORT": str(h.mysql_port), "CLOUDSQL_DATABASE": "smt_secret_src",
                         "CLOUDSQL_USER": USER, "CLOUDSQL_PASSWORD": PASSWORD},
        "wrong_mysql": f"mysql://{USER}:Pw-wrong-7c1f9e-SECRET@{mysql}/smt_secret_src",
        "wrong_redis": f"redis://{USER}:Pw-wrong-7c1f9e-SECRET@{redis}/{db_base}",
        "wrong_redis_user": f"redis://smt_nobody:{PASSWORD}@{redis}/{db_base}",
    })


def every_way(h, a):
    """Every subcommand, the password given each way."""
    h.run("generate into mysql (URL)", ["generate", a["src"], "--sessions", "12", "--events", "4"], expect=0)
    h.run("inspect mysql (URL)", ["inspect", a["src"]], expect=0, contains=f"mysql://{USER}:***@")
    h.run("inspect mysql json (percent-encoded)", ["inspect", a["src_encoded"], "--format", "json"], expect=0)
    h.run("inspect mysql (?password-file=)", ["inspect", a["src_file"]], expect=0, contains="password-file=")
    h.run("inspect mysql (--password-file)", ["inspect", a["src_bare"], "--password-file", a["pwfile"]], expect=0)
    h.run("inspect cloudsql (environment)", ["inspect", "cloudsql"], env=a["cloudsql_env"], expect=0)
    h.run("inspect cloudsql (.env)", ["inspect", "cloudsql", "--env-file", a["env"]], expect=0)
    h.run("copy mysql -> redis (URL)", ["copy", a["src"], a["redis"], "--ttl-from", "now"], expect=0)
    h.run("copy mysql -> redis adk-redis (both files)", ["copy", a["src_bare"], a["redis_bare"], "--ttl-from", "now",
                                                          "--password-file", a["pwfile"]], expect=64, contains="ambiguous")
    h.run("copy mysql -> redis adk-redis (?password-file= and --password-file)",
          ["copy", a["src_bare"], a["redis_file"], "--ttl-from", "now", "--password-file", a["pwfile"]], expect=0)
    h.run("copy redis -> mysql (percent-encoded)", ["copy", a["redis_encoded"], a["dst"], "--format", "json"], expect=0)
    h.run("copy dry run cloudsql -> redis (.env)", ["copy", "cloudsql", "redis", "--env-file", a["env"], "--dry-run"], expect=0)
    h.run("diff mysql redis (URL)", ["diff", a["src"], a["redis"]], expect=0)
    # dst came through Redis, which keeps no creation time: 0 or 1 (differences) are both fine here.
    h.run("diff json (file, encoded)", ["diff", a["src_file"], a["dst"], "--format", "json"], expect=(0, 1))
    h.run("verify (--password-file)", ["verify", a["src_bare"], a["redis_encoded"], "--password-file", a["pwfile"]], expect=0)
    h.run("verify --replay (environment)", ["verify", "--replay", "cloudsql"], env=a["cloudsql_env"], expect=0)
    h.run("snapshot (URL)", ["snapshot", a["src"], "snap-url.db"], expect=0)
    h.run("snapshot json (.env)", ["snapshot", "cloudsql", "snap-env.db", "--env-file", a["env"], "--format", "json"], expect=0)
    h.run("snapshot (--password-file)", ["snapshot", a["redis_bare"], "snap-file.db", "--password-file", a["pwfile"]], expect=0)
    h.run("restore (URL)", ["restore", "snap-url.db", a["redis"]], expect=0)
    h.run("restore json (?password-file=)", ["restore", "snap-env.db", a["redis_file"], "--format", "json"], expect=0)
    h.run("copy mysql -> sqlite (.env)", ["copy", "cloudsql", "copy-target.db", "--env-file", a["env"]], expect=0)
    for name in ["snap-url.db", "snap-env.db", "snap-file.db", "copy-target.db"]:
        mode = os.stat(os.path.join(h.work, name)).st_mode & 0o777
        h.check(mode == 0o600, f"{name} is mode 0600", oct(mode))


def runbooks(h, a):
    """run (stops at the gate), continue, resume, status, log; the password in .env and in a --var."""
    for label, journal, extra in [
        (".env", "run-env.journal", ["--env-file", a["env"]]),
        ("--var", "run-var.journal", ["--var", f"source={a['src']}", "--var", f"target={a['redis_encoded']}",
                                      "--var", f"db_password={PASSWORD}", "--var", "snapshot=./secrets-runbook-var.db"]),
    ]:
        h.run(f"run --dry-run ({label})", ["run", a["runbook"], "--journal", journal, "--dry-run"] + extra, expect=0)
        h.run(f"run ({label})", ["run", a["runbook"], "--journal", journal, "--no-wait"] + extra, expect=3)
        h.run(f"continue ({label})", ["continue", "--journal", journal], expect=0)
        h.run(f"resume ({label})", ["resume", "--journal", journal, "--no-wait"] + extra, expect=0)
        h.run(f"status ({label})", ["status", "--journal", journal], expect=0)
        h.run(f"log ({label})", ["log", "--journal", journal], expect=0)
        log = h.run(f"log jsonl ({label})", ["log", "--journal", journal, "--format", "json"], expect=0)
        h.check(any(json.loads(line).get("kind") == "run_finished" for line in log.stdout.splitlines() if line.strip()),
                f"runbook ({label}) finished")
        mode = os.stat(os.path.join(h.work, journal)).st_mode & 0o777
        h.check(mode == 0o600, f"journal ({label}) is mode 0600", oct(mode))


def failures(h, a):
    """Each failure must exit with its status and never echo the password."""
    h.run("wrong mysql password", ["inspect", a["wrong_mysql"]], expect=2, contains="authentication failed")
    h.run("wrong redis password", ["inspect", a["wrong_redis"]], expect=2, contains="authentication failed")
    h.run("wrong redis user", ["inspect", a["wrong_redis_user"]], expect=2, contains="authentication failed")
    h.run("wrong password in the environment", ["inspect", "cloudsql"], env=dict(a["cloudsql_env"], CLOUDSQL_PASSWORD="Pw-wrong-7c1f9e-SECRET"),
          expect=2, contains="authentication failed")
    h.run("wrong password in a runbook", ["run", a["runbook"], "--journal", "run-wrong.journal", "--var", f"source={a['wrong_mysql']}",
                                          "--env-file", a["env"]], expect=2)
    h.run("unreachable mysql", ["copy", a["src"].replace(str(h.mysql_port), "1"), "x.db"], expect=2, contains="connection failed")
    h.run("unreachable redis", ["inspect", a["redis"].replace(f":{h.redis_port}/", ":1/")], expect=2, contains="connection failed")
    h.run("bad port", ["inspect", a["src"].replace(str(h.mysql_port), "99999")], expect=64, contains="port")
    h.run("unexpected argument (argument parser)", ["inspect", a["src"], a["dst"]], expect=64, contains="Unexpected argument 'mysql://***@")
    h.run("invalid option value (argument parser)", ["copy", "--format", a["src"], "a.db", "b.db"], expect=64, contains="is invalid")
    h.run("no scheme", ["inspect", f"{USER}:{PASSWORD}@{h.mysql_host}/smt_secret_src"], expect=64, contains="is not an address")
    h.run("bad scheme", ["copy", f"postgres://{USER}:{PASSWORD}@h/db", "x.db"], expect=64, contains="unknown address scheme")
    h.run("bad parameter", ["inspect", a["src"] + "?sslmode=on"], expect=64, contains="unknown parameter")
    h.run("rediss:// without verification", ["inspect", a["redis"].replace("redis://", "rediss://") + "&ssl_cert_reqs=none"], expect=64,
          contains="ssl_cert_reqs=none")
    h.run("password file with two lines", ["inspect", a["src_bare"], "--password-file", a["pwfile_bad"]], expect=64,
          contains="more than one line")
    h.run("password file missing", ["inspect", a["src_bare"] + "?password-file=/nonexistent/pw"], expect=64, contains="/nonexistent/pw")
    h.run("world-readable password file", ["inspect", a["src_bare"], "--password-file", a["pwfile_open"]], expect=0, contains="chmod 600")
    h.run("password and password-file", ["inspect", a["src"] + "?password-file=" + a["pwfile"]], expect=64, contains="give one")
    h.run("--password-file with nothing to take it", ["inspect", a["src"], "--password-file", a["pwfile"]], expect=64,
          contains="no address here takes a password")
    h.run("malformed .env", ["inspect", "cloudsql", "--env-file", h.write("bad.env", f"CLOUDSQL_PASSWORD {PASSWORD}\n")], expect=64)


def search(h, skip):
    """The password must appear in no output and no file but the inputs that hold it on purpose."""
    found = [label for label, text in h.outputs if any(needle in text for needle in NEEDLES)]
    h.check(not found, f"password in none of {len(h.outputs)} outputs", ", ".join(found[:5]))
    scanned = 0
    leaks = []
    for path, data in h.files(skip):
        scanned += 1
        if any(needle.encode() in data for needle in NEEDLES):
            leaks.append(os.path.relpath(path, h.work))
    h.check(scanned >= 8 and not leaks, f"password in none of {scanned} files written (journals, snapshots, SQLite)", ", ".join(leaks))
    # The control: the same search finds the password in the input files that hold it on purpose.
    inputs = [path for path, data in h.files(set()) if os.path.basename(path) in skip and any(n.encode() in data for n in NEEDLES)]
    h.check(len(inputs) >= 4, f"the search finds the password in the {len(inputs)} input files that hold it")


def cleanup(h, db_base):
    for host in ["127.0.0.1", "localhost"]:
        h.sql(f"DROP USER IF EXISTS '{USER}'@'{host}'")
    h.sql("DROP DATABASE IF EXISTS smt_secret_src; DROP DATABASE IF EXISTS smt_secret_dst; DROP DATABASE IF EXISTS smt_secret_run")
    h.redis("ACL", "DELUSER", USER)
    for db in range(db_base, db_base + 3):
        h.redis("FLUSHDB", db=db)
