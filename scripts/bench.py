#!/usr/bin/env python3
"""The sessmigrate benchmark (see scripts/bench, which starts the servers and builds the binary).

Times, in one run: generate; copy in every direction between MySQL, Redis and a snapshot file;
snapshot and restore; diff and verify of two stores of the same sessions; the raw limits of the
same bytes (redis-benchmark -P 64 SETs of the average session blob, LOAD DATA LOCAL INFILE of the
same event rows into MariaDB, the same rows inserted into SQLite in one transaction); each copy's
ratio to the raw limit of its target; peak RSS at N and at 10 N sessions.
"""
import argparse, os, re, sqlite3, subprocess, sys, time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--work", required=True)
p.add_argument("--sessions", type=int, default=10000)
p.add_argument("--events", type=int, default=20)
p.add_argument("--big", type=int, default=100000, help="sessions for the RSS scaling check (0 to skip)")
args = p.parse_args()

redis_url = os.environ["SESSMIGRATE_REDIS_URL"]
mysql_url = os.environ["SESSMIGRATE_MYSQL_URL"]
socket = os.environ["SESSMIGRATE_MYSQL_ROOT_SOCKET"]
redis_port = redis_url.rsplit(":", 1)[1].split("/")[0]
mysql_base = mysql_url.rsplit("/", 1)[0]
W = args.work


def sql(statement, database=""):
    out = subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={socket}", "-B", "-N", "--local-infile=1", "-e", statement] + ([database] if database else []),
                         check=True, capture_output=True, text=True)
    return out.stdout


