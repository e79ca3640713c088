#!/usr/bin/env python3
"""Kill-and-resume tests of the runbooks: SIGKILL the runner at many points, resume, and check that the
run ends with verify clean and the journal showing one completed run.

Each case runs `sessmigrate run` with SESSMIGRATE_TEST_KILL_AFTER_EVENTS=N (die right after the N-th journal
event of that process) or SESSMIGRATE_TEST_KILL_AFTER_BATCHES=N (die after the N-th batch reached a target,
before its checkpoint), then `sessmigrate resume` until the run finishes (each resume may itself be killed
at the next point when --chain is used), then checks:
  * `sessmigrate verify` of the runbook's source and target: identical (no session or event lost or duplicated),
  * the journal: exactly one run_finished, every step done once,
  * a second `resume` reports the run finished and writes nothing (the journal gains only its own events).
Prints `PASS`/`FAIL` lines and a final `N passed, N failed`. Needs SESSMIGRATE_MYSQL_URL, SESSMIGRATE_REDIS_URL
and SESSMIGRATE_MYSQL_ROOT_SOCKET (scripts/test sets them).
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("--sessmigrate", required=True)
p.add_argument("--runbooks", default=os.path.join(os.path.dirname(__file__), "..", "..", "runbooks"))
p.add_argument("--only", default="")
args = p.parse_args()
BIN = args.sessmigrate
RUNBOOKS = os.path.abspath(args.runbooks)
redis_url = os.environ["SESSMIGRATE_REDIS_URL"]
mysql_url = os.environ["SESSMIGRATE_MYSQL_URL"]
socket = os.environ["SESSMIGRATE_MYSQL_ROOT_SOCKET"]
redis_port = redis_url.rsplit(":", 1)[1].split("/")[0]
mysql_base = mysql_url.rsplit("/", 1)[0]
passed = failed = 0


def sh(*command, env=None, check=True):
    result = subprocess.run(list(command), capture_output=True, text=True, env=env, timeout=300)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def fresh_mysql(name):
    sh("mariadb", "--no-defaults", "-uroot", f"--socket={socket}", "-e", f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}")
    return f"{mysql_base}/{name}"


def fresh_redis(db):
    sh("redis-cli", "-p", redis_port, "-n", str(db), "FLUSHDB")
    return f"redis://127.0.0.1:{redis_port}/{db}?layout=community"


def events(journal):
    out = sh(BIN, "log", "--journal", journal, "--format", "json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def run_to_completion(work, start_command, journal, kill_env, variables):
    """Runs once with the kill point, then resumes (without kill points) until finished."""
    env = dict(os.environ, **kill_env)
    first = subprocess.run(start_command, capture_output=True, text=True, env=env, timeout=300)
    killed = first.returncode == -9
    for _ in range(8):
        if result_needs_continue(journal):
            sh(BIN, "continue", "--journal", journal)
        if not os.path.exists(journal):
            # Killed before the journal existed: start again.
            result = subprocess.run([c for c in start_command], capture_output=True, text=True, timeout=300)
        else:
            # A killed run leaves its lock behind; its pid is dead on this host, so resume takes it over.
            # Until the kill point has been hit (it may lie after a gate), resumes carry it too.
            result = subprocess.run([BIN, "resume", "--journal", journal, "--no-wait"] + variables, capture_output=True, text=True,
                                    env=os.environ if killed else env, timeout=300)
            if result.returncode == -9:
                killed = True
                continue
        if result.returncode == 0:
            return killed, result
        if "finished" in result.stdout:
            return killed, result
    raise RuntimeError(f"did not finish: {result.returncode}\n{result.stdout}\n{result.stderr}")


def result_needs_continue(journal):
    """True when the run waits at a manual gate (the recover phase of option 3)."""
    if not os.path.exists(journal):
        return False
    status = sh(BIN, "status", "--journal", journal, check=False).stdout
    return "waiting at gate" in status.lower() or "waiting for `sessmigrate continue`" in status


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def scenario_backfill(work, point, value):
    cloudsql, redis = fresh_mysql("smt_kill_cloudsql"), fresh_redis(45)
    sh(BIN, "generate", cloudsql, "--sessions", "40", "--events", "6", "--seed", "3")
    journal = os.path.join(work, "backfill.journal")
    variables = ["--var", f"source={cloudsql}", "--var", f"target={redis}", "--var", f"snapshot={work}/backfill.db",
                 "--var", "ttl_from=now", "--var", "batch_size=4", "--var", "drain=0", "--var", "pass_interval=0"]
    start = [BIN, "run", os.path.join(RUNBOOKS, "backfill.yaml"), "--journal", journal] + variables
    return cloudsql, redis, journal, start, variables


def scenario_rollback(work, point, value):
    cloudsql, redis = fresh_mysql("smt_kill_cloudsql"), fresh_redis(46)
    sh(BIN, "generate", cloudsql, "--sessions", "30", "--events", "5", "--seed", "3")
    sh(BIN, "copy", cloudsql, redis, "--ttl-from", "now")
    sh(BIN, "generate", redis, "--sessions", "20", "--events", "5", "--seed", "9")  # bot traffic after the cut-over
    env_file = os.path.join(work, "bot.env")
    with open(env_file, "w") as f:
        f.write("SESSION_BACKEND=redis\n")
    journal = os.path.join(work, "rollback.journal")
    variables = ["--var", f"redis={redis}", "--var", f"cloudsql={cloudsql}", "--var", f"snapshot={work}/rollback.db",
                 "--var", f"flip=sed -i s/SESSION_BACKEND=redis/SESSION_BACKEND=cloudsql/ {env_file}", "--var", "batch_size=4",
                 "--var", "drain=0", "--var", "pass_interval=0"]
    start = [BIN, "run", os.path.join(RUNBOOKS, "rollback-to-cloudsql.yaml"), "--journal", journal] + variables
    return redis, cloudsql, journal, start, variables


def scenario_restore(work, point, value):
    cloudsql, redis = fresh_mysql("smt_kill_cloudsql"), fresh_redis(48)
    sh(BIN, "generate", cloudsql, "--sessions", "30", "--events", "5", "--seed", "4")
    snapshot = os.path.join(work, "incident.db")
    sh(BIN, "snapshot", cloudsql, snapshot)
    sh(BIN, "generate", redis, "--sessions", "5", "--events", "3", "--seed", "11")  # what survived in Redis
    journal = os.path.join(work, "restore.journal")
    variables = ["--var", f"snapshot={snapshot}", "--var", f"target={redis}", "--var", "batch_size=4"]
    start = [BIN, "run", os.path.join(RUNBOOKS, "restore-snapshot.yaml"), "--journal", journal] + variables
    return snapshot, redis, journal, start, variables


def scenario_fallback(work, point, value):
    cloudsql, redis = fresh_mysql("smt_kill_cloudsql"), fresh_redis(49)
    sh(BIN, "generate", cloudsql, "--sessions", "20", "--events", "4", "--seed", "5")
    sh(BIN, "generate", redis, "--sessions", "15", "--events", "4", "--seed", "6")
    env_file = os.path.join(work, "bot.env")
    with open(env_file, "w") as f:
        f.write("SESSION_BACKEND=redis\n")
    journal = os.path.join(work, "fallback.journal")
    variables = ["--var", f"redis={redis}", "--var", f"cloudsql={cloudsql}", "--var", f"recovered={cloudsql}",
                 "--var", f"redis_snapshot={work}/r.db", "--var", f"cloudsql_snapshot={work}/c.db", "--var", "batch_size=4",
                 "--var", f"flip=sed -i s/SESSION_BACKEND=redis/SESSION_BACKEND=inmemory/ {env_file}"]
    start = [BIN, "run", os.path.join(RUNBOOKS, "fallback-inmemory.yaml"), "--journal", journal, "--no-wait"] + variables
    # The recovered store must hold everything the Redis snapshot had.
    return f"{work}/r.db", cloudsql, journal, start, variables


def run_case(label, scenario, kill_env):
    work = tempfile.mkdtemp(prefix="smt-kill-")
    try:
        source, target, journal, start, variables = scenario(work, None, None)
        killed, _ = run_to_completion(work, start, journal, kill_env, variables)
        if scenario in (scenario_restore, scenario_fallback):
            # The target also holds sessions of its own: nothing of the snapshot may be missing or older.
            plan = json.loads(sh(BIN, "copy", source, target, "--dry-run", "--ttl-from", "now", "--format", "json").stdout)
            missing = plan["total"]["inserted"] + plan["total"]["updated"]
            verdict = subprocess.CompletedProcess([], 0 if missing == 0 else 1, f"{missing} snapshot sessions missing or different", "")
        else:
            verdict = sh(BIN, "verify", source, target, check=False)
        log = events(journal)
        finished = [e for e in log if e["kind"] == "run_finished"]
        done = [e["step"] for e in log if e["kind"] == "step_done"]
        again = sh(BIN, "resume", "--journal", journal, *variables, check=False)
        after = events(journal)
        new_kinds = [e["kind"] for e in after[len(log):]]
        ok = (killed and verdict.returncode == 0 and len(finished) == 1 and len(done) == len(set(done))
              and again.returncode == 0 and "step_started" not in new_kinds and "checkpoint" not in new_kinds)
        check(f"{label} (killed={killed})", ok,
              f"verify={verdict.returncode} {verdict.stdout.strip()[:200]} run_finished={len(finished)} steps_done={done} rerun={again.returncode} {new_kinds}")
    except Exception as error:  # noqa: BLE001 - report and continue with the next point
        check(label, False, str(error)[:600])
    finally:
        shutil.rmtree(work, ignore_errors=True)


cases = []
for n in range(1, 24):
    cases.append((f"backfill: SIGKILL after journal event {n}", scenario_backfill, {"SESSMIGRATE_TEST_KILL_AFTER_EVENTS": str(n)}))
for n in (1, 3, 5, 8, 10):
    cases.append((f"backfill: SIGKILL mid-batch {n} (written, no checkpoint)", scenario_backfill, {"SESSMIGRATE_TEST_KILL_AFTER_BATCHES": str(n)}))
for n in range(1, 29):
    cases.append((f"rollback: SIGKILL after journal event {n}", scenario_rollback, {"SESSMIGRATE_TEST_KILL_AFTER_EVENTS": str(n)}))
for n in (1, 4, 9, 12, 13):
    cases.append((f"rollback: SIGKILL mid-batch {n} (written, no checkpoint)", scenario_rollback, {"SESSMIGRATE_TEST_KILL_AFTER_BATCHES": str(n)}))

for n in (1, 3, 5, 7, 9):
    cases.append((f"restore-snapshot: SIGKILL after journal event {n}", scenario_restore, {"SESSMIGRATE_TEST_KILL_AFTER_EVENTS": str(n)}))
for n in (2, 5):
    cases.append((f"restore-snapshot: SIGKILL mid-batch {n}", scenario_restore, {"SESSMIGRATE_TEST_KILL_AFTER_BATCHES": str(n)}))
for n in (1, 2, 4, 6, 8):
    cases.append((f"fallback-inmemory: SIGKILL after journal event {n}", scenario_fallback, {"SESSMIGRATE_TEST_KILL_AFTER_EVENTS": str(n)}))
for n in (1, 3, 6):
    cases.append((f"fallback-inmemory: SIGKILL mid-batch {n}", scenario_fallback, {"SESSMIGRATE_TEST_KILL_AFTER_BATCHES": str(n)}))

for label, scenario, env in cases:
    if args.only and args.only not in label:
        continue
    run_case(label, scenario, env)


def file_digest(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def store_digest(mysql_db, redis_db):
    tables = sh("mariadb", "--no-defaults", "-uroot", f"--socket={socket}", "-N", "-e",
                "CHECKSUM TABLE sessions, events, app_states, user_states", mysql_db).stdout
    keys = sorted(sh("redis-cli", "-p", redis_port, "-n", str(redis_db), "--scan").stdout.split())
    values = [sh("redis-cli", "-p", redis_port, "-n", str(redis_db), "--no-raw", "DUMP", k).stdout for k in keys]
    return tables + "|".join(keys) + "|".join(values)


def extra_checks():
    """A dry run touches nothing; a concurrent run is refused; a stale lock is cleared as documented."""
    work = tempfile.mkdtemp(prefix="smt-locks-")
    try:
        source, target, journal, start, variables = scenario_rollback(work, None, None)
        pairs = [variables[i + 1] for i in range(0, len(variables), 2)]
        variables = [item for pair in pairs if not pair.startswith("flip=") for item in ("--var", pair)]
        start = [BIN, "run", os.path.join(RUNBOOKS, "rollback-to-cloudsql.yaml"), "--journal", journal] + variables
        # The run waits at the manual flip gate (no command): a second run on the journal is refused.
        waiting = subprocess.Popen(start, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        import time
        for _ in range(100):
            if result_needs_continue(journal):
                break
            time.sleep(0.2)
        second = sh(BIN, "resume", "--journal", journal, "--no-wait", *variables, check=False)
        check("a concurrent run on the same journal is refused with the holder's host and pid",
              second.returncode == 2 and "pid" in second.stderr, second.stderr[:300])
        other = sh(BIN, "run", os.path.join(RUNBOOKS, "rollback-to-cloudsql.yaml"), "--journal", os.path.join(work, "other.journal"),
                   "--no-wait", *variables, check=False)
        check("a second run against the same target store is refused with the lock's holder",
              other.returncode == 2 and "locked by another sessmigrate run" in other.stderr, other.stderr[:300])
        before_journal = file_digest(journal)
        before_stores = store_digest("smt_kill_cloudsql", 46)
        dry = sh(BIN, "run", os.path.join(RUNBOOKS, "rollback-to-cloudsql.yaml"), "--journal", journal, "--dry-run", *variables, check=False)
        check("a dry run leaves the journal and both stores untouched",
              dry.returncode == 0 and file_digest(journal) == before_journal and store_digest("smt_kill_cloudsql", 46) == before_stores,
              dry.stderr[:300])
        sh(BIN, "continue", "--journal", journal)
        out, err = waiting.communicate(timeout=120)
        check("continue passes the gate and the waiting run finishes", waiting.returncode == 0, err[-300:])

        # A killed run leaves a stale lock: `unlock` clears it, as documented, and resume finishes.
        source, target, journal2, start2, variables2 = scenario_backfill(work, None, None)
        start2, variables2 = start2 + ["--var", "flip=true"], variables2 + ["--var", "flip=true"]  # no manual gate to wait at
        killed = subprocess.run(start2, capture_output=True, text=True, env=dict(os.environ, SESSMIGRATE_TEST_KILL_AFTER_EVENTS="4"),
                                timeout=300)
        status = sh(BIN, "status", "--journal", journal2, check=False).stdout
        unlock = sh(BIN, "unlock", "--journal", journal2, check=False)
        resumed = sh(BIN, "resume", "--journal", journal2, *variables2, check=False)
        check("a stale lock is cleared by `sessmigrate unlock` and the run resumes",
              killed.returncode == -9 and unlock.returncode == 0 and "cleared the lock" in unlock.stdout and resumed.returncode == 0,
              f"{killed.returncode} {unlock.stdout} {unlock.stderr} {resumed.stderr[:200]}")
    except Exception as error:  # noqa: BLE001
        check("lock and dry-run checks", False, str(error)[:600])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def suggested(text):
    """The `sessmigrate ...` commands a message suggests (in backticks), as argument lists without the program."""
    import re, shlex
    commands = []
    for found in re.findall(r"`(sessmigrate [^`]+)`", text):
        if shlex.split(found)[1:] not in commands:
            commands.append(shlex.split(found)[1:])
    return commands


def run_suggestion(label, command, extra, expect=0):
    """Runs a suggested command (plus the run's --var options where it takes them); it must exist and do its job."""
    result = sh(BIN, *command, *(extra if command[0] in ("resume", "run") else []), check=False)
    check(f"suggested `sessmigrate {' '.join(command)}` ({label}) exits {expect}", result.returncode == expect,
          f"{result.returncode} {result.stdout[-300:]} {result.stderr[-300:]}")
    return result


def suggestion_checks():
    """Every command a message suggests exists and works: a test runs each."""
    work = tempfile.mkdtemp(prefix="smt-suggest-")
    try:
        source, target, journal, start, variables = scenario_rollback(work, None, None)
        pairs = [variables[i + 1] for i in range(0, len(variables), 2)]
        variables = [item for pair in pairs if not pair.startswith("flip=") for item in ("--var", pair)]
        start = [BIN, "run", os.path.join(RUNBOOKS, "rollback-to-cloudsql.yaml"), "--journal", journal] + variables
        waiting = sh(*start, "--no-wait", check=False)
        commands = suggested(waiting.stdout + waiting.stderr)
        check("a run waiting at a gate exits 3 and suggests continue and resume",
              waiting.returncode == 3 and ["continue", "--journal", journal] in commands and ["resume", "--journal", journal] in commands,
              f"{waiting.returncode} {commands}")
        status = sh(BIN, "status", "--journal", journal, check=False)
        check("status at a gate suggests continue", ["continue", "--journal", journal] in suggested(status.stdout), status.stdout[-400:])
        for command in commands:
            if command[0] == "continue":
                run_suggestion("gate message", command, variables)
        finished = None
        for command in commands:
            if command[0] == "resume":
                finished = run_suggestion("gate message", command, variables + ["--no-wait"])
        for command in suggested(finished.stdout if finished else ""):
            run_suggestion("finished run", command, variables)
        again = sh(*start, check=False)
        commands = suggested(again.stderr)
        check("starting an existing journal is refused and suggests resume", again.returncode == 2 and commands, again.stderr[-300:])
        for command in commands:
            run_suggestion("existing journal", command, variables)
        # A failing step suggests resume; the command exists (it fails again for the same reason, not as a usage error).
        broken = os.path.join(work, "broken.yaml")
        with open(broken, "w") as f:
            f.write(f"name: broken\nsteps:\n  - id: verify\n    kind: verify\n    a: {source}\n    b: {work}/empty.db\n")
        failing = sh(BIN, "run", broken, "--journal", os.path.join(work, "broken.journal"), check=False)
        commands = suggested(failing.stderr)
        check("a failed step suggests resume", failing.returncode == 2 and commands, failing.stderr[-300:])
        for command in commands:
            run_suggestion("failed step", command, [], expect=2)
        # A snapshot that exists: the message suggests --force, which replaces it.
        snapshot = os.path.join(work, "again.db")
        sh(BIN, "snapshot", source, snapshot)
        exists = sh(BIN, "snapshot", source, snapshot, check=False)
        check("an existing snapshot file is refused and --force is suggested", exists.returncode == 2 and "--force" in exists.stderr, exists.stderr[-300:])
        forced = sh(BIN, "snapshot", source, snapshot, "--force", check=False)
        check("the suggested --force replaces the snapshot", forced.returncode == 0, forced.stderr[-300:])
    except Exception as error:  # noqa: BLE001
        check("suggested commands", False, str(error)[:600])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if not args.only or "lock" in args.only:
    extra_checks()
if not args.only or "suggest" in args.only:
    suggestion_checks()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
