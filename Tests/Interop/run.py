#!/usr/bin/env python3
"""ADK interop suite: does `sessmigrate copy` move sessions so that the REAL ADK
reads them back unchanged, between every pair of store kinds?

  python3 Tests/Interop/run.py --sessmigrate .build/debug/sessmigrate
  python3 Tests/Interop/run.py --references-only      # ADK side only, no binary

Needs SESSMIGRATE_REDIS_URL and SESSMIGRATE_MYSQL_URL (scripts/lib/servers.sh) and the
virtualenvs of scripts/setup (venv-community, venv-adkredis, venv-adk121). Stdlib only:
every ADK or driver call runs in a venv python (adk_io.py, store_tool.py).
With SESSMIGRATE_REDIS_TLS_URL and SESSMIGRATE_TLS_DIR (servers.sh with SESSMIGRATE_SERVERS_TLS=1)
the kind redis-community-tls is a TLS-only Redis reached as Memorystore is: the bot's
RedisSessionService (redis-py) gets `rediss://127.0.0.1:PORT/DB?ssl_ca_certs=CA`, sessmigrate the
same URL with `&layout=community`; mysql -> redis-community-tls also checks that the bot's exact
REDIS_URL, through `--env-file`, works for sessmigrate. Without them that kind is skipped.

For each source kind: fresh store, ADK writes dataset.py's NASTY dataset, ADK reads it
(the reference). For each other kind as destination: fresh store, `sessmigrate copy
SRC DST`, ADK reads the destination and it must equal the reference (compare.py lists
the few normalisations and why); then the same copy again must leave the
destination's raw rows/keys unchanged and report 0 sessions written. Also: the
source is never modified, the copy output never shows the MySQL password, and the
five independently written references agree with each other.

The sources mysql-v0 and sqlite-v0 are DatabaseSessionService schema-v0 databases
written by google-adk 1.21.0: v0suite.py describes their checks (copies read by ADK
2.13 against ADK 2.13's and ADK 1.21's reads of the source, a round trip back into
v0, and bad pickles).

sessmigrate runs with TZ=Asia/Kolkata (UTC+05:30) on purpose: its output must not
depend on the local time zone. ADK always runs with TZ=UTC.
Prints `PASS ...` / `FAIL ...` per check and ends with `N passed, N failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import v0suite  # noqa: E402

TLS_KIND = "redis-community-tls"
KINDS = ["mysql", "sqlite-sss", "sqlite-dss", "redis-community", "redis-adk-redis", TLS_KIND]
SOURCE_KINDS = KINDS + list(v0suite.V0_SOURCES)
VENV_OF = {"redis-adk-redis": "adkredis"}  # every other kind: venv-community
PASSWORD_MARKERS = ("apppw",)


class Suite:
  def __init__(self, args):
    self.args = args
    self.passed = 0
    self.failed = 0
    cache = args.cache or os.environ.get("SESSMIGRATE_CACHE") or os.path.expanduser(
        "~/.cache/sessmigrate")
    self.python = {v: os.path.join(cache, f"venv-{v}", "bin", "python")
                   for v in ("community", "adkredis", "adk121")}
    self.work = args.work or tempfile.mkdtemp(prefix="sessmigrate-interop-", dir=_fast_tmp())
    os.makedirs(self.work, exist_ok=True)
    self.redis = (args.redis_url or os.environ.get("SESSMIGRATE_REDIS_URL", "")).rstrip("/")
    self.mysql = args.mysql_url or os.environ.get("SESSMIGRATE_MYSQL_URL", "")
    self.redis_tls = os.environ.get("SESSMIGRATE_REDIS_TLS_URL", "").rstrip("/")
    tls_dir = os.environ.get("SESSMIGRATE_TLS_DIR", "")
    self.tls_ca = os.path.join(tls_dir, "ca.pem") if tls_dir else ""
    self.refs: dict[str, list[dict]] = {}
    self.timings: dict[str, float] = {}
    self.started = time.monotonic()
    self.password_markers = PASSWORD_MARKERS
    self.parse_written = parse_written

  # ------------------------------------------------------------------ output
  def result(self, ok: bool, name: str, detail: str = "") -> bool:
    if ok:
      self.passed += 1
      print(f"PASS {name}" + (f": {detail}" if detail else ""), flush=True)
    else:
      self.failed += 1
      print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok

  # ------------------------------------------------------------------ stores
  def address(self, kind: str, role: str) -> str:
    if kind in ("mysql", "mysql-v0"):
      p = urlsplit(self.mysql)
      suffix = "mysql" if kind == "mysql" else "mysqlv0"
      return f"{p.scheme}://{p.netloc}/{self.args.mysql_db_prefix}_{role}_{suffix}"
    if kind == TLS_KIND:
      return self.bot_redis_url(role) + "&layout=community"
    if kind.startswith("redis"):
      # community: base (source) / base+1 (destination); adk-redis: base+2 / base+3
      db = self.args.redis_db_base + (0 if kind == "redis-community" else 2) + (role == "dst")
      layout = "community" if kind == "redis-community" else "adk-redis"
      return f"{self.redis}/{db}?layout={layout}"
    path = os.path.join(os.path.abspath(self.work), f"{role}-{kind}.db")
    return "sqlite:///" + path + ("?layout=database" if kind == "sqlite-dss" else "")

  def bot_redis_url(self, role: str) -> str:
    """The bot's REDIS_URL for the TLS Redis: redis-py's form, as Memorystore's would be."""
    db = self.args.redis_db_base + (role == "dst")
    return f"{self.redis_tls}/{db}?ssl_ca_certs={self.tls_ca}"

  def venv_run(self, kind: str, argv: list[str], timeout: float = 600, venv: str | None = None):
    py = self.python[venv or VENV_OF.get(kind, "community")]
    env = dict(os.environ, TZ="UTC", PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([py] + argv, capture_output=True, text=True, env=env,
                          timeout=timeout)

  def tool(self, cmd: str, kind: str, url: str, *extra: str):
    r = self.venv_run("mysql", [os.path.join(HERE, "store_tool.py"), cmd, kind, url, *extra])
    if r.returncode != 0:
      raise RuntimeError(f"store_tool {cmd} {kind} failed: {_tail(r.stderr)}")
    return r.stdout

  def adk(self, cmd: str, kind: str, url: str, out: str | None = None,
          venv: str | None = None, dataset: str | None = None):
    argv = [os.path.join(HERE, "adk_io.py"), cmd, "--store", kind, "--url", url,
            "--dataset", dataset or self.args.dataset]
    if out:
      argv += ["--out", out]
    r = self.venv_run(kind, argv, venv=venv)
    if r.returncode != 0:
      who = f"ADK ({venv or VENV_OF.get(kind, 'community')})"
      raise RuntimeError(f"{who} {cmd} on {kind} failed: {_tail(r.stderr)}")

  def adk_read(self, kind: str, url: str, name: str, venv: str | None = None,
               dataset: str | None = None) -> list[dict]:
    out = os.path.join(self.work, name + ".json")
    self.adk("read", kind, url, out, venv=venv, dataset=dataset)
    with open(out, encoding="utf-8") as f:
      return json.load(f)["sessions"]

  def sessmigrate(self, *argv: str):
    env = dict(os.environ, TZ=self.args.sessmigrate_tz)
    t0 = time.monotonic()
    try:
      r = subprocess.run([self.args.sessmigrate, *argv], capture_output=True, text=True,
                         env=env, timeout=self.args.copy_timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
      r = subprocess.CompletedProcess(e.cmd, 124, _str(e.stdout),
                                      _str(e.stderr) + f"\ntimed out after {e.timeout:.0f} s")
    return r, time.monotonic() - t0

  def copy(self, src_url: str, dst_url: str, *extra: str):
    """`sessmigrate copy`. The dataset's sessions were last updated years ago, so a
    Redis expiry counted from the last update (the default) would skip them all:
    count it from now."""
    return self.sessmigrate("copy", src_url, dst_url, "--ttl-from", "now", *extra)

  # ------------------------------------------------------------------ checks
  def reference(self, kind: str) -> list[dict] | None:
    url = self.address(kind, "src")
    name = f"{kind}: ADK writes and reads the dataset"
    try:
      self.tool("reset", kind, url)
      t0 = time.monotonic()
      self.adk("write", kind, url)
      ref = self.adk_read(kind, url, f"ref-{kind}")
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))
      return None
    import dataset
    want = {(s["app"], s["user"], s["id"]) for s in dataset.DATASETS[self.args.dataset]}
    got = {(s["app"], s["user"], s["id"]) for s in ref}
    events = sum(len(s["events"]) for s in ref)
    ok = want == got
    self.result(ok, name, f"{len(ref)} sessions, {events} events, "
                f"{time.monotonic() - t0:.1f} s" if ok else
                f"sessions missing {sorted(want - got)[:5]}, unexpected {sorted(got - want)[:5]}")
    return ref if ok else None

  def inspect(self, kind: str, url: str, ref: list[dict]) -> None:
    name = f"{kind}: inspect --format json"
    r, _ = self.sessmigrate("inspect", url, "--format", "json")
    if r.returncode != 0:
      self.result(False, name, f"exit {r.returncode}\n{_indent(_tail(r.stdout + r.stderr))}")
      return
    try:
      report = json.loads(r.stdout)
    except ValueError:
      self.result(False, name, "output is not JSON:\n" + _indent(_tail(r.stdout)))
      return
    want = {"sessions": len(ref), "events": sum(len(s["events"]) for s in ref)}
    got = {k: report.get(k) for k in want}
    if any(m in r.stdout + r.stderr for m in PASSWORD_MARKERS):
      self.result(False, name, "output shows the MySQL password")
      return
    self.result(got == want, name, f"{got['sessions']} sessions, {got['events']} events"
                + ("" if got == want else f" (ADK reads {want})"))

  def copy_pair(self, src: str, dst: str, ref: list[dict]) -> None:
    src_url, dst_url = self.address(src, "src"), self.address(dst, "dst")
    label = f"{src} -> {dst}"
    try:
      self.tool("reset", dst, dst_url)
    except Exception as e:  # noqa: BLE001
      self.result(False, f"{label}: copy", f"cannot reset the destination: {e}")
      self.result(False, f"{label}: second copy is a no-op", "no first copy")
      return
    r, took = self.copy(src_url, dst_url)
    output = r.stdout + r.stderr
    if r.returncode != 0:
      self.result(False, f"{label}: copy", f"exit {r.returncode}\n{_indent(_tail(output))}")
      self.result(False, f"{label}: second copy is a no-op", "first copy failed")
      return
    problems = []
    if any(m in output for m in PASSWORD_MARKERS):
      problems.append("the copy output shows the MySQL password")
    try:
      got = self.adk_read(dst, dst_url, f"read-{src}-to-{dst}")
      problems += compare.compare(ref, got)
    except Exception as e:  # noqa: BLE001
      problems.append(f"ADK cannot read the destination: {e}")
    if problems:
      self.result(False, f"{label}: copy", f"{len(problems)} problems; first:\n"
                  + _indent("\n".join(problems[:3])))
    else:
      written = parse_written(r.stdout)
      self.result(True, f"{label}: copy", f"ADK reads {len(got)} sessions identical to the "
                  f"reference ({took:.2f} s, {written if written is not None else '?'} written)")
    self.noop_check(label, src_url, dst, dst_url)
    if src == "mysql" and dst == TLS_KIND:
      self.bot_url_check(src_url, ref)

  def bot_url_check(self, src_url: str, ref: list[dict]) -> None:
    """The bot's REDIS_URL, exactly as it is in its .env, for sessmigrate (the word `redis` with
    --env-file; the layout is detected) and for the bot's RedisSessionService."""
    name = f"{TLS_KIND}: the bot's exact REDIS_URL works for sessmigrate and for ADK"
    bot_url = self.bot_redis_url("dst")
    env_file = os.path.join(self.work, "bot-tls.env")
    with open(env_file, "w", encoding="utf-8") as f:
      f.write(f"SESSION_BACKEND=redis\nREDIS_URL={bot_url}\n")
    r, _ = self.sessmigrate("verify", src_url, "redis", "--env-file", env_file)
    problems = [] if r.returncode == 0 else [f"verify exit {r.returncode}: {_tail(r.stdout + r.stderr, 3)}"]
    r, _ = self.sessmigrate("inspect", "redis", "--env-file", env_file)
    if "connection:    TLS (" not in r.stdout:
      problems.append(f"inspect does not say TLS: {_tail(r.stdout + r.stderr, 4)}")
    try:
      problems += compare.compare(ref, self.adk_read(TLS_KIND, bot_url, "read-bot-url"))
    except Exception as e:  # noqa: BLE001
      problems.append(f"ADK cannot read through the bot's URL: {e}")
    self.result(not problems, name, "verify IDENTICAL, inspect says TLS, ADK reads the reference"
                if not problems else _indent("\n".join(problems[:3])))

  def noop_check(self, label: str, src_url: str, dst: str, dst_url: str,
                 name: str | None = None) -> None:
    """Idempotency: the same copy again changes nothing and writes nothing."""
    name = name or f"{label}: second copy is a no-op"
    try:
      before = self.tool("dump", dst, dst_url)
      r2, took2 = self.copy(src_url, dst_url)
      after = self.tool("dump", dst, dst_url)
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))
      return
    if r2.returncode != 0:
      self.result(False, name, f"exit {r2.returncode}\n{_indent(_tail(r2.stdout + r2.stderr))}")
      return
    written = parse_written(r2.stdout)
    if before != after:
      self.result(False, name, "destination raw contents changed\n"
                  + compare._excerpt(before, after, limit=16))
    elif written is None:
      self.result(False, name, "summary does not say how many sessions were written:\n"
                  + _indent(_tail(r2.stdout)))
    elif written != 0:
      self.result(False, name, f"summary reports {written} sessions written (expected 0)")
    else:
      self.result(True, name, f"raw contents unchanged, 0 written ({took2:.2f} s)")

  def run(self) -> int:
    args = self.args
    sources = _kinds(args.sources, SOURCE_KINDS)
    dests = _kinds(args.dests)
    if not (self.redis_tls and self.tls_ca) and TLS_KIND in sources + dests:
      print(f"SKIP {TLS_KIND}: SESSMIGRATE_REDIS_TLS_URL / SESSMIGRATE_TLS_DIR not set", flush=True)
      sources = [k for k in sources if k != TLS_KIND]
      dests = [k for k in dests if k != TLS_KIND]
    missing = [p for v, p in self.python.items() if not os.path.exists(p)
               and (v != "adk121" or any(k in v0suite.V0_SOURCES for k in sources))]
    if missing or not self.redis or not self.mysql:
      self.result(False, "setup", (f"missing virtualenv python {missing} (run scripts/setup) "
                                   if missing else "")
                  + ("" if self.redis and self.mysql else
                     "SESSMIGRATE_REDIS_URL / SESSMIGRATE_MYSQL_URL not set "
                     "(source scripts/lib/servers.sh and start_servers)"))
      return self.finish()
    binary_ok = args.references_only or (
        args.sessmigrate and os.access(args.sessmigrate, os.X_OK))
    if not binary_ok:
      self.result(False, "setup", f"sessmigrate binary not found or not executable: "
                  f"{args.sessmigrate!r} (build it, or pass --references-only)")
    refs = self.refs
    v0 = v0suite.V0Checks(self, args.dataset_v0)
    for src in sources:
      t0 = time.monotonic()
      if src in v0suite.V0_SOURCES:
        v0.run_source(src, [d for d in dests if d in KINDS],
                      with_binary=binary_ok and not args.references_only)
        self.timings[src] = time.monotonic() - t0
        continue
      self.source_checks(src, dests, binary_ok)
      self.timings[src] = time.monotonic() - t0
    self.cross_check(refs)
    return self.finish()

  def source_checks(self, src: str, dests: list[str], binary_ok: bool) -> None:
    """Reference, inspect, every copy and the source-unchanged check of a v1 source."""
    args = self.args
    refs = self.refs
    ref = self.reference(src)
    if ref is None:
      return
    refs[src] = ref
    if not binary_ok or args.references_only:
      return
    src_url = self.address(src, "src")
    self.inspect(src, src_url, ref)
    raw_before = self.tool("dump", src, src_url)
    for dst in dests:
      if dst != src:
        self.copy_pair(src, dst, ref)
    raw_after = self.tool("dump", src, src_url)
    self.result(raw_before == raw_after, f"{src}: source unchanged by the copies",
                "" if raw_before == raw_after else
                "\n" + compare._excerpt(raw_before, raw_after))

  def cross_check(self, refs: dict[str, list[dict]]) -> None:
    if len(refs) < 2:
      return
    base = "mysql" if "mysql" in refs else next(iter(refs))
    for kind, ref in refs.items():
      if kind == base:
        continue
      problems = compare.compare(refs[base], ref, cross_check=True)
      self.result(not problems, f"reference {kind} ~ {base}: independent ADK writes agree",
                  "" if not problems else f"{len(problems)} differences; first:\n"
                  + _indent("\n".join(problems[:3])))

  def finish(self) -> int:
    if self.failed == 0 and not self.args.keep and not self.args.work:
      shutil.rmtree(self.work, ignore_errors=True)
    else:
      print(f"work files kept in {self.work}", flush=True)
    if self.timings:
      parts = ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())
      print(f"time: {time.monotonic() - self.started:.1f} s ({parts})", flush=True)
    print(f"{self.passed} passed, {self.failed} failed", flush=True)
    return 0 if self.failed == 0 else 1