def timed(label, command):
    """Runs sessmigrate (or anything) under /usr/bin/time; returns (seconds, peak RSS MiB, stdout)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "RSSKB %M"] + command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rss = int(re.search(r"RSSKB (\d+)", out.stderr).group(1)) / 1024
    if out.returncode not in (0, 1):
        sys.exit(f"{label} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return seconds, rss, out.stdout


def mysql(db):
    sql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}")
    return f"{mysql_base}/{db}"


def redis(db):
    subprocess.run(["redis-cli", "-p", redis_port, "-n", str(db), "FLUSHDB"], check=True, capture_output=True)
    return f"redis://127.0.0.1:{redis_port}/{db}?layout=community"


N, E = args.sessions, args.events
gen = f"{W}/gen.db"
print(f"== generating {N} sessions x {E} events")
s, rss, _ = timed("generate", [args.bin, "generate", gen, "--sessions", str(N), "--events", str(E), "--seed", "7"])
print(f"generate: {s:.2f} s, {N / s:.0f} sessions/s, peak RSS {rss:.0f} MiB")
db = sqlite3.connect(gen)
events, event_bytes = db.execute("SELECT COUNT(*), SUM(LENGTH(event_data)) FROM events").fetchone()
state_bytes = db.execute("SELECT SUM(LENGTH(state)) FROM sessions").fetchone()[0]
db.close()
megabytes = (event_bytes + state_bytes) / 1e6
print(f"data: {events} events, {megabytes:.1f} MB of event and state JSON")

M1, M2, R1 = mysql("bench_m1"), mysql("bench_m2"), redis(1)
results = []
def copy(label, src, dst, *extra, target_kind):
    s, rss, out = timed(label, [args.bin, "copy", src, dst, "--ttl-from", "now", *extra])
    results.append((label, s, rss, target_kind))
    print(f"{label:28s} {s:7.2f} s  {N / s:8.0f} sessions/s  {events / s:9.0f} events/s  {megabytes / s:6.1f} MB/s  RSS {rss:5.0f} MiB")

print("== copy in every direction")
copy("snapshot -> mysql", gen, M1, target_kind="mysql")
copy("mysql -> redis", M1, R1, target_kind="redis")
copy("redis -> mysql", R1, M2, target_kind="mysql")
copy("mysql -> snapshot", M1, f"{W}/from_mysql.db", target_kind="sqlite")
copy("redis -> snapshot", R1, f"{W}/from_redis.db", target_kind="sqlite")
copy("snapshot -> redis", gen, redis(2), target_kind="redis")
s, rss, _ = timed("snapshot", [args.bin, "snapshot", R1, f"{W}/snap.db"])
print(f"{'snapshot cmd (redis)':28s} {s:7.2f} s  {N / s:8.0f} sessions/s  RSS {rss:5.0f} MiB")
s, rss, _ = timed("restore", [args.bin, "restore", f"{W}/snap.db", mysql("bench_m3")])
print(f"{'restore cmd (-> mysql)':28s} {s:7.2f} s  {N / s:8.0f} sessions/s  RSS {rss:5.0f} MiB (check + copy + verify)")

print(f"== diff and verify ({events} events on each side)")
for label, command in [("verify mysql redis", ["verify", M1, R1]), ("diff mysql redis", ["diff", M1, R1]), ("verify mysql snapshot", ["verify", M1, gen])]:
    s, rss, out = timed(label, [args.bin] + command)
    print(f"{label:28s} {s:7.2f} s  {2 * events / s:9.0f} events/s  RSS {rss:5.0f} MiB  {out.strip().splitlines()[-1][:60]}")

print("== raw limits of the same bytes")
blob = int(subprocess.run(["redis-cli", "-p", redis_port, "-n", "1", "--raw", "EVAL",
    "local k = redis.call('SCAN', 0, 'MATCH', 'session:*', 'COUNT', 1000)[2]; local t = 0; for _, x in ipairs(k) do t = t + redis.call('STRLEN', x) end; return math.floor(t / #k)", "0"],
    capture_output=True, text=True, check=True).stdout.strip())
out = subprocess.run(["redis-benchmark", "-p", redis_port, "-P", "64", "-c", "1", "-n", str(max(20 * N, 200000)), "-t", "set", "-d", str(blob), "-q"],
                     capture_output=True, text=True, check=True).stdout
redis_raw = float(re.search(r"SET: ([\d.]+) requests per second", out).group(1))
print(f"redis-benchmark -P 64 SET of {blob} B (the average session blob): {redis_raw:.0f} ops/s")

tsv = f"{W}/events.tsv"
with open(tsv, "w") as f:
    f.write(sql("SELECT id, app_name, user_id, session_id, invocation_id, timestamp, event_data FROM events", "bench_m1"))
# The same table ADK's events table is (primary key and the read index), without the foreign key.
sql("DROP DATABASE IF EXISTS bench_raw; CREATE DATABASE bench_raw; CREATE TABLE bench_raw.raw_events (id VARCHAR(128) NOT NULL, "
    "app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL, "
    "timestamp DATETIME(6) NOT NULL, event_data LONGTEXT, PRIMARY KEY (id, app_name, user_id, session_id), "
    "INDEX idx_events_app_user_session_ts_id (app_name, user_id, session_id, timestamp DESC, id DESC))")
start = time.perf_counter()
sql(f"LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE raw_events FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'", "bench_raw")
mysql_raw = events / (time.perf_counter() - start)
print(f"MariaDB LOAD DATA LOCAL INFILE of the same {events} event rows: {mysql_raw:.0f} rows/s")

raw = sqlite3.connect(f"{W}/raw.db")
raw.execute("CREATE TABLE events (id TEXT NOT NULL, app_name TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL, "
            "invocation_id TEXT NOT NULL, timestamp REAL NOT NULL, event_data TEXT NOT NULL, PRIMARY KEY (app_name, user_id, session_id, id))")
rows = sqlite3.connect(gen).execute("SELECT id, app_name, user_id, session_id, invocation_id, timestamp, event_data FROM events").fetchall()
start = time.perf_counter()
with raw:
    raw.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
sqlite_raw = events / (time.perf_counter() - start)
print(f"SQLite inserts of the same {events} event rows in one transaction: {sqlite_raw:.0f} rows/s")

# The raw read of the same rows from each source kind: a copy can go no faster than its source can be read.
start = time.perf_counter()
subprocess.run(["mariadb", "--no-defaults", "-uroot", f"--socket={socket}", "-B", "-N", "-e",
                "SELECT id, app_name, user_id, session_id, invocation_id, timestamp, event_data FROM events", "bench_m1"],
               check=True, stdout=subprocess.DEVNULL)
mysql_read = events / (time.perf_counter() - start)
print(f"MariaDB read of the same {events} event rows (mariadb client, to /dev/null): {mysql_read:.0f} rows/s")
start = time.perf_counter()
sqlite3.connect(gen).execute("SELECT id, app_name, user_id, session_id, invocation_id, timestamp, event_data FROM events").fetchall()
sqlite_read = events / (time.perf_counter() - start)
print(f"SQLite read of the same {events} event rows (Python fetchall): {sqlite_read:.0f} rows/s")
out = subprocess.run(["redis-benchmark", "-p", redis_port, "-P", "64", "-c", "1", "-n", str(max(20 * N, 200000)), "-t", "set,get", "-d", str(blob), "-q"],
                     capture_output=True, text=True, check=True).stdout
redis_read = float(re.search(r"GET: ([\d.]+) requests per second", out).group(1))
print(f"redis-benchmark -P 64 GET of {blob} B values (the raw read of the same blobs): {redis_read:.0f} ops/s")

print("== ratios to the raw limit of the target")
for label, s, rss, kind in results:
    if kind == "redis":
        ratio = (N / s) / redis_raw
        print(f"{label:28s} {N / s:9.0f} sessions/s vs {redis_raw:9.0f} SET/s      = {100 * ratio:5.1f} %")
    else:
        limit = mysql_raw if kind == "mysql" else sqlite_raw
        ratio = (events / s) / limit
        print(f"{label:28s} {events / s:9.0f} events/s   vs {limit:9.0f} rows/s     = {100 * ratio:5.1f} %")

print("== ratios to the raw limit of the pipeline (the slower of reading the source and writing the target)")
read_rate = {"mysql": mysql_read * N / events, "snapshot": sqlite_read * N / events, "redis": redis_read}
write_rate = {"redis": redis_raw, "mysql": mysql_raw * N / events, "sqlite": sqlite_raw * N / events}
for label, s, rss, kind in results:
    source = label.split(" ->")[0]
    limit = min(read_rate[source], write_rate[kind])
    print(f"{label:28s} {N / s:9.0f} sessions/s vs {limit:9.0f} sessions/s = {100 * (N / s) / limit:5.1f} %")

if args.big:
    print(f"== peak RSS at {N} and {args.big} sessions (snapshot -> SQLite DatabaseSessionService file)")
    big = f"{W}/big.db"
    timed("generate big", [args.bin, "generate", big, "--sessions", str(args.big), "--events", str(E), "--seed", "7"])
    s_small, rss_small, _ = timed("small", [args.bin, "copy", gen, f"sqlite:///{W}/small_out.db?layout=database"])
    s_big, rss_big, _ = timed("big", [args.bin, "copy", big, f"sqlite:///{W}/big_out.db?layout=database"])
    print(f"{N:7d} sessions: {s_small:6.2f} s, peak RSS {rss_small:6.1f} MiB")
    print(f"{args.big:7d} sessions: {s_big:6.2f} s, peak RSS {rss_big:6.1f} MiB  (x{rss_big / rss_small:.2f})")
