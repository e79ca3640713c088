"""Scale lines of the benchmark (scripts/bench.py calls these; nothing asserted, figures printed):

- shards: 4 shard tasks (`--shard i/4`) run one after another against one unsharded copy of the same
  MySQL data, into Redis, in 3 alternating rounds: the best sum of the shards' times over the best whole
  copy's is the shard waste;
- million: N sessions (default 1,000,000) of one small event each generated into MySQL, copied to Redis
  with the default workers and verified; the same shape at 10,000 sessions for the peak RSS ratio;
  `verify` of the N events timed on its own;
- scoped: `copy --session X` and a converge pass (the sessions changed since a time) over a large
  store, each against a full copy of the same store (issue 11: under 2 %).
"""
import json, statistics

from benchlib import mysql, redis, sql, timed


def scoped(binary, sessions, runs=5):
    """Scopes pushed down to the stores: a copy of one session, and a converge pass (sessions changed since
    a time) over `sessions` sessions, against a full copy of the same store; the median of `runs` runs.
    Sessions read comes from the copy's own summary (sessions loaded and in scope)."""
    print(f"== scoped reads over {sessions} sessions x 5 events (copy --session, converge pass of 100 changed sessions; median of {runs}; full copies median of 3)")
    source = mysql("bench_scope_src")
    timed("generate scoped", [binary, "generate", source, "--sessions", str(sessions), "--events", "5", "--seed", "21"])
    # A full copy's time varies from run to run (MariaDB's page flushing: the copy back took 24 to 53 s in
    # one day's runs), so each is the median of 3 copies into an emptied target.
    fulls, backs = [], []
    for _ in range(3):
        R5 = redis(5)
        fulls.append(timed("full copy", [binary, "copy", source, R5, "--ttl-from", "now"])[0])
        MB = mysql("bench_scope_back")
        backs.append(timed("full copy back", [binary, "copy", R5, MB])[0])
    full, full_back = statistics.median(fulls), statistics.median(backs)
    print(f"{'full copy mysql -> redis':34s} {full:7.2f} s  ({sessions} sessions; median of {', '.join(f'{t:.2f}' for t in fulls)})")
    some = sql("SELECT id FROM sessions ORDER BY id LIMIT 1 OFFSET 777", "bench_scope_src").strip()
    print(f"{'full copy redis -> mysql':34s} {full_back:7.2f} s  ({sessions} sessions; median of {', '.join(f'{t:.2f}' for t in backs)})")

    def against(label, command, whole):
        times, reads = [], set()
        for _ in range(runs):
            seconds, _, out = timed(label, [binary] + command + ["--format", "json"])
            times.append(seconds)
            reads.add(json.loads(out)["sessions_read"])
        median = statistics.median(times)
        read = ", ".join(str(r) for r in sorted(reads))
        print(f"{label:34s} {median:7.3f} s  {read:>6s} sessions read  {100 * median / whole:5.2f} % of the full copy"
              f"  (runs {min(times):.3f}-{max(times):.3f} s)")

    against("copy --session X (mysql -> redis)", ["copy", source, R5, "--session", some, "--ttl-from", "now"], full)
    against("copy --session X (redis -> mysql)", ["copy", R5, MB, "--session", some], full_back)
    # The bot's traffic before each pass: a new event in 100 other sessions (the row and the session's
    # update_time, as ADK writes them); each pass then copies those 100 sessions each way.
    def touch(round):
        since = float(sql("SELECT UNIX_TIMESTAMP(NOW(6))", "bench_scope_src").strip())
        picked = f"SELECT app_name, user_id, id FROM sessions ORDER BY CRC32(id) LIMIT 100 OFFSET {100 * round}"
        sql("INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data) "
            f"SELECT CONCAT('bench-new-{round}-', id), app_name, user_id, id, 'bench-inv', UTC_TIMESTAMP(6), "
            f"JSON_OBJECT('id', CONCAT('bench-new-{round}-', id), 'invocation_id', 'bench-inv', 'author', 'user', "
            "'timestamp', UNIX_TIMESTAMP(NOW(6)), 'content', JSON_OBJECT('role', 'user', 'parts', JSON_ARRAY(JSON_OBJECT('text', 'new turn')))) "
            f"FROM ({picked}) AS picked", "bench_scope_src")
        sql(f"UPDATE sessions JOIN ({picked}) AS picked USING (app_name, user_id, id) SET update_time = UTC_TIMESTAMP(6)", "bench_scope_src")
        return since

    passes = {"mysql -> redis": [], "redis -> mysql": []}
    for round in range(runs):
        since = repr(touch(round))
        passes["mysql -> redis"].append(timed("converge", [binary, "copy", source, R5, "--updated-since", since, "--ttl-from", "now", "--format", "json"]))
        passes["redis -> mysql"].append(timed("converge back", [binary, "copy", R5, MB, "--updated-since", since, "--format", "json"]))
    for direction, whole in [("mysql -> redis", full), ("redis -> mysql", full_back)]:
        times = [seconds for seconds, _, _ in passes[direction]]
        summaries = [json.loads(out) for _, _, out in passes[direction]]
        read = ", ".join(str(r) for r in sorted({summary["sessions_read"] for summary in summaries}))
        written = ", ".join(str(w) for w in sorted({summary["sessions_written"] for summary in summaries}))
        median = statistics.median(times)
        print(f"{'converge pass (' + direction + ')':34s} {median:7.3f} s  {read:>6s} sessions read, {written} written  "
              f"{100 * median / whole:5.2f} % of the full copy  (runs {min(times):.3f}-{max(times):.3f} s)")