# ---------------------------------------------------------------------- helpers
_WRITTEN_PATTERNS = [
    re.compile(r"sessions?\s*:\s*\d+\s+read,\s*(\d+)\s+written", re.I),  # sessmigrate text
    re.compile(r"(\d+)\s+sessions?\s+(?:were\s+|was\s+)?written", re.I),
    re.compile(r"sessions?[ _]written\s*[:=]\s*(\d+)", re.I),
    re.compile(r"written\s*[:=]\s*(\d+)", re.I),
    re.compile(r"wrote\s+(\d+)\s+sessions?", re.I),
    re.compile(r"(\d+)\s+written", re.I),
]


def parse_written(text: str) -> int | None:
  """Number of sessions the copy summary says it wrote (JSON or text summary)."""
  for line in text.splitlines():
    line = line.strip()
    if line.startswith("{"):
      try:
        found = _json_written(json.loads(line))
      except ValueError:
        found = None
      if found is not None:
        return found
  try:
    found = _json_written(json.loads(text))
    if found is not None:
      return found
  except ValueError:
    pass
  for pattern in _WRITTEN_PATTERNS:
    m = pattern.search(text)
    if m:
      return int(m.group(1))
  return None


def _json_written(obj) -> int | None:
  if isinstance(obj, dict):
    for k, v in obj.items():
      lk = k.lower().replace("_", "")
      if lk in ("sessionswritten", "written") and isinstance(v, int):
        return v
      if lk == "sessions" and isinstance(v, dict):
        found = _json_written(v)
        if found is not None:
          return found
    for v in obj.values():
      if isinstance(v, dict):
        found = _json_written(v)
        if found is not None:
          return found
  return None


