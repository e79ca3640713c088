#!/usr/bin/env python3
"""Writes and reads DatabaseSessionService schema-v0 databases through the REAL ADK.

Run with the python of a virtualenv (scripts/setup):
  venv-adk121    google-adk 1.21.0: creates v0 tables (its own DDL) and writes them
  venv-community google-adk 2.13.0: reads a detected-v0 database (schemas/v0.py)

  v0_adk.py write --url URL        create the v0 tables and write the v0 dataset
  v0_adk.py read  --url URL [--out FILE.json]
                                   every session (all app/user pairs in `sessions`),
                                   get_session()ed, as canonical JSON (adk_io.py format)
  v0_adk.py ddl   --dialect mysql|sqlite
                                   CREATE TABLE statements of the installed ADK's v0 tables

URL: sqlite:////abs/file.db (sqlite+aiosqlite) or mysql://USER:PW@HOST:PORT/DB (aiomysql).
The dataset exercises every v0 column: content with bytes and unicode, every
EventActions field of the 1.21 era, long error_message, transcriptions, metadata,
long_running_tool_ids (non-empty, empty and None), branch, booleans.
TZ is forced to UTC: ADK before 2.7 writes naive local times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from urllib.parse import unquote, urlsplit

os.environ["TZ"] = "UTC"
time.tzset()


def engine_url(url: str) -> str:
  parts = urlsplit(url)
  if parts.scheme == "sqlite":
    path = unquote(parts.path)
    if not path.startswith("//"):
      raise SystemExit(f"sqlite address must be absolute (sqlite:////abs/path): {url}")
    return "sqlite+aiosqlite:///" + path[1:]
  if parts.scheme in ("mysql", "mariadb"):
    return f"mysql+aiomysql://{parts.netloc}{parts.path}?charset=utf8mb4"
  raise SystemExit(f"unsupported address {url}")


def make_service(url: str):
  from google.adk.sessions.database_session_service import DatabaseSessionService
  return DatabaseSessionService(engine_url(url))


def dataset_events():
  """(app, user, session id, initial state, [Event]) tuples, built with ADK 1.21 types."""
  from google.adk.events.event import Event
  from google.adk.events.event_actions import EventActions, EventCompaction
  from google.adk.tools.tool_confirmation import ToolConfirmation
  from google.genai import types

  def content(role, *parts):
    return types.Content(role=role, parts=list(parts))

  e1 = Event(
      id="e1", invocation_id="inv1", author="user", timestamp=1700000000.123456,
      content=content("user", types.Part(text="h\u00e9llo \U0001F600 \"q\" \n/"),
                      types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\xfb\xff\xfe\x00"))),
      actions=EventActions(state_delta={"count": 1, "app:theme": "light", "user:lang": "fr",
                                        "temp:scratch": 2, "nested": {"a": [1, 2.5, None]}}))
  e2 = Event(
      id="e2", invocation_id="inv1", author="agent", timestamp=1700000001.5, branch="root.sub",
      content=content("model", types.Part(function_call=types.FunctionCall(id="fc1", name="tool", args={"a": 1}))),
      long_running_tool_ids={"fc1", "abc"}, partial=False, turn_complete=True,
      custom_metadata={"k": None, "z": 1e16},
      usage_metadata=types.GenerateContentResponseUsageMetadata(prompt_token_count=10, candidates_token_count=3),
      grounding_metadata=types.GroundingMetadata(web_search_queries=["q1"]),
      citation_metadata=types.CitationMetadata(citations=[types.Citation(start_index=0, end_index=5, uri="https://x.test/")]),
      actions=EventActions(skip_summarization=True, transfer_to_agent="other", escalate=False,
                           artifact_delta={"f.txt": 2}, end_of_agent=True, agent_state={"step": 1}))
  e3 = Event(
      id="e3", invocation_id="inv2", author="agent", timestamp=1700000002.25,
      error_code="E42", error_message="x" * 1000 + "\u00e9",
      interrupted=True,
      input_transcription=types.Transcription(text="hi", finished=True),
      output_transcription=types.Transcription(text="yo"),
      actions=EventActions(
          compaction=EventCompaction(start_timestamp=1.0, end_timestamp=2.5,
                                     compacted_content=content("model", types.Part(text="summary"))),
          rewind_before_invocation_id="inv0",
          requested_tool_confirmations={"fc1": ToolConfirmation(hint="ok?", confirmed=False, payload={"a": 1})}))
  e4 = Event(id="e4", invocation_id="inv2", author="agent", timestamp=1700000003.0,
             long_running_tool_ids=set(), content=types.Content(role="model", parts=[]))
  e5 = Event(id="e5", invocation_id="inv3", author="agent", timestamp=1700000004.000001,
             error_code="", error_message="", branch="")
  return [
      ("v0app", "u1", "s1", {"app:theme": "dark", "user:name": "Zo\u00eb", "temp:x": 1, "count": 0},
       [e1, e2, e3, e4, e5]),
      ("v0app", "u2", "s2", {"k": "v"}, []),
      ("app 2", "u1", "s3 \u00e9", {}, [Event(id="e6", invocation_id="inv9", author="user", timestamp=1700000100.5)]),
  ]


async def write(url: str) -> None:
  service = make_service(url)
  try:
    for app, user, sid, state, events in dataset_events():
      session = await service.create_session(app_name=app, user_id=user, session_id=sid, state=state)
      for event in events:
        await service.append_event(session, event)
  finally:
    await service.db_engine.dispose()


async def read(url: str) -> list[dict]:
  from sqlalchemy import text
  service = make_service(url)
  try:
    async with service.db_engine.connect() as conn:
      rows = (await conn.execute(text("SELECT app_name, user_id, id FROM sessions"))).all()
    out = []
    for app, user, sid in rows:
      full = await service.get_session(app_name=app, user_id=user, session_id=sid)
      out.append({
          "app": full.app_name, "user": full.user_id, "id": full.id, "state": full.state,
          "events": [e.model_dump(mode="json", exclude_none=True) for e in full.events],
          "last_update_time": full.last_update_time,
      })
    out.sort(key=lambda s: (s["app"], s["user"], s["id"]))
    return out
  finally:
    await service.db_engine.dispose()


def ddl(dialect: str) -> str:
  from sqlalchemy.dialects import mysql, sqlite
  from sqlalchemy.schema import CreateIndex, CreateTable
  try:
    from google.adk.sessions.schemas.v0 import Base
  except ImportError:
    from google.adk.sessions.database_session_service import Base
  d = mysql.dialect() if dialect == "mysql" else sqlite.dialect()
  out = []
  for table in Base.metadata.sorted_tables:
    out.append(str(CreateTable(table).compile(dialect=d)).strip())
    for index in table.indexes:
      out.append(str(CreateIndex(index).compile(dialect=d)).strip())
  return ";\n".join(out) + ";\n"


def main() -> None:
  logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("cmd", choices=("write", "read", "ddl"))
  p.add_argument("--url")
  p.add_argument("--dialect", choices=("mysql", "sqlite"), default="sqlite")
  p.add_argument("--out", default="-")
  args = p.parse_args()
  if args.cmd == "ddl":
    sys.stdout.write(ddl(args.dialect))
    return
  if not args.url:
    raise SystemExit("--url is required")
  if args.cmd == "write":
    asyncio.run(write(args.url))
    return
  text = json.dumps({"sessions": asyncio.run(read(args.url))}, ensure_ascii=False, indent=1)
  if args.out == "-":
    sys.stdout.write(text + "\n")
  else:
    with open(args.out, "w", encoding="utf-8") as f:
      f.write(text + "\n")


if __name__ == "__main__":
  main()
