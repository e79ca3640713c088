#!/usr/bin/env python3
"""A bot revision writing through the real ADK, as a Slack bot does, with a ledger of every committed write.

Runs in ~/.cache/sessmigrate/venv-community. One process is one bot revision with a FIXED store (the
store its SESSION_BACKEND names, opened from the bot's .env exactly as the bot opens it): the "old
revision" keeps writing to the old store until it is told to stop, the "new revision" (started by
flip.py) writes to the new store. Two processes with fixed stores model a Cloud Run rollout faithfully:
an instance never changes store while it runs; old and new instances serve side by side for a while.

    writer.py --env-file ENV --backend cloudsql|redis --name NAME --ledger FILE --control DIR
              [--seed S] [--pool N] [--seed-events M] [--live] [--rate R] [--new-every SECONDS] [--hot K]
              [--ready-stop OTHER:SECONDS] [--max-seconds T] [--wait-for FILE]

Sessions: a pool of threads `th-0000`… (app `slackbot`, user `U0k` by thread number). The seed phase
get-or-creates the first N threads and appends M events to each, then writes DIR/seeded-NAME. The live
phase (--live) appends at R events per second: half of the time to one of the K most recent threads
(double-texting), else to any thread; a new thread joins the pool every --new-every seconds counted from
DIR/t0, so all writers of a scenario agree on the pool. Each iteration is what the bot does for one
message: get_session, then append_event; a thread get_session does not find is created with the same id
(the bot creating the thread its store lacks), with initial state holding session, `user:` and `app:`
keys. Each event has text content and a state delta with session, `user:` and (one in four) `app:` keys.

ADK's own optimistic-concurrency checks are expected while sessmigrate writes the same store: a
StaleSessionError from append_event ("The session has been modified in storage since it was loaded")
is recorded as `stale` (expected) and the message is processed again (re-read, same event id); an
AlreadyExistsError from create_session (another writer created the thread between our get and create)
is recorded as `exists` (expected) and the thread re-read. Anything else is an `error`.

Stopping: DIR/stop-NAME holds an epoch; the writer stops at the first iteration at or after it.
--ready-stop OTHER:W writes DIR/stop-OTHER = now + W once this writer is connected and about to write:
the rollout window (old revision still serving for W seconds after the new one is up).

Ledger (JSON lines, each flushed and fsync'd before the next write): `create`, `event` (session key,
event id, author, text, timestamp, state delta), `stale`, `exists`, `error`, `marker`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adkstores  # noqa: E402

WORDS = ["deploy", "rollback", "Zoë", "naïve", "日本語", "✓", "error rate", "p99", "on-call", "🚀", "queue", "retry"]


class Ledger:
    def __init__(self, path: str, name: str):
        self.file = open(path, "a", encoding="utf-8")
        self.name = name

    def record(self, kind: str, **fields):
        line = json.dumps({"w": self.name, "kind": kind, "t": time.time(), **fields}, ensure_ascii=False)
        self.file.write(line + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())


def read_epoch(path: str) -> float | None:
    try:
        with open(path) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None


def write_epoch(path: str, value: float):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(repr(value))
    os.replace(tmp, path)


class Writer:
    def __init__(self, args):
        self.args = args
        self.env = adkstores.read_env(args.env_file)
        self.service = adkstores.make_service(self.env, args.backend)
        self.ledger = Ledger(args.ledger, args.name)
        self.random = random.Random(f"{args.seed}-{args.name}")
        self.seq = 0

    def pool_size(self) -> int:
        t0 = read_epoch(os.path.join(self.args.control, "t0"))
        if t0 is None or self.args.new_every <= 0:
            return self.args.pool
        return self.args.pool + max(0, int((time.time() - t0) / self.args.new_every))

    def pick(self) -> int:
        size = self.pool_size()
        if self.random.random() < 0.5:
            return self.random.randrange(max(0, size - self.args.hot), size)
        return self.random.randrange(size)

    @staticmethod
    def key(k: int) -> tuple[str, str, str]:
        return adkstores.APP, f"U{k % 7:02d}", f"th-{k:04d}"

    def initial_state(self, sid: str) -> dict:
        return {"thread_ts": sid, "channel": "C0LIVE", f"opened_by_{self.args.name}": True,
                "user:tz": "Europe/Paris", "app:bot_version": f"rev-{self.args.name}"}

    def make_event(self, eid: str, sid: str, user: str, author: str, text: str):
        from google.adk.events.event import Event
        from google.adk.events.event_actions import EventActions
        from google.genai import types
        delta = {"turns": self.seq, f"last_{self.args.name}": eid, "user:last_thread": sid}
        if self.seq % 4 == 0:
            delta["app:last_event"] = eid
        return Event(id=eid, invocation_id=f"inv-{eid}", author=author, timestamp=time.time(),
                     content=types.Content(role="user" if author == "user" else "model", parts=[types.Part(text=text)]),
                     actions=EventActions(state_delta=delta))

    async def message(self, k: int, phase: str):
        """One Slack message: get (or create) the thread's session, append one event; retry on ADK's checks."""
        from google.adk.errors._stale_session_error import StaleSessionError
        from google.adk.errors.already_exists_error import AlreadyExistsError
        app, user, sid = self.key(k)
        self.seq += 1
        eid = f"{self.args.name}-{self.seq:05d}-{self.random.getrandbits(24):06x}"
        author = "user" if self.seq % 2 else "slackbot"
        text = f"{self.args.name} #{self.seq} in {sid}: " + " ".join(self.random.choice(WORDS) for _ in range(4))
        where = {"phase": phase, "app": app, "user": user, "session": sid}
        for attempt in range(8):
            step = "get_session"
            try:
                session = await self.service.get_session(app_name=app, user_id=user, session_id=sid)
                if session is None:
                    step = "create_session"
                    state = self.initial_state(sid)
                    try:
                        session = await self.service.create_session(app_name=app, user_id=user, state=state, session_id=sid)
                    except AlreadyExistsError as error:
                        self.ledger.record("exists", **where, detail=str(error)[:200])
                        continue
                    self.ledger.record("create", **where, state=state)
                step = "append_event"
                event = self.make_event(eid, sid, user, author, text)
                try:
                    await self.service.append_event(session, event)
                except StaleSessionError as error:
                    self.ledger.record("stale", **where, event_id=eid, attempt=attempt, detail=str(error)[:200])
                    continue
                delta = json.loads(json.dumps(event.actions.state_delta))
                self.ledger.record("event", **where, event_id=eid, author=author, text=text,
                                   timestamp=event.timestamp, state_delta=delta, attempt=attempt)
                return
            except Exception as error:  # noqa: BLE001 - every other failure is a finding, recorded
                self.ledger.record("error", **where, event_id=eid, step=step, type=type(error).__name__,
                                   detail=str(error)[:500])
                return
        self.ledger.record("error", **where, event_id=eid, step="append_event", type="GaveUp",
                           detail="8 stale-session retries in a row")

    def should_stop(self, started: float) -> bool:
        deadline = read_epoch(os.path.join(self.args.control, f"stop-{self.args.name}"))
        return (deadline is not None and time.time() >= deadline) or time.time() - started > self.args.max_seconds

    async def run(self):
        started = time.time()
        control = self.args.control
        if self.args.ready_stop:
            other, seconds = self.args.ready_stop.split(":")
            await self.service.get_session(app_name=adkstores.APP, user_id="U00", session_id="th-warmup")  # connect
            now = time.time()
            write_epoch(os.path.join(control, f"ready-{self.args.name}"), now)
            write_epoch(os.path.join(control, f"stop-{other}"), now + float(seconds))
        if self.args.wait_for:  # imported and ready; the harness says when the revision starts serving
            while not os.path.exists(self.args.wait_for):
                await asyncio.sleep(0.05)
        self.ledger.record("marker", what="start", backend=self.args.backend, pid=os.getpid())
        for k in range(self.args.pool if self.args.seed_events else 0):
            for _ in range(self.args.seed_events):
                await self.message(k, "seed")
        self.ledger.record("marker", what="seeded")
        write_epoch(os.path.join(control, f"seeded-{self.args.name}"), time.time())
        if self.args.live:
            interval = 1.0 / self.args.rate
            next_at = time.time()
            while not self.should_stop(started):
                await self.message(self.pick(), "live")
                next_at = max(next_at + interval, time.time() - 1.0)  # behind by a second at most: no bursts
                await asyncio.sleep(max(0.0, next_at - time.time()))
        self.ledger.record("marker", what="stop")
        await adkstores.close_service(self.service)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env-file", required=True)
    p.add_argument("--backend", required=True, choices=("cloudsql", "redis"))
    p.add_argument("--name", required=True)
    p.add_argument("--ledger", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pool", type=int, default=30)
    p.add_argument("--seed-events", type=int, default=0)
    p.add_argument("--live", action="store_true")
    p.add_argument("--rate", type=float, default=15.0)
    p.add_argument("--new-every", type=float, default=1.0)
    p.add_argument("--hot", type=int, default=6)
    p.add_argument("--ready-stop", default="")
    p.add_argument("--max-seconds", type=float, default=240.0)
    p.add_argument("--wait-for", default="", help="a file to wait for before the first write")
    args = p.parse_args()
    asyncio.run(Writer(args).run())


if __name__ == "__main__":
    main()
