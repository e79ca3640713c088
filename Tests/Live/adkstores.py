"""The bot's two stores, opened the way the bot opens them: from its .env file, through the real ADK.

Runs inside ~/.cache/sessmigrate/venv-community (google-adk[db] 2.13.0, google-adk-community 0.5.0).
`cloudsql` is DatabaseSessionService("mysql+aiomysql://CLOUDSQL_USER:…@HOST:PORT/DATABASE"); `redis` is
google-adk-community's RedisSessionService(uri=REDIS_URL, expire=REDIS_SESSION_TTL). REDIS_URL may carry
`?layout=community` for sessmigrate (it must, to write into an empty Redis database); redis-py would pass an
unknown query parameter to its connection class and fail, so it is removed here, as a bot would have to.

Shared by writer.py, check.py and inject.py. Everything ADK-side is imported lazily by the callers' processes
only (this module itself imports ADK), never by the stdlib-only harness.
"""
from __future__ import annotations

import json
import os
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

os.environ["TZ"] = "UTC"
time.tzset()

APP = "slackbot"


def read_env(path: str) -> dict[str, str]:
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def redis_py_url(url: str) -> str:
    """REDIS_URL without the query parameters only sessmigrate understands."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("layout", "ttl")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/0", urlencode(query), ""))


def make_service(env: dict[str, str], backend: str):
    if backend == "cloudsql":
        from google.adk.sessions.database_session_service import DatabaseSessionService
        user, password = quote(env["CLOUDSQL_USER"], safe=""), quote(env.get("CLOUDSQL_PASSWORD", ""), safe="")
        url = (f"mysql+aiomysql://{user}:{password}@{env['CLOUDSQL_HOST']}:{env.get('CLOUDSQL_PORT', '3306')}"
               f"/{env['CLOUDSQL_DATABASE']}?charset=utf8mb4")
        return DatabaseSessionService(url)
    if backend == "redis":
        from google.adk_community.sessions.redis_session_service import RedisSessionService
        return RedisSessionService(uri=redis_py_url(env["REDIS_URL"]), expire=int(env.get("REDIS_SESSION_TTL") or 3600))
    raise SystemExit(f"unknown backend {backend!r}: expected cloudsql or redis")


async def close_service(service) -> None:
    close = getattr(service, "close", None)
    if close is not None:
        await close()
    cache = getattr(service, "cache", None)
    if cache is not None:
        await cache.aclose()


async def all_session_keys(service, backend: str) -> list[tuple[str, str, str]]:
    """Every session the store holds, (app, user, id), read from the raw tables or keys (not from ADK's
    list_sessions, which needs the user and, in Redis, trusts the index sets)."""
    if backend == "cloudsql":
        from sqlalchemy import text
        async with service.db_engine.connect() as connection:
            rows = (await connection.execute(text("SELECT app_name, user_id, id FROM sessions"))).all()
        return sorted((r[0], r[1], r[2]) for r in rows)
    keys = []
    async for key in service.cache.scan_iter(match="session:*", count=500):
        blob = await service.cache.get(key)
        if blob is None:
            continue  # expired or deleted between SCAN and GET
        data = json.loads(blob)
        keys.append((data["app_name"], data["user_id"], data["id"]))
    return sorted(keys)


def event_text(event) -> str | None:
    if event.content is None or not event.content.parts:
        return None
    return "".join(part.text or "" for part in event.content.parts)


def event_summary(event) -> dict:
    """What the checks compare: author, text, state delta (JSON), timestamp."""
    delta = event.actions.state_delta if event.actions and event.actions.state_delta else {}
    return {"author": event.author, "text": event_text(event), "state_delta": json.loads(json.dumps(delta)),
            "timestamp": event.timestamp}
