"""What scripts/bench.py and scripts/bench_scale.py share: the throwaway servers' addresses (from the
environment scripts/bench sets), a MariaDB root shell, fresh databases, and a timed command that starts
on a settled MariaDB."""
import os, re, subprocess, sys, time

redis_url = os.environ["SESSMIGRATE_REDIS_URL"]
mysql_url = os.environ["SESSMIGRATE_MYSQL_URL"]
socket = os.environ["SESSMIGRATE_MYSQL_ROOT_SOCKET"]
redis_port = redis_url.rsplit(":", 1)[1].split("/")[0]
mysql_base = mysql_url.rsplit("/", 1)[0]


def sql(statement, database=""):
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={socket}", "-B", "-N", "--local-infile=1", "-e", statement] + ([database] if database else []),
                         check=True, capture_output=True, text=True)
    return out.stdout


def timed(label, command):
    """Runs sessmigrate (or anything) under /usr/bin/time; returns (seconds, peak RSS MiB, stdout)."""
    seconds, rss, _, stdout = timed_cpu(label, command)
    return seconds, rss, stdout


def settle(limit=120):
    """Waits (at most `limit` seconds) until MariaDB has written out the dirty pages and purged the undo
    history earlier runs left, so that no timed run pays for the one before it.

    With the throwaway server's defaults (innodb_io_capacity 200, innodb_max_dirty_pages_pct 90) the
    pages a copy dirtied stay dirty when it ends (10,000 of them minutes later) and are flushed when a later
    run's redo fills: the same copy into MySQL then took 4.1 to 10.0 s. The same wait comes before every
    timed command and every raw limit, so the limits and the copies are measured alike."""
    def status():
        rows = sql("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_history_list_length')")
        return {name: int(value) for name, value in (line.split("\t") for line in rows.splitlines() if line)}
    percent = sql("SELECT @@innodb_max_dirty_pages_pct").strip()
    sql("SET GLOBAL innodb_max_dirty_pages_pct = 0")  # flush at full speed while waiting
    try:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            now = status()
            if now["Innodb_buffer_pool_pages_dirty"] < 100 and now["Innodb_history_list_length"] < 1000:
                break
            time.sleep(0.2)
    finally:
        sql(f"SET GLOBAL innodb_max_dirty_pages_pct = {percent}")


def timed_cpu(label, command):
    """As `timed`, with the command's own CPU seconds (user + system) third: a copy on this 2-core machine is
    bound by its CPU, which load disturbs less than the wall time. Starts once MariaDB is settled."""
    settle()
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "RSSKB %M CPU %U %S"] + command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    found = re.search(r"RSSKB (\d+) CPU ([\d.]+) ([\d.]+)", out.stderr)
    if out.returncode not in (0, 1) or not found:
        sys.exit(f"{label} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return seconds, int(found.group(1)) / 1024, float(found.group(2)) + float(found.group(3)), out.stdout


def mysql(db):
    """A new empty database; its address."""
    sql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}")
    return f"{mysql_base}/{db}"


def redis(db):
    """Redis database `db`, emptied; its address (community layout)."""
    subprocess.run(["redis-cli", "-p", redis_port, "-n", str(db), "FLUSHDB"], check=True, capture_output=True)
    return f"redis://127.0.0.1:{redis_port}/{db}?layout=community"
