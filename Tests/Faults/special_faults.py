"""Faults that need a setup of their own: a MariaDB lock wait timeout and a deadlock during a copy into
MySQL, Redis BUSY (a long script) during a copy into Redis, Redis LOADING (a restart with a large data
set) at the start of a verify, and servers killed in the middle of a verify."""
import os, subprocess, threading, time

from harness import wanted, Background, check, outcome, retries_in, rows, run, verify, wait_until


def run_all(c):
    lock_wait(c)
    deadlock(c)
    busy(c)
    mid_verify(c)
    loading(c)
    outlasting_the_retries(c)


def emptied_target(c, name):
    """A MySQL target holding the app and user state rows of every session but no sessions: a copy into
    it writes every session and locks the existing state rows, as a copy into a live database does."""
    target = c.fresh_mysql(name)
    c.mysql.sql("SET GLOBAL innodb_lock_wait_timeout = 50")
    copied = run("copy", c.src, target)
    assert copied.returncode == 0, copied.stderr
    c.mysql.sql("DELETE FROM events; DELETE FROM sessions", name)
    return target


def background_sql(c, statements, database):
    """Runs `statements` in one mariadb client session on a thread; returns the thread."""
    thread = threading.Thread(target=lambda: c.mysql.sql(statements, database, check=False))
    thread.start()
    return thread


def finish_copy(c, name, fault, during, source, target, job, expect_in_stderr):
    rc, _, stderr = job.finish()
    clean, last = verify(source, target)
    retried = retries_in(stderr)
    ok = rc == 0 and clean and retried >= 1 and expect_in_stderr in stderr
    check(name, ok, f"rc={rc} retries={retried} verify={last} stderr={stderr[-500:]}")
    rows.append((fault, during, "first batches", outcome(ok, retried)))


def lock_wait(c):
    name = "copy into mysql, lock wait timeout (1205)"
    if not wanted(c.only, name):
        return
    target = emptied_target(c, "lockwait")
    c.mysql.sql("SET GLOBAL innodb_lock_wait_timeout = 1")
    try:
        holder = background_sql(c, "BEGIN; SELECT COUNT(*) FROM app_states FOR UPDATE; SELECT SLEEP(4); COMMIT;", "lockwait")
        time.sleep(0.5)
        job = Background(c.work, name, "copy", c.src, target, "--batch-size", "50")
        finish_copy(c, name, "MariaDB lock wait timeout (errno 1205): another transaction holds the app state rows for 4 s",
                    "copy MySQL → MySQL (target)", c.src, target, job, "1205")
        holder.join()
    finally:
        c.mysql.sql("SET GLOBAL innodb_lock_wait_timeout = 50")


def deadlock(c):
    """Another transaction locks a user state row, then (after sessmigrate has locked the app state rows of
    its first batch and waits for that user row) asks for an app state row: InnoDB breaks the deadlock by
    rolling back the lighter transaction, sessmigrate's (the other one has inserted 20,000 rows)."""
    name = "copy into mysql, deadlock (1213)"
    if not wanted(c.only, name):
        return
    target = emptied_target(c, "deadlock")
    app, user = c.mysql.sql("SELECT app_name, user_id FROM user_states ORDER BY app_name, user_id LIMIT 1", "deadlock").split("\t")
    c.mysql.sql("CREATE TABLE filler (n INT)", "deadlock")
    other = background_sql(c, (
        "BEGIN; INSERT INTO filler SELECT seq FROM seq_1_to_20000; "
        f"SELECT COUNT(*) FROM user_states WHERE app_name = '{app}' AND user_id = '{user}' FOR UPDATE; SELECT SLEEP(2); "
        f"SELECT COUNT(*) FROM app_states WHERE app_name = '{app}' FOR UPDATE; COMMIT;"), "deadlock")
    time.sleep(0.5)
    job = Background(c.work, name, "copy", c.src, target, "--batch-size", "50")
    finish_copy(c, name, "MariaDB deadlock (errno 1213) with another transaction; sessmigrate's is rolled back",
                "copy MySQL → MySQL (target)", c.src, target, job, "1213")
    other.join()


BUSY_SCRIPT = ("local t = redis.call('TIME'); local stop = tonumber(t[1]) + 3; "
               "while tonumber(redis.call('TIME')[1]) < stop do end; return 1")