def shards(binary, source, whole_seconds=None, count=4, rounds=3):
    """4 shard tasks one after another vs one unsharded copy, MySQL -> Redis (default workers in both);
    `rounds` alternating rounds, the best of each side compared (as every copy of the bench is its best run)."""
    print(f"== {count} shard tasks one after another vs one unsharded copy (mysql -> redis, the same data; {rounds} alternating rounds)")
    wholes, totals = [], []
    for _ in range(rounds):
        target = redis(6)
        whole, rss_whole, _ = timed("unsharded", [binary, "copy", source, target, "--ttl-from", "now"])
        target = redis(6)
        parts = [timed(f"shard {i}/{count}", [binary, "copy", source, target, "--ttl-from", "now", "--shard", f"{i}/{count}"]) for i in range(count)]
        total = sum(s for s, _, _ in parts)
        wholes.append(whole)
        totals.append(total)
        print(f"{'unsharded copy':28s} {whole:7.2f} s  RSS {rss_whole:5.0f} MiB;  {count} shards, one after another: {total:7.2f} s in all "
              f"({', '.join(f'{s:.2f}' for s, _, _ in parts)}) = {total / whole:4.2f}x")
    print(f"{f'{count} shards against unsharded':28s} best {min(totals):.2f} s against best {min(wholes):.2f} s = {min(totals) / min(wholes):4.2f}x "
          f"(target <= 1.15x; rounds {', '.join(f'{t / w:.2f}x' for t, w in zip(totals, wholes))})")
    verified, _, out = timed("verify shards", [binary, "verify", source, target])
    print(f"{'verify mysql redis (sharded)':28s} {verified:7.2f} s  {out.strip().splitlines()[-1][:70]}")


def million(binary, sessions=1_000_000, small=10_000):
    """`sessions` sessions x 1 event: generate into MySQL, copy to Redis, verify; RSS against `small` sessions."""
    print(f"== {sessions} sessions x 1 event: mysql -> redis with the default workers, verified")
    peaks = {}
    for count, database, redis_db in [(small, "bench_small", 7), (sessions, "bench_million", 8)]:
        source = mysql(database)
        generated, _, _ = timed(f"generate {count}", [binary, "generate", source, "--sessions", str(count), "--events", "1", "--seed", "11"])
        events = int(sql("SELECT COUNT(*) FROM events", database).strip())
        data_mb = int(sql("SELECT SUM(LENGTH(event_data)) + (SELECT SUM(LENGTH(state)) FROM sessions) FROM events", database).strip()) / 1e6
        target = redis(redis_db)
        seconds, rss, _ = timed(f"copy {count}", [binary, "copy", source, target, "--ttl-from", "now"])
        peaks[count] = rss
        print(f"{f'mysql -> redis, {count} sessions':28s} {seconds:7.2f} s  {count / seconds:8.0f} sessions/s  {events / seconds:9.0f} events/s  "
              f"{data_mb / seconds:6.1f} MB/s  RSS {rss:5.0f} MiB  (generate {generated:.1f} s, {data_mb:.0f} MB)")
        verified, vrss, out = timed(f"verify {count}", [binary, "verify", source, target])
        print(f"{f'verify mysql redis, {events} events':28s} {verified:7.2f} s  {events / verified:9.0f} events/s  RSS {vrss:5.0f} MiB  "
              f"{out.strip().splitlines()[-1][:60]}")
        if count == sessions:
            print(f"verify of {events} events: {verified:.2f} s (target < 10 s)")
            sql(f"DROP DATABASE {database}")
    print(f"peak RSS: {peaks[sessions]:.0f} MiB at {sessions} sessions vs {peaks[small]:.0f} MiB at {small} "
          f"= {peaks[sessions] / peaks[small]:.2f}x (target <= 1.5x)")
