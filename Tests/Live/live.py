#!/usr/bin/env python3
"""Live-traffic tests of the runbooks: the real ADK keeps writing, as the bot does, while
runbooks/backfill.yaml and runbooks/rollback-to-cloudsql.yaml run, and across the flip's rollout window
(old and new bot revisions writing to the old and the new store at once, on the same threads).

    python3 Tests/Live/live.py --sessmigrate .build/debug/sessmigrate [--only REGEX] [--list] [--keep]
        [--rate 20] [--window 4] [--drain 12] [--seed 1] [--pool 40] [--seed-events 3] [--background 0] …

Starts its own redis-server and mariadbd (Tests/Faults/servers.py) on free loopback ports and stops them by
PID at the end. Each scenario gets a fresh MySQL database and Redis database, a bot .env
(SESSION_BACKEND, CLOUDSQL_*, REDIS_URL with ?layout=community, REDIS_SESSION_TTL) and runs
`sessmigrate run RUNBOOK --journal J --env-file ENV --var flip=… --var drain=… --var snapshot=… --var
batch_size=…`. The writers (writer.py), the flip (flip.py) and the checker (check.py) are described in
their files and in docs/TESTING.md. Prints one PASS/FAIL line per scenario (and per control), `info`
lines of figures, `time` lines, and `N passed, N failed` last; exit status 1 on any failure.
"""
import argparse, os, re, shutil, signal, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "Faults"))
from report import results  # noqa: E402
from scenarios import control_scenario, gate_scenario, kill_scenario, live_scenario, stale_control  # noqa: E402
from servers import MariaDB, Redis  # noqa: E402

SCENARIOS = [
    ("backfill-live", live_scenario, "backfill"),
    ("rollback-live", live_scenario, "rollback"),
    ("kill-resume-backfill", kill_scenario, "backfill"),
    ("kill-resume-rollback", kill_scenario, "rollback"),
    ("gate-background-backfill", gate_scenario, "backfill"),
    ("gate-background-rollback", gate_scenario, "rollback"),
    ("control-quiet-backfill", control_scenario, "backfill"),   # also reports control-loss-backfill
    ("control-quiet-rollback", control_scenario, "rollback"),   # also reports control-loss-rollback
    ("control-stale-cloudsql", stale_control, "backfill"),
]
ALSO = {"control-loss-backfill": "control-quiet-backfill", "control-loss-rollback": "control-quiet-rollback"}


def options():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessmigrate")
    p.add_argument("--only", default="", help="a regular expression over scenario names (see --list)")
    p.add_argument("--list", action="store_true", help="print the scenario names")
    p.add_argument("--rate", type=float, default=20.0, help="messages per second of each writer")
    p.add_argument("--window", type=float, default=4.0, help="rollout window W: the old revision writes W s after the new one is up")
    p.add_argument("--drain", type=float, default=12.0, help="the runbooks' drain variable, seconds (must cover the new "
                   "revision's start-up, a few seconds, plus W)")
    p.add_argument("--lead-in", type=float, default=1.0, help="seconds of live traffic before the runbook starts")
    p.add_argument("--kill-delay", type=float, default=0.3, help="seconds from a converge step's start to the kill")
    p.add_argument("--seed", type=int, default=1, help="writers' random seed")
    p.add_argument("--pool", type=int, default=40, help="threads the writers share at the start")
    p.add_argument("--new-every", type=float, default=1.0, help="a new thread joins the pool every N seconds of live traffic")
    p.add_argument("--hot", type=int, default=6, help="half the messages go to the N most recent threads")
    p.add_argument("--seed-events", type=int, default=3, help="events per thread written before the run")
    p.add_argument("--background", type=int, default=0,
                   help="sessions `sessmigrate generate` puts in CloudSQL first (0: today's generator writes inline_data "
                        "base64 that ADK 2.13 refuses to read in about one session in six, which the checker reports)")
    p.add_argument("--batch-size", type=int, default=50, help="the runbooks' batch_size variable")
    p.add_argument("--append-sample", type=int, default=0, help="sessions the checker appends to (0: all)")
    p.add_argument("--run-timeout", type=float, default=150.0, help="seconds before a runbook run is killed")
    p.add_argument("--runbooks", default=os.path.join(HERE, "..", "..", "runbooks"), help="the runbooks' directory")
    p.add_argument("--keep", action="store_true", help="keep the work directory (journals, ledgers, logs, server data)")
    opts = p.parse_args()
    if not opts.list and not opts.sessmigrate:
        p.error("--sessmigrate is required")
    return opts


def main():
    opts = options()
    if opts.list:
        print("\n".join([n for n, _, _ in SCENARIOS] + list(ALSO)))
        return 0
    opts.sessmigrate, opts.runbooks = os.path.abspath(opts.sessmigrate), os.path.abspath(opts.runbooks)
    wanted = {ALSO.get(n, n) for n in [n for n, _, _ in SCENARIOS] + list(ALSO) if not opts.only or re.search(opts.only, n)}
    opts.work = tempfile.mkdtemp(prefix="sessmigrate-live.")
    os.makedirs(f"{opts.work}/redis")
    os.makedirs(f"{opts.work}/mysql")
    began, redis, mysql = time.time(), None, None
    try:
        redis, mysql = Redis(f"{opts.work}/redis"), MariaDB(f"{opts.work}/mysql")
        print(f"servers: {redis.url}, mysql port {mysql.port}; work {opts.work}", flush=True)
        for name, function, which in SCENARIOS:
            if name not in wanted:
                continue
            started = time.time()
            try:
                function(name, (redis, mysql), opts, which)
            except Exception as error:  # noqa: BLE001 - report and go on with the next scenario
                results.report(name, False, f"{type(error).__name__}: {str(error)[:800]}")
            print(f"time {name}: {time.time() - started:.1f} s", flush=True)
    finally:
        for server in (redis, mysql):
            if server:
                server.stop()
        if opts.keep:
            print(f"kept {opts.work}")
        elif results.failed:
            for data in ("redis", "mysql"):  # the servers' data only with --keep: it is large
                shutil.rmtree(f"{opts.work}/{data}", ignore_errors=True)
            print(f"kept {opts.work} (journals, ledgers, logs, checker output)")
        else:
            shutil.rmtree(opts.work, ignore_errors=True)
    print(f"time total: {time.time() - began:.1f} s")
    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed or not results.passed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
