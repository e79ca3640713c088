#!/usr/bin/env python3
"""Transient faults while sessmigrate works: servers killed and restarted, connections killed, lock waits,
deadlocks, Redis BUSY and LOADING, during copy, verify and runbooks. Every case must end with the command
succeeding after retries and `verify` of source and target clean: nothing lost, nothing half-written.

The suite starts its own redis-server (append-only file, fsync always) and mariadbd on loopback, so it can
kill and restart them on the same port and data (Tests/Faults/servers.py), and stops them by PID at the end.
A case whose fault came too late to hit the work (the command finished first) fails: it proved nothing.

    python3 Tests/Faults/faults.py --sessmigrate .build/debug/sessmigrate [--only NAME] [--table FILE]

Prints PASS/FAIL lines, a table of faults (`--table` writes it as Markdown), and `N passed, N failed` last.
"""
import argparse, os, shutil, signal, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import restart_faults, runbook_faults, special_faults  # noqa: E402
from harness import Background, check, rows, run, retries_in, verify, wait_until  # noqa: E402
from servers import MariaDB, Redis  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--sessmigrate", required=True)
p.add_argument("--only", default="", help="a regular expression: run only the cases whose name matches")
p.add_argument("--sessions", type=int, default=3000)
p.add_argument("--events", type=int, default=6)
p.add_argument("--table", default="")
args = p.parse_args()
harness.BIN = os.path.abspath(args.sessmigrate)
def main():
    # SIGTERM (scripts/test's timeout, or its exit) ends the suite through the `finally` below, which stops its servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = tempfile.mkdtemp(prefix="sessmigrate-faults.")
    os.makedirs(f"{work}/redis")
    os.makedirs(f"{work}/mysql")
    redis = mysql = None
    try:
        redis, mysql = Redis(f"{work}/redis"), MariaDB(f"{work}/mysql")
        print(f"servers: {redis.url}, mysql port {mysql.port}; data {args.sessions} sessions x {args.events} events", flush=True)
        scenario(work, redis, mysql)
    finally:
        for server in (redis, mysql):
            if server:
                server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print_table()
    print(f"{harness.passed} passed, {harness.failed} failed")
    return 0 if harness.failed == 0 else 1


def scenario(work, redis, mysql):
    gen = f"{work}/gen.db"
    out = run("generate", gen, "--sessions", str(args.sessions), "--events", str(args.events), "--seed", "11")
    assert out.returncode == 0, out.stderr
    mysql.sql("CREATE DATABASE src")
    src = mysql.url("src")
    assert run("copy", gen, src).returncode == 0
    # Reference sizes: keys of a full copy in Redis, for progress-based fault points.
    full = f"{redis.url}/1?layout=community"
    assert run("copy", src, full, "--ttl-from", "now").returncode == 0
    redis_keys = int(redis.cli("DBSIZE", db=1))

    def redis_progress(db):
        return lambda: int(redis.cli("DBSIZE", db=db, check=False) or 0) / redis_keys

    def mysql_progress(database):
        return lambda: int(mysql.sql("SELECT COUNT(*) FROM sessions", database, check=False) or 0) / args.sessions

    def fresh_mysql(name):
        mysql.sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}")
        return mysql.url(name)

    def fresh_redis(db):
        redis.cli("FLUSHDB", db=db)
        return f"{redis.url}/{db}?layout=community"

    def copy_case(name, fault_label, server_label, source, target_reset, progress, point, fault):
        if not harness.wanted(args.only, name):
            return
        target = target_reset()
        job = Background(work, name, "copy", source, target, "--batch-size", "10", "--ttl-from", "now")
        wait_until(lambda: not job.running() or progress() >= point)
        hit = job.running()
        fault()
        rc, stdout, stderr = job.finish()
        clean, last = verify(source, target)
        retried = retries_in(stderr)
        ok = hit and rc == 0 and clean and retried >= 1
        check(name, ok, f"hit={hit} rc={rc} retries={retried} verify={last} stderr={stderr[-400:]}")
        rows.append((fault_label, f"copy {server_label}", f"{int(point * 100)} % copied", harness.outcome(ok, retried)))

    # --- copy into Redis: target killed / restarted / connections killed; source MySQL restarted ---
    for point in (0.1, 0.3, 0.5, 0.7, 0.9):
        copy_case(f"copy mysql->redis, redis SIGKILL+restart at {point:.0%}", "Redis killed (SIGKILL) and restarted",
                  "MySQL → Redis (target)", src, lambda: fresh_redis(2), redis_progress(2), point, lambda: redis.restart())
    copy_case("copy mysql->redis, redis SIGTERM restart at 20%", "Redis shut down (SIGTERM) and restarted",
              "MySQL → Redis (target)", src, lambda: fresh_redis(2), redis_progress(2), 0.2, lambda: redis.restart(signal.SIGTERM))
    for point in (0.4, 0.8):
        copy_case(f"copy mysql->redis, redis CLIENT KILL at {point:.0%}", "Redis connections killed (CLIENT KILL)",
                  "MySQL → Redis (target)", src, lambda: fresh_redis(2), redis_progress(2), point, redis.kill_clients)
    for point in (0.3, 0.6):
        copy_case(f"copy mysql->redis, mysql SIGKILL+restart at {point:.0%}", "MariaDB killed (SIGKILL) and restarted",
                  "MySQL (source) → Redis", src, lambda: fresh_redis(2), redis_progress(2), point, lambda: mysql.restart())
    copy_case("copy mysql->redis, mysql KILL CONNECTION at 50%", "MariaDB connections killed (KILL CONNECTION)",
              "MySQL (source) → Redis", src, lambda: fresh_redis(2), redis_progress(2), 0.5, mysql.kill_clients)

    # --- copy into MySQL: target killed / restarted / connections killed; source Redis restarted ---
    for point in (0.1, 0.3, 0.5, 0.7, 0.9):
        copy_case(f"copy redis->mysql, mysql SIGKILL+restart at {point:.0%}", "MariaDB killed (SIGKILL) and restarted",
                  "Redis → MySQL (target)", full, lambda: fresh_mysql("dst"), mysql_progress("dst"), point, lambda: mysql.restart())
    copy_case("copy redis->mysql, mysql SIGTERM restart at 20%", "MariaDB shut down (SIGTERM) and restarted",
              "Redis → MySQL (target)", full, lambda: fresh_mysql("dst"), mysql_progress("dst"), 0.2,
              lambda: mysql.restart(signal.SIGTERM))
    for point in (0.4, 0.8):
        copy_case(f"copy redis->mysql, mysql KILL CONNECTION at {point:.0%}", "MariaDB connections killed (KILL CONNECTION)",
                  "Redis → MySQL (target)", full, lambda: fresh_mysql("dst"), mysql_progress("dst"), point, mysql.kill_clients)
    for point in (0.3, 0.6):
        copy_case(f"copy redis->mysql, redis SIGKILL+restart at {point:.0%}", "Redis killed (SIGKILL) and restarted",
                  "Redis (source) → MySQL", full, lambda: fresh_mysql("dst"), mysql_progress("dst"), point, lambda: redis.restart())

    context = harness.Context(work, redis, mysql, src, full, gen, redis_progress, mysql_progress, fresh_mysql, fresh_redis,
                              args.only, args.sessions)
    special_faults.run_all(context)
    runbook_faults.run_all(context)
    restart_faults.run_all(context)


def print_table():
    lines = ["| fault | during | point | outcome |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    print("\n".join(lines))
    if args.table:
        with open(args.table, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
