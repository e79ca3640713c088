#!/usr/bin/env python3
"""Writes or reads a dataset through the REAL ADK session services.

Runs inside one of the interop virtualenvs (see scripts/setup):
  venv-community: mysql, sqlite-sss, sqlite-dss, redis-community(-tls); reads mysql-v0, sqlite-v0
  venv-adkredis:  mysql, sqlite-sss, sqlite-dss, redis-adk-redis
  venv-adkredis014: redis-adk-redis-014 (google-adk-redis 0.1.4: one string per user)
  venv-community: also redis-community-cluster (RedisSessionService(cluster_uri=…))
  venv-adk121:    mysql-v0, sqlite-v0 (google-adk 1.21.0 creates and writes schema v0)

  adk_io.py write  --store KIND --url URL [--dataset NAME]
  adk_io.py read   --store KIND --url URL [--dataset NAME] --out FILE.json
  adk_io.py append --store KIND --url URL [--dataset NAME]   # dataset.APPENDS[NAME]

URL is the sessmigrate address of the store:
  mysql://USER:PW@HOST:PORT/DB           -> DatabaseSessionService(mysql+aiomysql)
  sqlite:////abs/file.db?layout=database -> DatabaseSessionService(sqlite+aiosqlite)
  sqlite:////abs/file.db                 -> SqliteSessionService(path)
  (kinds mysql-v0 / sqlite-v0 take the mysql:// / sqlite:////abs addresses and use
  DatabaseSessionService of whichever ADK the venv holds: 1.21 creates v0 tables,
  2.13 detects v0 and reads and appends in v0)
  redis://HOST:PORT/DBNUM[?layout=...]   -> RedisSessionService (google-adk-community)
                                            or RedisMemorySessionService (google-adk-redis)
  rediss://HOST:PORT/DBNUM?ssl_ca_certs=… -> RedisSessionService over TLS (kind redis-community-tls):
                                            redis-py gets the URL with its ssl_* parameters as
                                            the bot's REDIS_URL would carry them

`append` get_session()s each session named in dataset.APPENDS[NAME] and
append_event()s its new events (the round trip back into a v0 database).

`read` lists every session of every (app, user) pair of the dataset with
list_sessions, then get_session()s each one, and writes canonical JSON:
{"sessions": [{app, user, id, state, events, last_update_time}, ...]} sorted by
(app, user, id); events are model_dump(mode="json", exclude_none=True).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

os.environ["TZ"] = "UTC"
time.tzset()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402

KINDS = ("mysql", "redis-community", "redis-adk-redis", "sqlite-sss", "sqlite-dss",
         "mysql-v0", "sqlite-v0", "redis-community-tls", "redis-community-cluster",
         "redis-adk-redis-014")
V0_KINDS = ("mysql-v0", "sqlite-v0")


def _sqlite_path(url: str) -> str:
  if not url.startswith("sqlite:"):
    return os.path.abspath(url)
  path = unquote(urlsplit(url).path)
  if not path.startswith("//"):
    raise SystemExit(f"sqlite address must be absolute (sqlite:////abs/path): {url}")
  return path[1:]


def _redis_uri(url: str) -> str:
  """The redis-py URL of a sessmigrate address: sessmigrate's own parameters (layout, ttl) dropped,
  the scheme and redis-py's ssl_* parameters kept."""
  parts = urlsplit(url)
  query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.startswith("ssl_")])
  return urlunsplit((parts.scheme, parts.netloc, parts.path or "/0", query, ""))


