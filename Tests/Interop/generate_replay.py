#!/usr/bin/env python3
"""Generate-and-replay suite: does the REAL ADK load every session `sessmigrate
generate` writes, exactly as ADK would have written it, and does `verify --replay`
pass every store the real ADK writes and catch a tampered one?

  python3 Tests/Interop/generate_replay.py --sessmigrate .build/debug/sessmigrate

Needs SESSMIGRATE_REDIS_URL and SESSMIGRATE_MYSQL_URL (scripts/lib/servers.sh) and the
venvs venv-community and venv-adkredis of scripts/setup. Stdlib only: ADK runs in a
venv python (adk_sessions.py). Store kinds (as in run.py): mysql, sqlite-sss,
sqlite-dss, redis-community, redis-adk-redis.

generate (per kind): a fresh store, then `generate --sessions N --events M --seed S`
for each seed of --seeds into the same store (the seeds share app and user names, so
their app and user state merge). Checks:
  * ADK loads every session: list_sessions per (app, user) lists exactly the
    stored ids and get_session of each one succeeds (adk_sessions.py `load`
    records every exception, so failures are counted session by session);
  * MySQL and SQLite (DatabaseSessionService): each stored `event_data` is
    byte for byte json.dumps(event.model_dump(mode="json", exclude_none=True)) of
    the event ADK read back, and `sessions.state` is json.dumps of the session's
    state as ADK returns it: what ADK itself writes;
  * every kind's ADK read equals the MySQL one (compare.py);
  * `verify --replay` says CONSISTENT.
replay (per kind): ADK writes adk_sessions.py's SCENARIO through its API
(create_session with app:/user:/temp: keys, several sessions of a user sharing
user: keys, appends with state deltas, appends out of timestamp order, a deleted
session). `verify --replay` must say CONSISTENT; after one session-scoped stored
value is edited it must report exactly that session and key; after a user: key an
event set is deleted from the stored user state, exactly that user and key.
Prints `PASS ...` / `FAIL ...` per check and ends with `N passed, N failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
from run import _fast_tmp, _indent, _tail  # noqa: E402

KINDS = ["mysql", "sqlite-sss", "sqlite-dss", "redis-community", "redis-adk-redis"]
DSS_KINDS = ("mysql", "sqlite-dss")
VENV_OF = {"redis-adk-redis": "adkredis"}
REDIS_DB = {"redis-community": 0, "redis-adk-redis": 1}
APP = "replay_app"


class Suite:
  def __init__(self, args):
    self.args = args
    self.passed = self.failed = 0
    cache = args.cache or os.environ.get("SESSMIGRATE_CACHE") or os.path.expanduser(
        "~/.cache/sessmigrate")
    self.python = {v: os.path.join(cache, f"venv-{v}", "bin", "python")
                   for v in ("community", "adkredis")}
    self.work = tempfile.mkdtemp(prefix="sessmigrate-genreplay-", dir=_fast_tmp())
    self.redis = os.environ.get("SESSMIGRATE_REDIS_URL", "").rstrip("/")
    self.mysql = os.environ.get("SESSMIGRATE_MYSQL_URL", "")

  def result(self, ok: bool, name: str, detail: str = "") -> bool:
    if ok:
      self.passed += 1
    else:
      self.failed += 1
    print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok

  # ------------------------------------------------------------------ plumbing
  def address(self, kind: str, part: str) -> str:
    if kind == "mysql":
      p = urlsplit(self.mysql)
      return f"{p.scheme}://{p.netloc}/smt_genreplay_{part}"
    if kind.startswith("redis"):
      db = self.args.redis_db_base + REDIS_DB[kind] + (2 if part == "replay" else 0)
      layout = "community" if kind == "redis-community" else "adk-redis"
      return f"{self.redis}/{db}?layout={layout}"
    path = os.path.join(self.work, f"{part}-{kind}.db")
    return "sqlite:///" + path + ("?layout=database" if kind == "sqlite-dss" else "")

  def venv(self, kind: str, argv: list[str], venv: str | None = None) -> str:
    py = self.python[venv or VENV_OF.get(kind, "community")]
    env = dict(os.environ, TZ="UTC", PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([py, *argv], capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
      raise RuntimeError(f"{os.path.basename(argv[0])} {argv[1]} failed: {_tail(r.stderr)}")
    return r.stdout

  def reset(self, kind: str, url: str) -> None:
    self.venv(kind, [os.path.join(HERE, "store_tool.py"), "reset", kind, url], venv="community")

  def adk(self, cmd: str, kind: str, url: str, *extra: str) -> dict | None:
    out = os.path.join(self.work, f"{cmd}-{kind}.json")
    self.venv(kind, [os.path.join(HERE, "adk_sessions.py"), cmd, "--store", kind, "--url", url,
                     "--out", out, *extra], venv="community" if cmd == "tamper" else None)
    if cmd == "tamper":
      return None
    with open(out, encoding="utf-8") as f:
      return json.load(f)

  def sessmigrate(self, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([self.args.sessmigrate, *argv], capture_output=True, text=True,
                          timeout=1800, stdin=subprocess.DEVNULL)

  # ------------------------------------------------------------------ generate
  def generate_checks(self, kinds: list[str]) -> None:
    seeds = [int(s) for s in self.args.seeds.split(",")]
    expected = self.args.sessions * len(seeds)
    reads: dict[str, list[dict]] = {}
    for kind in kinds:
      url = self.address(kind, "gen")
      name = f"{kind}: ADK loads all {expected} generated sessions (seeds {self.args.seeds})"
      try:
        self.reset(kind, url)
        t0 = time.monotonic()
        for seed in seeds:
          r = self.sessmigrate("generate", url, "--sessions", str(self.args.sessions),
                               "--events", str(self.args.events), "--seed", str(seed))
          if r.returncode != 0:
            raise RuntimeError(f"generate --seed {seed}: exit {r.returncode}: {_tail(r.stderr)}")
        t1 = time.monotonic()
        loaded = self.adk("load", kind, url)
      except Exception as e:  # noqa: BLE001
        self.result(False, name, str(e))
        continue
      errors, sessions = loaded["errors"], loaded["sessions"]
      failing = {(e["app"], e["user"], e["id"]) for e in errors if e["id"]}
      ok = not errors and len(sessions) == expected and loaded["raw_ids"] == expected
      detail = (f"{len(sessions)} sessions, {sum(len(s['events']) for s in sessions)} events "
                f"(generate {t1 - t0:.1f} s, ADK load {time.monotonic() - t1:.1f} s)")
      if not ok:
        calls = sorted({e["call"] for e in errors})
        detail = (f"{len(failing)} of {loaded['raw_ids']} stored sessions fail in get_session, "
                  f"{len(errors) - len(failing)} list_sessions calls fail ({', '.join(calls)}), "
                  f"{len(sessions)} loaded of {expected} generated; first errors:\n"
                  + _indent("\n".join(f"{e['call']} {e['app']}/{e['user']}/{e['id']}: {e['error']}"
                                      for e in errors[:3])))
      if self.result(ok, name, detail):
        reads[kind] = sessions
      if kind in DSS_KINDS and kind in reads:
        self.written_as_adk_writes(kind, url, sessions)
      self.replay_clean(f"{kind}: verify --replay of the generated store", url)
    base = "mysql" if "mysql" in reads else next(iter(reads), None)
    for kind, sessions in reads.items():
      if kind != base:
        problems = compare.compare(reads[base], sessions)
        self.result(not problems, f"{kind}: ADK reads the generated sessions as from {base}",
                    f"{len(problems)} differences; first:\n" + _indent("\n".join(problems[:3]))
                    if problems else "")

  def written_as_adk_writes(self, kind: str, url: str, sessions: list[dict]) -> None:
    """event_data and sessions.state are the bytes ADK writes for what it read."""
    raw_events, raw_states = self.raw_dss(kind, url)
    problems = []
    for s in sessions:
      key = (s["app"], s["user"], s["id"])
      scoped = {k: v for k, v in s["state"].items() if not k.startswith(("app:", "user:"))}
      if raw_states.get(key) != json.dumps(scoped):
        problems.append(f"{'/'.join(key)}: sessions.state {raw_states.get(key)!r:.200}, "
                        f"ADK would write {json.dumps(scoped)!r:.200}")
      for event in s["events"]:
        stored, written = raw_events.get(key + (event["id"],)), json.dumps(event)
        if stored != written:
          problems.append(f"{'/'.join(key)} event {event['id']}:\n  stored {stored}\n"
                          f"  ADK    {written}")
    self.result(not problems, f"{kind}: every stored event_data and session state is what ADK writes",
                f"{len(problems)} differ; first:\n" + _indent("\n".join(problems[:2]))
                if problems else f"{sum(len(s['events']) for s in sessions)} events")

  def raw_dss(self, kind: str, url: str) -> tuple[dict, dict]:
    events_sql = "SELECT app_name, user_id, session_id, id, event_data FROM events"
    states_sql = "SELECT app_name, user_id, id, state FROM sessions"
    if kind == "sqlite-dss":
      conn = sqlite3.connect(f"file:{urlsplit(url).path[1:]}?mode=ro", uri=True)
      events, states = conn.execute(events_sql).fetchall(), conn.execute(states_sql).fetchall()
      conn.close()
    else:
      script = ("import json,sys; sys.path.insert(0, sys.argv[1]); from store_tool import "
                "_mysql_connect as c; k=c(sys.argv[2]).cursor(); out=[]\n"
                f"for q in ({events_sql!r}, {states_sql!r}):\n"
                "  k.execute(q); out.append([list(r) for r in k.fetchall()])\n"
                "print(json.dumps(out))")
      events, states = json.loads(self.venv(kind, ["-c", script, HERE, url]))
    return ({tuple(r[:4]): r[4] for r in events}, {tuple(r[:3]): r[3] for r in states})

  # ------------------------------------------------------------------ replay
  def replay_clean(self, name: str, url: str) -> bool:
    r = self.sessmigrate("verify", "--replay", url)
    ok = r.returncode == 0 and "verify --replay: CONSISTENT" in r.stdout
    return self.result(ok, name, _tail(r.stdout, 1) if ok else
                       f"exit {r.returncode}\n{_indent(_tail(r.stdout + r.stderr))}")

  def replay_reports(self, name: str, url: str, expected: str) -> None:
    r = self.sessmigrate("verify", "--replay", url)
    lines = [x for x in r.stdout.splitlines() if x.startswith("replay mismatch:")]
    ok = (r.returncode == 1 and "verify --replay: INCONSISTENT" in r.stdout and len(lines) == 1
          and re.match(re.escape(expected) + r"( \(|$)", lines[0]) is not None)
    self.result(ok, name, lines[0] if ok else
                f"expected one line `{expected} (…)`, exit 1; got exit {r.returncode}\n"
                + _indent(_tail(r.stdout + r.stderr)))

  def replay_checks(self, kinds: list[str]) -> None:
    for kind in kinds:
      url = self.address(kind, "replay")
      try:
        self.reset(kind, url)
        written = self.adk("scenario", kind, url)
        loaded = self.adk("load", kind, url)
        if loaded["errors"] or len(loaded["sessions"]) != len(written["sessions"]):
          raise RuntimeError(f"ADK reads back {len(loaded['sessions'])} sessions: {loaded['errors'][:2]}")
      except Exception as e:  # noqa: BLE001
        self.result(False, f"{kind}: ADK writes the replay scenario", str(e))
        continue
      self.replay_clean(f"{kind}: verify --replay of a store the real ADK wrote", url)
      try:
        self.adk("tamper", kind, url, "--session", f"{APP}/u1/rs-1", "--key", "count", "--value", "99")
        self.replay_reports(f"{kind}: verify --replay reports an edited session value", url,
                            f"replay mismatch: session {APP}/u1/rs-1: count")
        self.reset(kind, url)
        self.adk("scenario", kind, url)
        self.adk("tamper", kind, url, "--user", f"{APP}/u1", "--key", "lang", "--delete")
        self.replay_reports(f"{kind}: verify --replay reports a user key an event set, deleted", url,
                            f"replay mismatch: user {APP}/u1: lang")
      except Exception as e:  # noqa: BLE001
        self.result(False, f"{kind}: tampering", str(e))

  # ------------------------------------------------------------------ main
  def run(self) -> int:
    kinds = [k for k in (self.args.kinds or ",".join(KINDS)).split(",") if k]
    missing = [p for p in self.python.values() if not os.path.exists(p)]
    if missing or not self.redis or not self.mysql or not os.access(self.args.sessmigrate, os.X_OK):
      self.result(False, "setup", f"venvs missing {missing}, or SESSMIGRATE_REDIS_URL / "
                  "SESSMIGRATE_MYSQL_URL unset, or no sessmigrate binary")
      return self.finish()
    t0 = time.monotonic()
    if self.args.part in ("all", "generate"):
      self.generate_checks(kinds)
    if self.args.part in ("all", "replay"):
      self.replay_checks(kinds)
    print(f"time: {time.monotonic() - t0:.1f} s", flush=True)
    return self.finish()

  def finish(self) -> int:
    if self.failed == 0 and not self.args.keep:
      shutil.rmtree(self.work, ignore_errors=True)
    else:
      print(f"work files kept in {self.work}", flush=True)
    print(f"{self.passed} passed, {self.failed} failed", flush=True)
    return 0 if self.failed == 0 else 1


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--sessmigrate", required=True, help="path of the sessmigrate binary")
  p.add_argument("--kinds", help=f"comma-separated store kinds (default {','.join(KINDS)})")
  p.add_argument("--part", choices=("all", "generate", "replay"), default="all")
  p.add_argument("--seeds", default="1,2,20261204", help="generate seeds (default 1,2,20261204)")
  p.add_argument("--sessions", type=int, default=700, help="sessions per seed (default 700)")
  p.add_argument("--events", type=int, default=8, help="events per session (default 8)")
  p.add_argument("--redis-db-base", type=int, default=56,
                 help="first of the 4 Redis DBs used (default 56: DBs 56-59)")
  p.add_argument("--cache", help="directory of the venvs (default $SESSMIGRATE_CACHE or "
                 "~/.cache/sessmigrate)")
  p.add_argument("--keep", action="store_true", help="keep the work directory")
  return Suite(p.parse_args()).run()


if __name__ == "__main__":
  sys.exit(main())
