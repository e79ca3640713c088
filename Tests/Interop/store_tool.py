#!/usr/bin/env python3
"""Resets a store or dumps its raw contents (runs inside venv-community).

  store_tool.py reset KIND URL   # fresh, empty store
  store_tool.py dump  KIND URL   # canonical JSON of every raw row / key on stdout
  store_tool.py order KIND URL   # JSON [[app, user, id, n_events], ...] of a DSS store,
                                 # ORDER BY app_name, user_id, id (the store's collation)
  store_tool.py clone mysql-v0 URL DST_URL      # DST := exact copy of URL's tables
  store_tool.py corrupt mysql-v0 URL APP USER SESSION EVENT MODE
      MODE: global    a pickled EventActions whose state_delta holds an object that
                      reduces to os.system (made with pickle.dumps; NEVER loaded)
            truncated the event's own pickle cut in half
            random    200 seeded random bytes (checked not to parse as a pickle)
            restore:B64  put these bytes back
      prints the base64 of the bytes it replaced (for restore:)

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
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

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
  if p.scheme == "rediss":  # redis-py's own reading of the ssl_* parameters (as adk_io.py passes them)
    query = urlencode([(k, v) for k, v in parse_qsl(p.query) if k.startswith("ssl_")])
    return redis.Redis.from_url(urlunsplit((p.scheme, p.netloc, p.path, query, ""))), db
  return redis.Redis(host=p.hostname or "127.0.0.1", port=p.port or 6379, db=db), db


def reset(kind: str, url: str) -> None:
  if kind.startswith("mysql"):
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
  if kind.startswith("mysql"):
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


def order(kind: str, url: str) -> list:
  sql = ("SELECT s.app_name, s.user_id, s.id, (SELECT COUNT(*) FROM events e WHERE "
         "e.app_name = s.app_name AND e.user_id = s.user_id AND e.session_id = s.id) "
         "FROM sessions s ORDER BY s.app_name, s.user_id, s.id")
  if kind.startswith("mysql"):
    conn = _mysql_connect(url)
    with conn.cursor() as c:
      c.execute(sql)
      rows = [list(r) for r in c.fetchall()]
    conn.close()
    return rows
  conn = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
  rows = [list(r) for r in conn.execute(sql).fetchall()]
  conn.close()
  return rows


def clone(url: str, dst_url: str) -> None:
  src_db, dst_db = urlsplit(url).path.lstrip("/"), _mysql_db(dst_url)
  reset("mysql", dst_url)
  conn = _mysql_connect(url)
  with conn.cursor() as c:
    c.execute("SHOW TABLES")
    tables = [t for (t,) in c.fetchall()]
    c.execute("SET FOREIGN_KEY_CHECKS = 0")
    for t in tables:
      c.execute(f"SHOW CREATE TABLE `{src_db}`.`{t}`")
      ddl = c.fetchone()[1]
      c.execute(f"USE `{dst_db}`")
      c.execute(ddl)
      c.execute(f"INSERT INTO `{dst_db}`.`{t}` SELECT * FROM `{src_db}`.`{t}`")
      c.execute(f"USE `{src_db}`")
    c.execute("SET FOREIGN_KEY_CHECKS = 1")
  conn.close()


class _Evil:
  """Pickles as a call of os.system. Only ever pickle.dumps()ed, never loaded."""

  def __reduce__(self):
    import os as _os
    return (_os.system, ("echo sessmigrate-must-not-run-this",))


def _parses(data: bytes) -> bool:
  """True when pickletools can walk the opcodes to STOP (nothing is executed)."""
  import pickletools
  try:
    for _ in pickletools.genops(data):
      pass
    return True
  except Exception:  # noqa: BLE001
    return False


def bad_pickle(mode: str, original: bytes) -> bytes:
  import pickle
  import random
  if mode == "global":
    from google.adk.events.event_actions import EventActions
    data = pickle.dumps(EventActions(state_delta={"ok": 1, "evil": _Evil()}), protocol=4)
    assert b"system" in data and _parses(data)
    return data
  if mode == "truncated":
    return original[:len(original) // 2]
  if mode == "random":
    seed = 20261127
    while True:
      data = random.Random(seed).randbytes(200)
      if not _parses(data):
        return data
      seed += 1
  if mode.startswith("restore:"):
    return base64.b64decode(mode[len("restore:"):])
  raise SystemExit(f"unknown corruption mode {mode}")


def corrupt(url: str, app: str, user: str, session: str, event: str, mode: str) -> str:
  conn = _mysql_connect(url)
  where = "id = %s AND app_name = %s AND user_id = %s AND session_id = %s"
  with conn.cursor() as c:
    c.execute(f"SELECT actions FROM events WHERE {where}", (event, app, user, session))
    row = c.fetchone()
    if row is None:
      raise SystemExit(f"no event {event} in {app}/{user}/{session}")
    original = bytes(row[0])
    c.execute(f"UPDATE events SET actions = %s WHERE {where}",
              (bad_pickle(mode, original), event, app, user, session))
  conn.close()
  return base64.b64encode(original).decode()


def main() -> None:
  argv = sys.argv[1:]
  usage = {"reset": 3, "dump": 3, "order": 3, "clone": 4, "corrupt": 8}
  if not argv or usage.get(argv[0]) != len(argv):
    raise SystemExit(__doc__)
  cmd, kind, url = argv[:3]
  if cmd == "reset":
    reset(kind, url)
  elif cmd == "dump":
    sys.stdout.write(json.dumps(dump(kind, url), ensure_ascii=True, indent=1,
                                sort_keys=True) + "\n")
  elif cmd == "order":
    sys.stdout.write(json.dumps(order(kind, url), ensure_ascii=False) + "\n")
  elif cmd == "clone":
    clone(url, argv[3])
  else:
    sys.stdout.write(corrupt(url, *argv[3:]) + "\n")


if __name__ == "__main__":
  main()