def make_service(kind: str, url: str):
  if kind in ("mysql", "mysql-v0"):
    from google.adk.sessions.database_session_service import DatabaseSessionService
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb", "mysql+aiomysql"):
      raise SystemExit(f"not a mysql address: {url}")
    return DatabaseSessionService(
        f"mysql+aiomysql://{parts.netloc}{parts.path}?charset=utf8mb4")
  if kind in ("sqlite-dss", "sqlite-v0"):
    from google.adk.sessions.database_session_service import DatabaseSessionService
    return DatabaseSessionService("sqlite+aiosqlite:///" + _sqlite_path(url))
  if kind == "sqlite-sss":
    from google.adk.sessions.sqlite_session_service import SqliteSessionService
    return SqliteSessionService(_sqlite_path(url))
  if kind in ("redis-community", "redis-community-tls"):
    from google.adk_community.sessions.redis_session_service import RedisSessionService
    return RedisSessionService(uri=_redis_uri(url))
  if kind == "redis-community-cluster":
    from google.adk_community.sessions.redis_session_service import RedisSessionService
    return RedisSessionService(cluster_uri=_redis_uri(url))
  if kind in ("redis-adk-redis", "redis-adk-redis-014"):  # 0.1.5 or 0.1.4, by the venv
    from google_adk_redis.redis_memory_session_service import RedisMemorySessionService
    return RedisMemorySessionService(uri=_redis_uri(url), share_cache=False)
  raise SystemExit(f"unknown store kind {kind!r}; expected one of {', '.join(KINDS)}")


async def close_service(service) -> None:
  close = getattr(service, "close", None)
  if close is not None:
    await close()
  engine = getattr(service, "db_engine", None)
  if close is None and engine is not None:   # ADK 1.21 has no close()
    await engine.dispose()
  cache = getattr(service, "cache", None)
  if cache is not None:
    await cache.aclose()


async def read_all(service, sessions_spec: list[dict]) -> list[dict]:
  out = []
  for app, user in dataset.pairs(sessions_spec):
    listed = await service.list_sessions(app_name=app, user_id=user)
    for brief in listed.sessions:
      full = await service.get_session(app_name=app, user_id=user, session_id=brief.id)
      if full is None:
        raise RuntimeError(f"listed session {app}/{user}/{brief.id} cannot be read")
      out.append({
          "app": full.app_name,
          "user": full.user_id,
          "id": full.id,
          "state": full.state,
          "events": [e.model_dump(mode="json", exclude_none=True) for e in full.events],
          "last_update_time": full.last_update_time,
      })
  out.sort(key=lambda s: (s["app"], s["user"], s["id"]))
  return out


def adk_version() -> tuple[int, ...]:
  from google.adk import version
  return tuple(int(x) for x in version.__version__.split(".")[:3] if x.isdigit())


async def append_all(service, appends: list[dict]) -> None:
  for spec in appends:
    session = await service.get_session(app_name=spec["app"], user_id=spec["user"],
                                        session_id=spec["id"])
    if session is None:
      raise RuntimeError(f"session {spec['app']}/{spec['user']}/{spec['id']} not found")
    for ev in spec["events"]:
      await service.append_event(session, dataset.build_event(ev))


async def main_async(args) -> None:
  sessions_spec = dataset.DATASETS[args.dataset]
  if args.cmd == "write" and args.store in V0_KINDS and adk_version() >= (1, 22):
    # ADK >= 1.22 creates v1 tables in a new database; only 1.21 makes a v0 one.
    raise SystemExit(f"writing a new {args.store} store needs google-adk <= 1.21 "
                     "(venv-adk121)")
  service = make_service(args.store, args.url)
  try:
    if args.cmd == "write":
      await dataset.write_dataset(service, sessions_spec)
    elif args.cmd == "append":
      await append_all(service, dataset.APPENDS[args.dataset])
    else:
      sessions = await read_all(service, sessions_spec)
      text = json.dumps({"store": args.store, "sessions": sessions},
                        ensure_ascii=False, indent=1)
      if args.out == "-":
        sys.stdout.write(text + "\n")
      else:
        with open(args.out, "w", encoding="utf-8") as f:
          f.write(text + "\n")
  finally:
    await close_service(service)


def main() -> None:
  logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("cmd", choices=("write", "read", "append"))
  p.add_argument("--store", required=True, choices=KINDS)
  p.add_argument("--url", required=True)
  p.add_argument("--dataset", default="nasty", choices=sorted(dataset.DATASETS))
  p.add_argument("--out", default="-")
  asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
  main()
