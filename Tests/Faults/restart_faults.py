"""Restarts that lose data or positions (issue: hardening, items 2 and 10): a Redis target without persistence
killed mid-copy and after a runbook's copy step, a Redis source restarted mid-copy; nothing may be lost and the
counters must count each session once."""
import json
import os
import time

import harness
from harness import Background, check, rows, run, verify, wait_until
from servers import Redis


def run_all(c):
    os.makedirs(f"{c.work}/volatile", exist_ok=True)
    volatile = Redis(f"{c.work}/volatile", persistent=False)
    try:
        copy_into_volatile(c, volatile)
        worker_finished_before_restart(c, volatile)
        runbook_into_volatile(c, volatile)
        source_restart_counts(c)
    finally:
        volatile.stop()


def copy_into_volatile(c, volatile):
    name = "copy mysql->redis without persistence, SIGKILL+restart at 50%: nothing lost"
    if not harness.wanted(c.only, name):
        return
    volatile.cli("FLUSHALL")
    target = f"{volatile.url}/1?layout=community"
    job = Background(c.work, "volatile-copy", "copy", c.src, target, "--batch-size", "10", "--ttl-from", "now", "--format", "json")
    wait_until(lambda: not job.running() or int(volatile.cli("DBSIZE", db=1, check=False) or 0) > c.sessions)
    hit = job.running()
    volatile.restart()
    rc, stdout, stderr = job.finish()
    clean, last = verify(c.src, target)
    summary = json.loads(stdout) if rc in (0, 1) and stdout.strip().startswith("{") else {}
    ok = hit and rc == 0 and clean and summary.get("restarts", 0) >= 1 and summary.get("sessions_read") == c.sessions
    check(name, ok, f"hit={hit} rc={rc} verify={last} restarts={summary.get('restarts')} read={summary.get('sessions_read')} {stderr[-300:]}")
    rows.append(("Redis without persistence killed (SIGKILL) and restarted empty", "copy MySQL → Redis (target)", "50 % copied",
                 "started over, nothing lost" if ok else "FAILED"))


def worker_finished_before_restart(c, volatile):
    """Two workers whose shares are 3 sessions and about half the data: the small one has finished long before
    the Redis without persistence is restarted empty, and must copy its share again (its writes are gone)."""
    name = "copy mysql->redis, 2 workers, Redis without persistence restarted after one worker finished: nothing lost"
    if not harness.wanted(c.only, name):
        return
    c.mysql.sql("DROP DATABASE IF EXISTS uneven; CREATE DATABASE uneven")
    source = c.mysql.url("uneven")
    assert run("copy", c.src, source).returncode == 0
    # Worker 1's share is shard 0/2 (CRC-32 of the id, as MySQL computes it): keep 3 of its sessions.
    ids = c.mysql.sql("SELECT id FROM sessions WHERE CRC32(CONVERT(id USING utf8mb4)) % 2 = 0 ORDER BY id", "uneven").split()
    gone = ",".join(f"'{i}'" for i in ids[3:])
    c.mysql.sql(f"DELETE FROM events WHERE session_id IN ({gone}); DELETE FROM sessions WHERE id IN ({gone})", "uneven")
    sessions = int(c.mysql.sql("SELECT COUNT(*) FROM sessions", "uneven"))
    volatile.cli("FLUSHALL")
    target = f"{volatile.url}/3?layout=community"
    job = Background(c.work, "volatile-workers", "copy", source, target, "--workers", "2", "--batch-size", "5",
                     "--ttl-from", "now", "--format", "json")
    # Half of the big share is written: the small share (one batch) is long done.
    wait_until(lambda: not job.running() or int(volatile.cli("DBSIZE", db=3, check=False) or 0) > sessions)
    hit = job.running()
    volatile.restart()
    rc, stdout, stderr = job.finish()
    clean, last = verify(source, target)
    summary = json.loads(stdout) if rc in (0, 1) and stdout.strip().startswith("{") else {}
    sent_back = "worker 1 of 2: the target restarted since it finished" in stderr
    ok = hit and rc == 0 and clean and sent_back and summary.get("sessions_read") == sessions
    check(name, ok, f"hit={hit} rc={rc} verify={last} sent_back={sent_back} read={summary.get('sessions_read')} of {sessions} "
          f"{stderr[-300:]}")
    rows.append(("Redis without persistence killed (SIGKILL) and restarted empty", "copy MySQL → Redis with 2 workers",
                 "one worker finished, the other half done", "the finished worker copied its share again, nothing lost" if ok else "FAILED"))


def runbook_into_volatile(c, volatile):
    name = "backfill runbook into a Redis without persistence, restarted empty after the copy step: resume finishes"
    if not harness.wanted(c.only, name):
        return
    volatile.cli("FLUSHALL")
    target = f"{volatile.url}/2?layout=community"
    journal = f"{c.work}/volatile-backfill.journal"
    runbook = os.path.join(os.path.dirname(__file__), "..", "..", "runbooks", "backfill.yaml")
    variables = ["--var", f"source={c.src}", "--var", f"target={target}", "--var", f"snapshot={c.work}/volatile-backfill.db",
                 "--var", "ttl_from=now", "--var", "batch_size=50", "--var", "flip=true", "--var", "drain=0", "--var", "margin=5"]
    env = dict(os.environ, SESSMIGRATE_TEST_PAUSE_AFTER_STEP="copy")
    job = Background(c.work, "volatile-runbook", "run", runbook, "--journal", journal, *variables, env=env)
    paused = f"{journal}.paused-after-copy"
    wait_until(lambda: not job.running() or os.path.exists(paused), timeout=300)
    hit = job.running()
    volatile.restart()  # everything the copy wrote is gone
    open(f"{journal}.go-on", "w").close()
    rc, stdout, stderr = job.finish(timeout=600)
    resumed = rc
    for _ in range(3):
        if resumed == 0:
            break
        resumed = run("resume", "--journal", journal, *variables, timeout=600).returncode
    reopened = any(json.loads(line).get("kind") == "step_reopened"
                   for line in run("log", "--journal", journal, "--format", "json").stdout.splitlines() if line.strip())
    clean, last = verify(c.src, target)
    ok = hit and resumed == 0 and clean and reopened
    check(name, ok, f"hit={hit} rc={rc} resumed={resumed} reopened={reopened} verify={last} {stderr[-300:]}")
    rows.append(("Redis without persistence killed (SIGKILL) and restarted empty", "backfill runbook, after the copy step",
                 "copy done", "copy step run again, nothing lost" if ok else "FAILED"))


def source_restart_counts(c):
    name = "copy redis->mysql, redis source SIGKILL+restart at 50%: each session counted once"
    if not harness.wanted(c.only, name):
        return
    target = c.fresh_mysql("counts")
    job = Background(c.work, "counts-copy", "copy", c.full, target, "--batch-size", "10", "--format", "json")
    wait_until(lambda: not job.running() or c.mysql_progress("counts")() >= 0.5)
    hit = job.running()
    c.redis.restart()
    rc, stdout, stderr = job.finish()
    summary = json.loads(stdout) if stdout.strip().startswith("{") else {}
    clean, last = verify(c.full, target)
    ok = hit and rc == 0 and clean and summary.get("sessions_read") == c.sessions
    check(name, ok, f"hit={hit} rc={rc} read={summary.get('sessions_read')} of {c.sessions} verify={last} {stderr[-300:]}")
    rows.append(("Redis (source) killed (SIGKILL) and restarted", "copy Redis → MySQL", "50 % copied",
                 "counts of one full pass" if ok else "FAILED"))