def _fast_tmp() -> str | None:
  """/dev/shm when usable: ADK's SQLite services commit (fsync) once per event, which
  takes twice as long on disk."""
  shm = "/dev/shm"
  return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _str(data) -> str:
  if isinstance(data, bytes):
    return data.decode("utf-8", "replace")
  return data or ""


def _kinds(text: str | None, allowed: list[str] = KINDS) -> list[str]:
  if not text:
    return list(allowed)
  kinds = [k.strip() for k in text.split(",") if k.strip()]
  bad = [k for k in kinds if k not in allowed]
  if bad:
    raise SystemExit(f"unknown kinds {bad}; expected {allowed}")
  return kinds


def _tail(text: str, lines: int = 12) -> str:
  return "\n".join(text.strip().splitlines()[-lines:])


def _indent(text: str) -> str:
  return "\n".join("    " + line[:300] for line in text.splitlines())


def main() -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--sessmigrate", help="path of the sessmigrate binary")
  p.add_argument("--references-only", action="store_true",
                 help="only the ADK side: write/read every kind and cross-check")
  p.add_argument("--sources", help="comma-separated source kinds (default all: "
                 f"{','.join(SOURCE_KINDS)})")
  p.add_argument("--dests", help="comma-separated destination kinds (default all)")
  p.add_argument("--dataset", default="nasty")
  p.add_argument("--dataset-v0", default="nasty-v0", help="dataset of the v0 sources")
  p.add_argument("--redis-url", help="default $SESSMIGRATE_REDIS_URL")
  p.add_argument("--mysql-url", help="default $SESSMIGRATE_MYSQL_URL")
  p.add_argument("--redis-db-base", type=int, default=50,
                 help="first of the 4 Redis DBs used: community src/dst, adk-redis "
                 "src/dst (default 50: DBs 50-53)")
  p.add_argument("--mysql-db-prefix", default="smt_interop",
                 help="MySQL databases used: PREFIX_src_mysql, PREFIX_dst_mysql, ... "
                 "(must start with smt_; default smt_interop)")
  p.add_argument("--cache", help="directory of the venvs (default $SESSMIGRATE_CACHE "
                 "or ~/.cache/sessmigrate)")
  p.add_argument("--work", help="directory for SQLite files and reads (default: a new "
                 "directory in /dev/shm, else in the system temp directory)")
  p.add_argument("--keep", action="store_true", help="keep the work directory")
  p.add_argument("--sessmigrate-tz", default="Asia/Kolkata")
  p.add_argument("--copy-timeout", type=float, default=300)
  return Suite(p.parse_args()).run()


if __name__ == "__main__":
  sys.exit(main())
