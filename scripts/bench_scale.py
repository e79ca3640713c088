"""Scale lines of the benchmark (scripts/bench.py calls these; nothing asserted, figures printed):

- shards: 4 shard tasks (`--shard i/4`) run one after another against one unsharded copy of the same
  MySQL data, into Redis: the sum of the shards' times over the whole copy's is the shard waste;
- million: N sessions (default 1,000,000) of one small event each generated into MySQL, copied to Redis
  with the default workers and verified; the same shape at 10,000 sessions for the peak RSS ratio;
  `verify` of the N events timed on its own.
"""
from benchlib import mysql, redis, sql, timed


def shards(binary, source, whole_seconds=None, count=4):
    """4 shard tasks one after another vs one unsharded copy, MySQL -> Redis (default workers in both)."""
    print(f"== {count} shard tasks one after another vs one unsharded copy (mysql -> redis, the same data)")
    target = redis(6)
    whole, rss_whole, _ = timed("unsharded", [binary, "copy", source, target, "--ttl-from", "now"])
    target = redis(6)
    parts = [timed(f"shard {i}/{count}", [binary, "copy", source, target, "--ttl-from", "now", "--shard", f"{i}/{count}"]) for i in range(count)]
    total = sum(s for s, _, _ in parts)
    print(f"{'unsharded copy':28s} {whole:7.2f} s  RSS {rss_whole:5.0f} MiB")
    print(f"{f'{count} shards, one after another':28s} {total:7.2f} s in all ({', '.join(f'{s:.2f}' for s, _, _ in parts)}) "
          f"= {total / whole:4.2f}x the unsharded copy (target <= 1.15x)")
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
