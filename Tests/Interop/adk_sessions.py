#!/usr/bin/env python3
"""Loads every session of a store through the REAL ADK, writes the replay scenario
through it, and tampers with stored state (runs inside an interop virtualenv, as
adk_io.py does; used by generate_replay.py).

  adk_sessions.py load     --store KIND --url URL --out FILE.json
  adk_sessions.py scenario --store KIND --url URL --out FILE.json
  adk_sessions.py tamper   --store KIND --url URL --session APP/USER/ID --key K --value JSON
  adk_sessions.py tamper   --store KIND --url URL --user APP/USER --key K --delete

KIND and URL as in adk_io.py.

load: finds every (app, user) pair and session id in the raw store (SQL tables;
Redis `app::{app}:{user}` sets or `session:{app}:{user}:{id}` keys, names without
`:`), then asks ADK: list_sessions per pair and get_session per session. Every
exception is caught and recorded per pair or session, so a store ADK cannot read
is reported session by session instead of stopping at the first. Writes
{"sessions": [{app, user, id, state, events, last_update_time}], "errors":
[{app, user, id, call, error}], "raw_ids": N, "listed_ids": N}; events are
model_dump(mode="json", exclude_none=True), as adk_io.py `read` writes them.

scenario: what a bot does through ADK's API (see SCENARIO below): sessions created
with initial state holding app:, user: and temp: keys, several sessions per user
sharing user: keys, appends with state deltas, two appends whose timestamps are out
of append order (two concurrent requests), and a session deleted after writing a
user: key (a Redis session that expired does the same). Writes {"sessions":
[[app, user, id], ...]} of the sessions left.

tamper: edits the raw stored state, as a foreign writer would: sets session-scoped
key K of one session to a JSON value, or deletes user-scoped key K of one user.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import sqlite3
import sys
import time

os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adk_io  # noqa: E402
from store_tool import _mysql_connect, _redis  # noqa: E402


# ---------------------------------------------------------------------- raw store access
def raw_sessions(kind: str, url: str) -> list[tuple[str, str, str]]:
  """Every (app, user, id) the raw store holds."""
  if kind == "mysql":
    conn = _mysql_connect(url)
    with conn.cursor() as c:
      c.execute("SELECT app_name, user_id, id FROM sessions")
      rows = [tuple(r) for r in c.fetchall()]
    conn.close()
    return sorted(rows)
  if kind.startswith("sqlite"):
    conn = sqlite3.connect(f"file:{adk_io._sqlite_path(url)}?mode=ro", uri=True)
    rows = [tuple(r) for r in conn.execute("SELECT app_name, user_id, id FROM sessions")]
    conn.close()
    return sorted(rows)
  r, _ = _redis(url)
  out = []
  if kind == "redis-community":
    for key in r.scan_iter(match="app::*", count=1000):
      app, user = key.decode()[len("app::"):].split(":", 1)
      out += [(app, user, m.decode()) for m in r.smembers(key)]
  else:
    for key in r.scan_iter(match="session:*", count=1000):
      app, user, sid = key.decode()[len("session:"):].split(":", 2)
      out.append((app, user, sid))
  r.close()
  return sorted(out)


def _error(e: BaseException) -> str:
  text = f"{type(e).__name__}: {e}"
  return " ".join(text.split())[:600]


async def load(kind: str, url: str) -> dict:
  raw = raw_sessions(kind, url)
  by_pair: dict[tuple[str, str], set[str]] = {}
  for app, user, sid in raw:
    by_pair.setdefault((app, user), set()).add(sid)
  service = adk_io.make_service(kind, url)
  sessions, errors, listed_count = [], [], 0
  try:
    for (app, user), ids in sorted(by_pair.items()):
      try:
        listed = await service.list_sessions(app_name=app, user_id=user)
        listed_ids = {s.id for s in listed.sessions}
        listed_count += len(listed_ids)
        if listed_ids != ids:
          errors.append({"app": app, "user": user, "id": None, "call": "list_sessions",
                         "error": f"lists {len(listed_ids)} sessions, the store holds {len(ids)}"})
      except Exception as e:  # noqa: BLE001
        errors.append({"app": app, "user": user, "id": None, "call": "list_sessions",
                       "error": _error(e)})
      for sid in sorted(ids):
        try:
          full = await service.get_session(app_name=app, user_id=user, session_id=sid)
          if full is None:
            raise RuntimeError("get_session returned None")
          sessions.append({
              "app": full.app_name, "user": full.user_id, "id": full.id, "state": full.state,
              "events": [e.model_dump(mode="json", exclude_none=True) for e in full.events],
              "last_update_time": full.last_update_time})
        except Exception as e:  # noqa: BLE001
          errors.append({"app": app, "user": user, "id": sid, "call": "get_session",
                         "error": _error(e)})
  finally:
    await adk_io.close_service(service)
  sessions.sort(key=lambda s: (s["app"], s["user"], s["id"]))
  return {"sessions": sessions, "errors": errors, "raw_ids": len(raw), "listed_ids": listed_count}


# ---------------------------------------------------------------------- the replay scenario
# (user, id, initial state, [state deltas appended one by one]). Ids are unique across
# users: google-adk-community keys sessions by id alone.
SCENARIO = [
    ("u1", "rs-1", {"count": 0, "topic": "start", "app:theme": "dark", "user:name": "Ann",
                    "temp:scratch": 1},
     [{"count": 1, "user:lang": "en", "app:model": "m1", "temp:step": "a"},
      {"count": 2, "user:name": "Anna", "nested": {"a": [1, 2.5, None]},
       # Values ADK stores otherwise than event_data holds them (ReplayCheck's
       # StoredStateValue): bytes, a string with NUL; and values it converts alike.
       "raw": b"xy", "deep": {"b": "\u00e9".encode()}, "cut": "ab\x00cd",
       "when": datetime.datetime(2024, 1, 1, 12), "pair": (1, 2)}]),
    # Created after u1's events: its user:name overwrites "Anna" (except in the community
    # layout, where create_session keeps it private to this session).
    ("u1", "rs-2", {"mood": "ok", "user:name": "Annie", "app:theme": "light", "temp:t": True},
     [{"user:lang": "fr", "step": "a", "temp:x": 5}]),
    ("u1", "rs-3", {"user:lang": "de", "app:banner": "hi"}, []),
    ("u2", "rs-4", {"user:name": "Bob", "app:theme": "blue", "k": None},
     [{"app:model": "m2", "user:name": "Bobby"}, {"count": 10, "k": "v"}]),
]
DELETED = ("u2", "rs-gone", {"user:plan": "free"}, [{"user:name": "Robert", "user:plan": "pro"}])
APP = "replay_app"


async def scenario(kind: str, url: str) -> dict:
  from google.adk.events.event import Event
  from google.adk.events.event_actions import EventActions

  def event(delta: dict, timestamp: float | None = None) -> Event:
    extra = {} if timestamp is None else {"timestamp": timestamp}
    return Event(author="agent", invocation_id="e-" + str(time.time_ns()),
                 actions=EventActions(state_delta=dict(delta)), **extra)

  service = adk_io.make_service(kind, url)
  try:
    for user, sid, state, deltas in SCENARIO + [DELETED]:
      session = await service.create_session(app_name=APP, user_id=user, state=dict(state),
                                             session_id=sid)
      for delta in deltas:
        session = await service.get_session(app_name=APP, user_id=user, session_id=sid)
        await service.append_event(session, event(delta))
    await service.delete_session(app_name=APP, user_id=DELETED[0], session_id=DELETED[1])
    # Two concurrent requests: the event stamped first is appended last, so the stored
    # app:model is the earlier-stamped "m3".
    early = time.time()
    a = await service.get_session(app_name=APP, user_id="u1", session_id="rs-2")
    b = await service.get_session(app_name=APP, user_id="u2", session_id="rs-4")
    await service.append_event(b, event({"app:model": "m4", "seen": 1}, early + 0.5))
    await service.append_event(a, event({"app:model": "m3", "seen": 1}, early))
  finally:
    await adk_io.close_service(service)
  return {"sessions": [[APP, u, s] for u, s, _, _ in SCENARIO]}


# ---------------------------------------------------------------------- tampering
def _redis_session_key(kind: str, app: str, user: str, sid: str) -> str:
  return f"session:{sid}" if kind == "redis-community" else f"session:{app}:{user}:{sid}"


def tamper_session(kind: str, url: str, app: str, user: str, sid: str, key: str, value) -> None:
  if kind.startswith("redis"):
    r, _ = _redis(url)
    name = _redis_session_key(kind, app, user, sid)
    blob = json.loads(r.get(name))
    blob["state"][key] = value
    separators = (",", ":") if kind == "redis-community" else (", ", ": ")
    r.set(name, json.dumps(blob, separators=separators, ensure_ascii=False).encode(), keepttl=True)
    r.close()
    return
  where = "app_name = ? AND user_id = ? AND id = ?"
  select, update = f"SELECT state FROM sessions WHERE {where}", \
      f"UPDATE sessions SET state = ? WHERE {where}"
  if kind == "mysql":
    conn = _mysql_connect(url)
    with conn.cursor() as c:
      c.execute(select.replace("?", "%s"), (app, user, sid))
      state = json.loads(c.fetchone()[0])
      state[key] = value
      c.execute(update.replace("?", "%s"), (json.dumps(state), app, user, sid))
    conn.close()
    return
  conn = sqlite3.connect(adk_io._sqlite_path(url))
  state = json.loads(conn.execute(select, (app, user, sid)).fetchone()[0])
  state[key] = value
  conn.execute(update, (json.dumps(state), app, user, sid))
  conn.commit()
  conn.close()


def tamper_user(kind: str, url: str, app: str, user: str, key: str) -> None:
  if kind.startswith("redis"):
    r, _ = _redis(url)
    if not r.hdel(f"user:{app}:{user}", key):
      raise SystemExit(f"user:{app}:{user} has no field {key!r}")
    r.close()
    return
  where = "app_name = ? AND user_id = ?"
  select, update = f"SELECT state FROM user_states WHERE {where}", \
      f"UPDATE user_states SET state = ? WHERE {where}"
  if kind == "mysql":
    conn = _mysql_connect(url)
    with conn.cursor() as c:
      c.execute(select.replace("?", "%s"), (app, user))
      state = json.loads(c.fetchone()[0])
      del state[key]
      c.execute(update.replace("?", "%s"), (json.dumps(state), app, user))
    conn.close()
    return
  conn = sqlite3.connect(adk_io._sqlite_path(url))
  state = json.loads(conn.execute(select, (app, user)).fetchone()[0])
  del state[key]
  conn.execute(update, (json.dumps(state), app, user))
  conn.commit()
  conn.close()


def main() -> None:
  logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("cmd", choices=("load", "scenario", "tamper"))
  p.add_argument("--store", required=True, choices=adk_io.KINDS)
  p.add_argument("--url", required=True)
  p.add_argument("--out", default="-")
  p.add_argument("--session", help="APP/USER/ID (tamper)")
  p.add_argument("--user", help="APP/USER (tamper)")
  p.add_argument("--key")
  p.add_argument("--value", help="JSON (tamper --session)")
  p.add_argument("--delete", action="store_true", help="delete the user key (tamper --user)")
  args = p.parse_args()
  if args.cmd == "tamper":
    if args.session:
      tamper_session(args.store, args.url, *args.session.split("/", 2), args.key,
                     json.loads(args.value))
    else:
      tamper_user(args.store, args.url, *args.user.split("/", 1), args.key)
    return
  result = asyncio.run(load(args.store, args.url) if args.cmd == "load"
                       else scenario(args.store, args.url))
  text = json.dumps(result, ensure_ascii=False)
  if args.out == "-":
    sys.stdout.write(text + "\n")
  else:
    with open(args.out, "w", encoding="utf-8") as f:
      f.write(text + "\n")


if __name__ == "__main__":
  main()
