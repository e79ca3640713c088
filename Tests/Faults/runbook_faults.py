"""Servers killed and restarted while a runbook runs: the backfill (MySQL → Redis) with Redis, its target,
killed at five points of the copy step and MySQL, its source, killed during the safety snapshot and the
copy; the rollback (Redis → MySQL) with MySQL, its target, killed at five points of its copy step. Each
run must finish by itself (the runner retries the step from its last checkpoint and records the fault in
the journal), with exactly one run_finished and verify clean."""
import json, os, re

from harness import Background, check, outcome, rows, run, verify, wait_until, wanted

RUNBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runbooks")
# The flip passes at once and nothing drains: these runs are about faults during the copy, not the rollout
# window (the live-traffic suite covers that); a manual gate would wait forever without stdin.
QUICK = ["--var", "flip=true", "--var", "drain=0", "--var", "pass_interval=0"]


def run_all(c):
    for point in (0.1, 0.3, 0.5, 0.7, 0.9):
        backfill(c, f"backfill runbook, redis SIGKILL+restart at {point:.0%} of the copy step", "Redis killed (SIGKILL) and restarted",
                 "backfill runbook: copy step (Redis = target)", f"{int(point * 100)} % copied",
                 lambda job, c=c, point=point: wait_until(lambda: not job.running() or c.redis_progress(4)() >= point),
                 lambda: c.redis.restart())
    backfill(c, "backfill runbook, mysql SIGKILL+restart during the safety snapshot", "MariaDB killed (SIGKILL) and restarted",
             "backfill runbook: safety-snapshot step (MySQL = source)", "snapshot file being written",
             lambda job, c=c: wait_until(lambda: not job.running() or any(".partial" in f for f in os.listdir(c.work))),
             lambda: c.mysql.restart())
    backfill(c, "backfill runbook, mysql SIGKILL+restart at 50% of the copy step", "MariaDB killed (SIGKILL) and restarted",
             "backfill runbook: copy step (MySQL = source)", "50 % copied",
             lambda job, c=c: wait_until(lambda: not job.running() or c.redis_progress(4)() >= 0.5),
             lambda: c.mysql.restart())
    for point in (0.1, 0.3, 0.5, 0.7, 0.9):
        rollback(c, point)
    outlasting_the_retries(c)


def journal_events(journal):
    out = run("log", "--journal", journal, "--format", "json")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def finish_runbook(c, name, fault, during, point, job, journal, source, target):
    rc, stdout, stderr = job.finish()
    log = journal_events(journal)
    transient = [e for e in log if e["kind"] == "step_failed" and e.get("detail", {}).get("transient")]
    finished = [e for e in log if e["kind"] == "run_finished"]
    clean, last = verify(source, target)
    ok = rc == 0 and len(finished) == 1 and len(transient) >= 1 and clean
    check(name, ok, f"rc={rc} transient={len(transient)} finished={len(finished)} verify={last} "
                    f"stdout={stdout[-300:]} stderr={stderr[-400:]}")
    rows.append((fault, during, point, outcome(ok, len(transient))))


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower())


def backfill(c, name, fault, during, point, wait_for_point, inject):
    if not wanted(c.only, name):
        return
    target = c.fresh_redis(4)
    journal = f"{c.work}/{slug(name)}.journal"
    job = Background(c.work, name, "run", f"{RUNBOOKS}/backfill.yaml", "--journal", journal,
                     "--var", f"source={c.src}", "--var", f"target={target}", "--var", f"snapshot={c.work}/{slug(name)}.db",
                     "--var", "batch_size=10", "--var", "ttl_from=now", *QUICK)
    wait_for_point(job)
    if not job.running():
        job.finish()
        check(name, False, "the runbook finished before the fault")
        return
    inject()
    finish_runbook(c, name, fault, during, point, job, journal, c.src, target)


def rollback(c, point):
    name = f"rollback runbook, mysql SIGKILL+restart at {point:.0%} of the copy step"
    if not wanted(c.only, name):
        return
    target = c.fresh_mysql("rollback")
    journal = f"{c.work}/{slug(name)}.journal"
    job = Background(c.work, name, "run", f"{RUNBOOKS}/rollback-to-cloudsql.yaml", "--journal", journal,
                     "--var", f"redis={c.full}", "--var", f"cloudsql={target}", "--var", f"snapshot={c.work}/{slug(name)}.db",
                     "--var", "batch_size=10", *QUICK)
    wait_until(lambda: not job.running() or c.mysql_progress("rollback")() >= point)
    if not job.running():
        job.finish()
        check(name, False, "the runbook finished before the fault")
        return
    c.mysql.restart()
    finish_runbook(c, name, "MariaDB killed (SIGKILL) and restarted", "rollback runbook: copy step (MySQL = target)",
                   f"{int(point * 100)} % copied", job, journal, c.full, target)


def outlasting_the_retries(c):
    """Redis stays down longer than `--retries 2` waits (0.5 s + 1 s): the run stops with exit 2, the journal
    records the step as failed with its retries exhausted, and once Redis is back `resume` finishes the run
    from the last checkpoint."""
    name = "backfill runbook, redis down longer than the retries, then resume"
    if not wanted(c.only, name):
        return
    target = c.fresh_redis(4)
    journal = f"{c.work}/{slug(name)}.journal"
    variables = ["--var", f"source={c.src}", "--var", f"target={target}", "--var", f"snapshot={c.work}/{slug(name)}.db",
                 "--var", "batch_size=10", "--var", "ttl_from=now", *QUICK]
    job = Background(c.work, name, "run", f"{RUNBOOKS}/backfill.yaml", "--journal", journal, "--retries", "2", *variables)
    wait_until(lambda: not job.running() or c.redis_progress(4)() >= 0.4)
    hit = job.running()
    c.redis.down()
    rc, stdout, stderr = job.finish()
    log = journal_events(journal)
    exhausted = [e for e in log if e["kind"] == "step_failed" and e.get("detail", {}).get("retries_exhausted") == 2]
    c.redis.up()
    resumed = run("resume", "--journal", journal, *variables)
    finished = [e for e in journal_events(journal) if e["kind"] == "run_finished"]
    clean, last = verify(c.src, target)
    ok = hit and rc == 2 and "resume --journal" in stderr and len(exhausted) == 1 and resumed.returncode == 0 \
        and len(finished) == 1 and clean
    check(name, ok, f"hit={hit} rc={rc} exhausted={len(exhausted)} resume={resumed.returncode} finished={len(finished)} "
                    f"verify={last} out={stdout[-300:]} stderr={stderr[-600:]} resume_err={resumed.stderr[-300:]} "
                    f"last events={[e['kind'] for e in log[-4:]]}")
    rows.append(("Redis killed and kept down past the bound (--retries 2)", "backfill runbook: copy step", "40 % copied",
                 "stopped with exit 2, journal: retries exhausted; after Redis came back, `resume` finished; verify clean; "
                 "nothing lost" if ok else "FAILED (see the test output)"))
