#!/usr/bin/env python3
"""Resets a store or dumps its raw contents (runs inside venv-community).

  store_tool.py reset KIND URL   # fresh, empty store
  store_tool.py dump  KIND URL   # canonical JSON of every raw row / key on stdout

KIND and URL as in adk_io.py. reset: MySQL DROP + CREATE DATABASE (only names
starting with smt_), Redis FLUSHDB of that database number (never DB 0), SQLite
deletes the file (and its -wal/-shm/-journal). dump: MySQL and SQLite every row of
every table (SQLite with its rowid) sorted; Redis every key with TYPE, value
(GET/HGETALL/SMEMBERS/LRANGE/ZRANGE) and whether it has a TTL (not the countdown).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import sqlite3
import sys
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from adk_io import _sqlite_path  # noqa: E402


def _text(v):
  if isinstance(v, (bytes, bytearray, memoryview)):
    b = bytes(v)
    try:
      return b.decode("utf-8")
    except UnicodeDecodeError:
      return {"base64": base64.b64encode(b).decode()}
  if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
    return v.isoformat()
  if isinstance(v, decimal.Decimal):
    return str(v)
  return v


def _mysql_connect(url: str, with_db: bool = True):
  import pymysql
  p = urlsplit(url)
  return pymysql.connect(
      host=p.hostname or "127.0.0.1", port=p.port or 3306,
      user=unquote(p.username or ""), password=unquote(p.password or ""),
      database=(p.path.lstrip("/") or None) if with_db else None,
      charset="utf8mb4", autocommit=True, binary_prefix=True)


def _mysql_db(url: str) -> str:
  db = urlsplit(url).path.lstrip("/")
  if not db.startswith("smt_"):
    raise SystemExit(f"refusing to reset MySQL database {db!r} (not smt_*)")
  return db


def _redis(url: str):
  import redis
  p = urlsplit(url)
  db = int((p.path.lstrip("/") or "0"))
  return redis.Redis(host=p.hostname or "127.0.0.1", port=p.port or 6379, db=db), db


def reset(kind: str, url: str) -> None:
  if kind == "mysql":
    db = _mysql_db(url)
    conn = _mysql_connect(url, with_db=False)
    with conn.cursor() as c:
      c.execute(f"DROP DATABASE IF EXISTS `{db}`")
      c.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()
  elif kind.startswith("redis"):
    r, db = _redis(url)
    if db == 0:
      raise SystemExit("refusing to FLUSHDB Redis database 0")
    r.flushdb()
    r.close()
  elif kind.startswith("sqlite"):
    path = _sqlite_path(url)
    for suffix in ("", "-wal", "-shm", "-journal"):
      if os.path.exists(path + suffix):
        os.remove(path + suffix)
  else:
    raise SystemExit(f"unknown kind {kind}")


def dump(kind: str, url: str) -> dict:
  if kind == "mysql":
    conn = _mysql_connect(url)
    out = {}
    with conn.cursor() as c:
      c.execute("SHOW TABLES")
      for (table,) in sorted(c.fetchall()):
        c.execute(f"SELECT * FROM `{table}`")
        cols = [d[0] for d in c.description]
        rows = [[_text(v) for v in row] for row in c.fetchall()]
        rows.sort(key=lambda r: json.dumps(r, ensure_ascii=False))
        out[table] = {"columns": cols, "rows": rows}
    conn.close()
    return out
  if kind.startswith("sqlite"):
    path = _sqlite_path(url)
    if not os.path.exists(path):
      return {"missing": path}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.text_factory = bytes
    out = {}
    tables = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY name").fetchall()
    for name, sql in tables:
      name = name.decode()
      cur = conn.execute(f'SELECT rowid, * FROM "{name}"')
      cols = [d[0] for d in cur.description]
      rows = [[_text(v) for v in row] for row in cur.fetchall()]
      rows.sort(key=lambda r: json.dumps(r, ensure_ascii=False))
      out[name] = {"sql": _text(sql), "columns": cols, "rows": rows}
    conn.close()
    return out
  if kind.startswith("redis"):
    r, _ = _redis(url)
    out = {}
    for key in sorted(r.scan_iter(count=1000)):
      t = r.type(key).decode()
      if t == "string":
        v = _text(r.get(key))
      elif t == "hash":
        v = {_text(k): _text(x) for k, x in sorted(r.hgetall(key).items())}
      elif t == "set":
        v = sorted(_text(x) if isinstance(_text(x), str) else json.dumps(_text(x))
                   for x in r.smembers(key))
      elif t == "list":
        v = [_text(x) for x in r.lrange(key, 0, -1)]
      elif t == "zset":
        v = [[_text(m), s] for m, s in r.zrange(key, 0, -1, withscores=True)]
      else:
        v = f"<{t}>"
      k = _text(key)
      out[k if isinstance(k, str) else json.dumps(k)] = {
          "type": t, "value": v, "has_ttl": r.ttl(key) >= 0}
    r.close()
    return out
  raise SystemExit(f"unknown kind {kind}")


def main() -> None:
  if len(sys.argv) != 4 or sys.argv[1] not in ("reset", "dump"):
    raise SystemExit(__doc__)
  cmd, kind, url = sys.argv[1:]
  if cmd == "reset":
    reset(kind, url)
  else:
    sys.stdout.write(json.dumps(dump(kind, url), ensure_ascii=True, indent=1,
                                sort_keys=True) + "\n")


if __name__ == "__main__":
  main()
