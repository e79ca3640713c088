#!/usr/bin/env python3
"""The bot for the fenced-write race tests: the REAL ADK appending events in a loop, with a ledger.

Runs in a venv of scripts/setup (venv-community: mysql, sqlite-dss, sqlite-sss, redis-community;
venv-adkredis: redis-adk-redis), started by the Swift tests of Tests/*DriverTests (FenceRace in
Sources/SessMigrateTestSupport), which meanwhile read and write the same store with sessmigrate's
fenced writes.

    adk_bot.py --kind KIND --url URL --app APP --user USER --sessions ID,ID,... --seconds T
               --ledger FILE [--new-every N]

KIND and URL: mysql (a mysql+aiomysql:// URL), sqlite-dss (sqlite+aiosqlite:////abs.db), sqlite-sss
(/abs.db), redis-adk-redis and redis-community (redis://host:port/db). ADK runs with TZ=UTC.

1. create_session for every id of --sessions, with initial state holding session, `user:` and
   `app:` keys; then the ledger line {"kind": "ready"}.
2. For T seconds, one worker (so each session's events are appended in timestamp order): pick a
   session at random, get_session, append_event a new event (text content and a state delta with a
   session key, a `user:` key and, one time in three, an `app:` key). Every N appends, create_session
   a new session `bot-new-K` (initial state with `user:` and `app:` keys) and add it to the pool.
   A StaleSessionError (ADK's own check: the session changed in storage since it was read) is
   recorded as `stale` and the message is handled again with a fresh get_session and a NEW event
   (new id, new timestamp), as a bot does. Anything else is recorded as `error` and the loop goes on.
3. The ledger line {"kind": "done", ...counts}.

Ledger: JSON lines, flushed: `ready`, `create` {session}, `event` {session, event}, `stale`
{session}, `error` {session, type, message}, `done`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
import uuid

os.environ["TZ"] = "UTC"
time.tzset()


def make_service(kind: str, url: str):
    if kind in ("mysql", "sqlite-dss"):
        from google.adk.sessions.database_session_service import DatabaseSessionService
        return DatabaseSessionService(url)
    if kind == "sqlite-sss":
        from google.adk.sessions.sqlite_session_service import SqliteSessionService
        return SqliteSessionService(url)
    if kind == "redis-community":
        from google.adk_community.sessions.redis_session_service import RedisSessionService
        return RedisSessionService(uri=url, expire=86400)
    if kind == "redis-adk-redis":
        from google_adk_redis.redis_memory_session_service import RedisMemorySessionService
        return RedisMemorySessionService(uri=url, expire=86400, share_cache=False)
    raise SystemExit(f"unknown kind {kind!r}")


class Ledger:
    def __init__(self, path: str):
        self.file = open(path, "a", encoding="utf-8")

    def record(self, kind: str, **fields):
        self.file.write(json.dumps({"kind": kind, "t": time.time(), **fields}) + "\n")
        self.file.flush()


def make_event(number: int):
    from google.adk.events.event import Event
    from google.adk.events.event_actions import EventActions
    from google.genai import types
    delta = {"n": number, "user:last": number}
    if number % 3 == 0:
        delta["app:last"] = number
    return Event(
        id=str(uuid.uuid4()), invocation_id=f"inv-{number}", author="user",
        content=types.Content(role="user", parts=[types.Part(text=f"message {number}")]),
        actions=EventActions(state_delta=delta))


async def run(args) -> int:
    from google.adk.errors._stale_session_error import StaleSessionError
    ledger = Ledger(args.ledger)
    service = make_service(args.kind, args.url)
    pool = [s for s in args.sessions.split(",") if s]
    counts = {"events": 0, "stale": 0, "errors": 0, "created": 0}
    for sid in pool:
        await service.create_session(
            app_name=args.app, user_id=args.user, session_id=sid,
            state={"n": 0, "user:first": sid, "app:first": sid})
        ledger.record("create", session=sid)
    ledger.record("ready")
    rng = random.Random(args.seed)
    deadline = time.time() + args.seconds
    number = 0
    new_sessions = 0
    while time.time() < deadline:
        sid = rng.choice(pool)
        number += 1
        try:
            if args.new_every and number % args.new_every == 0:
                new_sessions += 1
                sid = f"bot-new-{new_sessions}"
                await service.create_session(
                    app_name=args.app, user_id=args.user, session_id=sid,
                    state={"n": 0, "user:created": sid, "app:created": sid})
                pool.append(sid)
                counts["created"] += 1
                ledger.record("create", session=sid)
                continue
            while True:
                session = await service.get_session(app_name=args.app, user_id=args.user, session_id=sid)
                if session is None:
                    raise RuntimeError(f"session {sid} not found")
                event = make_event(number)
                try:
                    await service.append_event(session, event)
                except StaleSessionError:
                    counts["stale"] += 1
                    ledger.record("stale", session=sid)
                    continue
                counts["events"] += 1
                ledger.record("event", session=sid, event=event.id)
                break
        except Exception as error:  # anything but ADK's own stale check is a failure of the test
            counts["errors"] += 1
            ledger.record("error", session=sid, type=type(error).__name__, message=str(error)[:500])
    ledger.record("done", **counts)
    close = getattr(service, "close", None)
    if close is not None:
        await close()
    cache = getattr(service, "cache", None)
    if cache is not None:
        await cache.aclose()
    return 0


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--sessions", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--ledger", required=True)
    parser.add_argument("--new-every", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
