#!/usr/bin/env python3
"""The live suite's checker: after a runbook finished and every writer stopped, did the new primary keep
everything the bot wrote? Reads only through the real ADK (venv-community).

    check.py --env-file ENV --new cloudsql|redis --old cloudsql|redis --ledgers DIR
             [--journal J --sessmigrate BIN] [--append-sample N] [--json OUT]

(a) every event a writer recorded as committed (DIR/ledger-*.jsonl) is in the new primary, read with
    get_session, with its author, text, state delta and timestamp; every state key a writer set in a
    session (initial state and deltas) is in that session's state;
(b) ADK reads every session of the ledger, and every session of the old primary (enumerated from its
    raw tables / keys) is in the new one with all its events and state keys (containment);
(c) ADK can keep appending to the ledger's sessions on the new primary (all, or N of them);
(d) the writers saw no error other than ADK's own stale-session (and duplicate-create) checks.
Prints one `LOST`/`CHANGED`/… line per finding, figures, and `check: OK` or `check: FAILED`; exit 0 or 1.
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adkstores  # noqa: E402
import figures  # noqa: E402


def load_ledgers(directory: str):
    records = []
    for path in sorted(glob.glob(os.path.join(directory, "ledger-*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError:
                        # A writer killed mid-line leaves a torn last line: it was never fsync'd as committed.
                        print(f"note: {os.path.basename(path)} line {number} is torn; ignored")
    return records


class Checker:
    def __init__(self, args):
        self.args = args
        env = adkstores.read_env(args.env_file)
        self.new = adkstores.make_service(env, args.new)
        self.old = adkstores.make_service(env, args.old)
        self.lost: dict[tuple, set[str]] = {}     # (app, user, sid, event_id) -> {"ledger", "old primary"}
        self.findings: list[str] = []
        self.cache: dict[tuple, object] = {}

    def finding(self, line: str):
        self.findings.append(line)
        if len(self.findings) <= 300:
            print(line, flush=True)
        elif len(self.findings) == 301:
            print("… (every finding is in the --json file)", flush=True)

    def lose(self, key, event_id, why, detail=""):
        entry = self.lost.setdefault((*key, event_id), set())
        if not entry:
            self.finding(f"LOST event {'/'.join(key)} {event_id} ({why}{detail})")
        entry.add(why)

    async def read_new(self, key):
        if key not in self.cache:
            try:
                self.cache[key] = await self.new.get_session(app_name=key[0], user_id=key[1], session_id=key[2])
            except Exception as error:  # noqa: BLE001
                self.finding(f"UNREADABLE {'/'.join(key)} in the new primary: {type(error).__name__}: {str(error)[:300]}")
                self.cache[key] = None
        return self.cache[key]

    def compare(self, key, session, wanted: dict[str, dict], state_keys: set[str], why: str):
        have = {} if session is None else {e.id: adkstores.event_summary(e) for e in session.events}
        for event_id, summary in wanted.items():
            if event_id not in have:
                self.lose(key, event_id, why)
            elif have[event_id] != summary:
                diff = {k: (summary[k], have[event_id][k]) for k in summary if summary[k] != have[event_id][k]}
                self.finding(f"CHANGED event {'/'.join(key)} {event_id} ({why}): {json.dumps(diff, ensure_ascii=False)[:400]}")
        if session is not None:
            for name in sorted(state_keys - set(session.state)):
                self.finding(f"STATE KEY LOST {'/'.join(key)} {name!r} ({why})")

    async def check_ledger(self, records):
        sessions: dict[tuple, dict] = {}
        for r in records:
            if r["kind"] in ("event", "create"):
                entry = sessions.setdefault((r["app"], r["user"], r["session"]), {"events": {}, "state": set()})
                if r["kind"] == "event":
                    entry["events"][r["event_id"]] = {k: r[k] for k in ("author", "text", "state_delta", "timestamp")}
                    entry["state"].update(r["state_delta"])
                else:
                    entry["state"].update(r["state"])
        for key, entry in sorted(sessions.items()):
            session = await self.read_new(key)
            if session is None:
                self.finding(f"LOST session {'/'.join(key)} (ledger: {len(entry['events'])} events)")
            self.compare(key, session, entry["events"], entry["state"], "ledger")
        return sorted(sessions)

    async def check_containment(self):
        keys = await adkstores.all_session_keys(self.old, self.args.old)
        for key in keys:
            try:
                old = await self.old.get_session(app_name=key[0], user_id=key[1], session_id=key[2])
            except Exception as error:  # noqa: BLE001
                self.finding(f"UNREADABLE {'/'.join(key)} in the old primary: {type(error).__name__}: {str(error)[:300]}")
                continue
            if old is None:
                continue  # expired or deleted since the scan
            session = await self.read_new(key)
            if session is None:
                self.finding(f"LOST session {'/'.join(key)} (old primary: {len(old.events)} events)")
            wanted = {e.id: adkstores.event_summary(e) for e in old.events}
            self.compare(key, session, wanted, set(old.state), "old primary")
        return len(keys)

    async def check_appends(self, keys):
        from google.adk.events.event import Event
        from google.adk.events.event_actions import EventActions
        from google.genai import types
        if self.args.append_sample and len(keys) > self.args.append_sample:
            keys = sorted(random.Random(7).sample(keys, self.args.append_sample))
        failures = 0
        for key in keys:
            eid = f"check-{random.getrandbits(32):08x}"
            try:
                session = await self.new.get_session(app_name=key[0], user_id=key[1], session_id=key[2])
                if session is None:
                    raise LookupError("get_session returned None")
                event = Event(id=eid, invocation_id=f"inv-{eid}", author="checker",
                              content=types.Content(role="user", parts=[types.Part(text="still writable?")]),
                              actions=EventActions(state_delta={"checked": True}))
                await self.new.append_event(session, event)
                again = await self.new.get_session(app_name=key[0], user_id=key[1], session_id=key[2])
                if again is None or eid not in {e.id for e in again.events}:
                    raise LookupError("the appended event is not read back")
            except Exception as error:  # noqa: BLE001
                failures += 1
                self.finding(f"APPEND FAILED {'/'.join(key)}: {type(error).__name__}: {str(error)[:300]}")
        return len(keys), failures

    async def run(self, records):
        errors = [r for r in records if r["kind"] == "error"]
        for r in errors:
            self.finding(f"WRITER ERROR {r['w']} {r.get('session')} {r.get('step')}: {r.get('type')}: {r.get('detail', '')[:300]}")
        ledger_keys = await self.check_ledger(records)
        old_sessions = await self.check_containment()
        appended, append_failures = (0, 0) if self.args.no_append else await self.check_appends(ledger_keys)
        for service in (self.new, self.old):
            await adkstores.close_service(service)
        return {"ledger_sessions": len(ledger_keys), "old_primary_sessions": old_sessions, "appended": appended,
                "append_failures": append_failures, "writer_errors": len(errors)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env-file", required=True)
    p.add_argument("--new", required=True, choices=("cloudsql", "redis"))
    p.add_argument("--old", required=True, choices=("cloudsql", "redis"))
    p.add_argument("--ledgers", required=True)
    p.add_argument("--journal", default="")
    p.add_argument("--sessmigrate", default="")
    p.add_argument("--append-sample", type=int, default=0)
    p.add_argument("--no-append", action="store_true")
    p.add_argument("--json", default="")
    args = p.parse_args()
    records = load_ledgers(args.ledgers)
    checker = Checker(args)
    counts = asyncio.run(checker.run(records))
    numbers = {**figures.from_ledger(records), **counts,
               **(figures.from_journal(args.journal, args.sessmigrate) if args.journal else {})}
    print("figures: " + ", ".join(f"{k} {v}" for k, v in numbers.items()))
    ok = not checker.findings
    lost = sorted([list(k) + [sorted(v)] for k, v in checker.lost.items()])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ok": ok, "lost": lost, "findings": checker.findings, "figures": numbers}, f, ensure_ascii=False, indent=1)
    print(f"check: {'OK' if ok else 'FAILED'} ({len(checker.lost)} events lost, {len(checker.findings)} findings)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