def busy(c):
    name = "copy into redis, BUSY script at 30%"
    if not wanted(c.only, name):
        return
    target = c.fresh_redis(3)
    c.redis.cli("CONFIG", "SET", "busy-reply-threshold", "100")
    job = Background(c.work, name, "copy", c.src, target, "--batch-size", "10", "--ttl-from", "now")
    wait_until(lambda: not job.running() or c.redis_progress(3)() >= 0.3)
    hit = job.running()
    script = subprocess.Popen(["redis-cli", "-p", str(c.redis.port), "EVAL", BUSY_SCRIPT, "0"], stdout=subprocess.DEVNULL)
    rc, _, stderr = job.finish()
    script.wait()
    clean, last = verify(c.src, target)
    retried = retries_in(stderr)
    ok = hit and rc == 0 and clean and "BUSY" in stderr
    check(name, ok, f"hit={hit} rc={rc} retries={retried} verify={last} stderr={stderr[-500:]}")
    rows.append(("Redis BUSY: a Lua script runs for 3 s", "copy MySQL → Redis (target)", "30 % copied", outcome(ok, retried)))


def mid_verify(c):
    """A verify of the full stores, with each server killed and restarted once the verify is under way."""
    for label, restart in (("redis", lambda: c.redis.restart()), ("mysql", lambda: c.mysql.restart())):
        name = f"verify mysql redis, {label} SIGKILL+restart mid-verify"
        if not wanted(c.only, name):
            continue
        # Both stores are read at once; a test hook pauses the comparison once 600 of the 3,000 sessions
        # were read (and creates PAUSE.paused), so the server is restarted mid-verify, not after it.
        pause = f"{c.work}/verify-pause-{label}"
        env = dict(os.environ, SESSMIGRATE_TEST_PAUSE_VERIFY_AT="600", SESSMIGRATE_TEST_PAUSE_FILE=pause)
        job = Background(c.work, name, "verify", c.src, c.full, env=env)
        wait_until(lambda: not job.running() or os.path.exists(pause + ".paused"), timeout=120)
        hit = job.running()
        restart()
        open(pause + ".go", "w").close()
        rc, stdout, stderr = job.finish()
        retried = retries_in(stderr)
        ok = hit and rc == 0 and "IDENTICAL" in stdout and retried >= 1
        check(name, ok, f"hit={hit} rc={rc} retries={retried} out={stdout[-300:]} stderr={stderr[-400:]}")
        server = "Redis" if label == "redis" else "MariaDB"
        rows.append((f"{server} killed (SIGKILL) and restarted", "verify MySQL Redis", "under way", outcome(ok, retried)))


def loading(c):
    """Redis restarted with 2 million extra keys: while it loads them it answers LOADING; a verify started
    then must wait and succeed."""
    name = "verify redis mysql, redis LOADING after a restart"
    if not wanted(c.only, name):
        return
    c.redis.cli("DEBUG", "POPULATE", "2000000", "filler", "64", db=15)
    c.redis.cli("BGREWRITEAOF")
    wait_until(lambda: "aof_rewrite_in_progress:0" in c.redis.cli("INFO", "persistence")
               and "aof_rewrite_scheduled:0" in c.redis.cli("INFO", "persistence"), timeout=120, every=0.1)
    reply = c.redis.restart(wait=False)
    saw_loading = "LOADING" in reply
    job = Background(c.work, name, "verify", c.full, c.src)  # both stores are opened (and read) at once
    rc, stdout, stderr = job.finish()
    retried = retries_in(stderr)
    ok = saw_loading and rc == 0 and "IDENTICAL" in stdout and "LOADING" in stderr
    check(name, ok, f"saw_loading={saw_loading} rc={rc} retries={retried} out={stdout[-300:]} stderr={stderr[-400:]}")
    rows.append(("Redis LOADING: restarted with 2 million extra keys", "verify Redis MySQL", "at the start", outcome(ok, retried)))
    c.redis.wait_ready()
    c.redis.cli("FLUSHDB", db=15)
    c.redis.cli("BGREWRITEAOF")


def outlasting_the_retries(c):
    """MariaDB stays down longer than `--retries 2` waits: copy stops with exit 2 and says so; run again once
    the server is back, it completes (idempotent) and verify is clean."""
    name = "copy redis->mysql, mysql down longer than the retries, then run again"
    if not wanted(c.only, name):
        return
    target = c.fresh_mysql("outlast")
    job = Background(c.work, name, "copy", c.full, target, "--batch-size", "10", "--retries", "2")
    wait_until(lambda: not job.running() or c.mysql_progress("outlast")() >= 0.4)
    hit = job.running()
    c.mysql.process.kill()
    c.mysql.process.wait()
    rc, _, stderr = job.finish()
    c.mysql.start()
    again = run("copy", c.full, target)
    clean, last = verify(c.full, target)
    ok = hit and rc == 2 and "still failing after 2 retries" in stderr and again.returncode == 0 and clean
    check(name, ok, f"hit={hit} rc={rc} again={again.returncode} verify={last} stderr={stderr[-400:]}")
    rows.append(("MariaDB killed and kept down past the bound (--retries 2)", "copy Redis → MySQL (target)", "40 % copied",
                 "stopped with exit 2 (\"still failing after 2 retries\"); the same copy run again completed; verify clean; "
                 "nothing lost" if ok else "FAILED (see the test output)"))
