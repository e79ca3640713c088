"""Schema-v0 checks of the ADK interop suite (run.py runs them for the sources
mysql-v0 and sqlite-v0). Stdlib only; every ADK call runs in a venv python.

For each v0 source kind (dataset `nasty-v0`, dataset.py):
  1. ADK 1.21 (venv-adk121) writes the dataset into a fresh v0 database and
     reads it back: the REFERENCE (normalised by compare.adk121).
     ADK 2.13 reads the v0 database directly (DIRECT); it must equal the
     reference up to the documented version normalisations (compare.v0_view).
     `sessmigrate inspect` must report schema version 0 and the same counts.
  2. For every v1 destination kind: fresh destination, `sessmigrate copy`, ADK
     2.13 reads the destination. It must equal DIRECT with none of the v0
     rules of compare.py (the strongest check: ADK's own v0 reader against
     ours) and, through compare.v0_view, the 1.21 reference. The copy must
     print no `warning:` (a v1 target holds everything v0 holds). A second
     copy writes 0 sessions and leaves the destination's raw contents
     unchanged. The v0 source is never modified.
  3. Round trip (mysql-v0 via its redis-community copy, sqlite-v0 via its
     mysql v1 copy): ADK 2.13 appends dataset.APPENDS events to sessions of the
     copy, then `sessmigrate copy COPY V0` writes them back into the v0
     database. ADK 1.21 must read the new events with equal actions (v0_view of
     ADK 2.13's read of the copy) and the old events as the reference; ADK 2.13
     must read the v0 database as it read the copy (minus what v0 cannot hold);
     the copy must print a `warning:` line naming each field it drops
     (model_version, finish_reason, node_info); the same copy again writes 0
     sessions and changes no raw row.
  4. Bad pickles (mysql-v0 only): a clone of the 1.21-written database gets the
     `actions` of one event replaced, one session at a time: a pickle that
     reaches os.system (never loaded by the suite), a truncated pickle, random
     bytes. `sessmigrate copy --batch-size 2` into a fresh SQLite file must exit
     2, name the session (app, user, id) and the event id on stderr, and leave
     the target holding exactly the sessions of the batches before the bad
     session's batch (scan order: ORDER BY app_name, user_id, id), each
     complete and equal to DIRECT.
"""

from __future__ import annotations

import json
import os
import time

import compare

V0_SOURCES = ("mysql-v0", "sqlite-v0")
ROUND_TRIP_VIA = {"mysql-v0": "redis-community", "sqlite-v0": "mysql"}
BAD_BATCH_SIZE = 2
PAYLOAD_MARKER = "sessmigrate-must-not-run-this"   # the os.system argument (store_tool.py)


def _keys(sessions: list[dict]) -> list[tuple]:
  return [(s["app"], s["user"], s["id"]) for s in sessions]


def _first(problems: list[str], n: int = 3) -> str:
  return f"{len(problems)} problems; first:\n" + _indent("\n".join(problems[:n]))


def _indent(text: str) -> str:
  return "\n".join("    " + line[:300] for line in text.splitlines())


def _tail(text: str, lines: int = 12) -> str:
  return "\n".join(text.strip().splitlines()[-lines:])


def warning_lines(output: str) -> list[str]:
  return [ln.strip() for ln in output.splitlines() if ln.strip().startswith("warning:")]


class V0Checks:
  def __init__(self, suite, dataset_name: str):
    self.s = suite
    self.dataset = dataset_name
    import dataset
    self.appends = dataset.APPENDS.get(dataset_name, [])
    self.appended_ids = {ev["id"] for a in self.appends for ev in a["events"]}

  # ---------------------------------------------------------------- plumbing
  def read(self, kind: str, url: str, name: str, venv: str | None = None) -> list[dict]:
    return self.s.adk_read(kind, url, name, venv=venv, dataset=self.dataset)

  def result(self, ok: bool, name: str, detail: str = "") -> bool:
    return self.s.result(ok, name, detail)

  # ---------------------------------------------------------------- 1. references
  def run_source(self, src: str, dests: list[str], with_binary: bool) -> None:
    s = self.s
    url = s.address(src, "src")
    name = f"{src}: ADK 1.21 writes the v0 dataset and reads it back"
    t0 = time.monotonic()
    try:
      s.tool("reset", src, url)
      s.adk("write", src, url, venv="adk121", dataset=self.dataset)
      raw_ref = self.read(src, url, f"ref121-{src}", venv="adk121")
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))
      return
    import dataset
    want = set(_keys(dataset.DATASETS[self.dataset]))
    got = set(_keys(raw_ref))
    if want != got:
      self.result(False, name, f"sessions missing {sorted(want - got)[:5]}, "
                  f"unexpected {sorted(got - want)[:5]}")
      return
    events = sum(len(x["events"]) for x in raw_ref)
    self.result(True, name, f"{len(raw_ref)} sessions, {events} events, "
                f"{time.monotonic() - t0:.1f} s")
    ref = compare.adk121(raw_ref)

    name = f"{src}: ADK 2.13 reads the v0 database as ADK 1.21 does"
    try:
      direct = self.read(src, url, f"direct213-{src}")
    except Exception as e:  # noqa: BLE001
      self.result(False, name, str(e))
      return
    problems = compare.compare(ref, compare.v0_view(direct))
    self.result(not problems, name, _first(problems) if problems else
                "equal after the version normalisations of compare.py")
    if not with_binary:
      return

    self.inspect(src, url, ref)
    bad_url = None
    if src == "mysql-v0":
      bad_url = s.address(src, "bad")
      try:
        s.tool("clone", src, url, bad_url)
      except Exception as e:  # noqa: BLE001
        self.result(False, f"{src}: bad pickles", f"cannot clone the v0 database: {e}")
        bad_url = None
    raw_before = s.tool("dump", src, url)
    copied = set()
    for dst in dests:
      if self.copy_pair(src, dst, ref, direct):
        copied.add(dst)
    raw_after = s.tool("dump", src, url)
    self.result(raw_before == raw_after, f"{src}: source unchanged by the copies",
                "" if raw_before == raw_after else "\n" + compare._excerpt(raw_before, raw_after))
    via = ROUND_TRIP_VIA[src]
    if via in dests:
      self.round_trip(src, via, ref, copied_ok=via in copied, raw_before=raw_after)
    if bad_url:
      self.bad_pickles(src, bad_url, direct)

  def inspect(self, src: str, url: str, ref: list[dict]) -> None:
    name = f"{src}: inspect --format json"
    r, _ = self.s.sessmigrate("inspect", url, "--format", "json")
    if r.returncode != 0:
      self.result(False, name, f"exit {r.returncode}\n{_indent(_tail(r.stdout + r.stderr))}")
      return
    try:
      report = json.loads(r.stdout)
    except ValueError:
      self.result(False, name, "output is not JSON:\n" + _indent(_tail(r.stdout)))
      return
    want = {"sessions": len(ref), "events": sum(len(x["events"]) for x in ref),
            "schema_version": "0"}
    got = {k: report.get(k) for k in want}
    self.result(got == want, name, f"schema version {got['schema_version']}, "
                f"{got['sessions']} sessions, {got['events']} events"
                + ("" if got == want else f" (expected {want})"))

  # ---------------------------------------------------------------- 2. copies
  def copy_pair(self, src: str, dst: str, ref: list[dict], direct: list[dict]) -> bool:
    s = self.s
    src_url, dst_url = s.address(src, "src"), s.address(dst, "dst")
    label = f"{src} -> {dst}"
    names = (f"{label}: copy; ADK 2.13 reads it as it reads the v0 source",
             f"{label}: ADK 2.13 read of the copy ~ ADK 1.21 reference",
             f"{label}: second copy is a no-op")
    try:
      s.tool("reset", dst, dst_url)
    except Exception as e:  # noqa: BLE001
      for n in names:
        self.result(False, n, f"cannot reset the destination: {e}")
      return False
    r, took = s.copy(src_url, dst_url)
    output = r.stdout + r.stderr
    if r.returncode != 0:
      detail = f"exit {r.returncode}\n{_indent(_tail(output))}"
      self.result(False, names[0], detail)
      self.result(False, names[1], "copy failed")
      self.result(False, names[2], "first copy failed")
      return False
    try:
      got = self.read(dst, dst_url, f"read-{src}-to-{dst}")
    except Exception as e:  # noqa: BLE001
      self.result(False, names[0], f"ADK cannot read the destination: {e}")
      self.result(False, names[1], "ADK cannot read the destination")
      s.noop_check(label, src_url, dst, dst_url)
      return False
    problems = compare.compare(direct, got)
    if any(m in output for m in s.password_markers):
      problems.insert(0, "the copy output shows the MySQL password")
    warnings = warning_lines(output)
    if warnings:
      problems.insert(0, "a copy into a v1 store dropped fields: " + "; ".join(warnings))
    written = s.parse_written(r.stdout)
    self.result(not problems, names[0], _first(problems) if problems else
                f"{len(got)} sessions identical ({took:.2f} s, "
                f"{written if written is not None else '?'} written)")
    problems = compare.compare(ref, compare.v0_view(got))
    self.result(not problems, names[1], _first(problems) if problems else "")
    s.noop_check(label, src_url, dst, dst_url)
    return True

  # ---------------------------------------------------------------- 3. round trip
  def round_trip(self, src: str, via: str, ref: list[dict], copied_ok: bool,
                 raw_before: str) -> None:
    s = self.s
    src_url, via_url = s.address(src, "src"), s.address(via, "dst")
    label = f"{src} -> {via} -> {src}"
    names = (f"{label}: ADK 2.13 appends to the copy; copy back; ADK 1.21 reads the new "
             "events and the old ones unchanged",
             f"{label}: the copy back warns about every field v0 cannot hold",
             f"{label}: ADK 2.13 reads the v0 database as it reads the copy",
             f"{label}: second copy back is a no-op")
    if not copied_ok:
      for n in names:
        self.result(False, n, f"no copy {src} -> {via} to append to")
      return
    try:
      s.adk("append", via, via_url, dataset=self.dataset)
      appended = self.read(via, via_url, f"appended-{via}")
    except Exception as e:  # noqa: BLE001
      for n in names:
        self.result(False, n, f"ADK 2.13 cannot append to / read the copy: {e}")
      return
    present = {ev["id"] for x in appended for ev in x["events"]}
    if not self.appended_ids <= present:
      for n in names:
        self.result(False, n, f"ADK 2.13 did not append {sorted(self.appended_ids - present)}")
      return
    r, took = s.copy(via_url, src_url)
    output = r.stdout + r.stderr
    if r.returncode != 0:
      for n in names:
        self.result(False, n, f"copy back: exit {r.returncode}\n{_indent(_tail(output))}")
      return
    written = s.parse_written(r.stdout)
    try:
      rewritten = self.old_rows_rewritten(raw_before, s.tool("dump", src, src_url))
    except Exception:  # noqa: BLE001
      rewritten = "?"

    # a. ADK 1.21 reads the v0 database.
    try:
      back121 = compare.adk121(self.read(src, src_url, f"roundtrip121-{src}", venv="adk121"))
    except Exception as e:  # noqa: BLE001
      back121 = None
      self.result(False, names[0], f"ADK 1.21 cannot read the v0 database: {e}")
    if back121 is not None:
      problems = compare.compare(compare.v0_view(appended), back121)
      problems += self.old_events_unchanged(ref, back121)
      n_new = sum(1 for x in back121 for ev in x["events"] if ev["id"] in self.appended_ids)
      self.result(not problems, names[0], _first(problems) if problems else
                  f"{n_new} new events in {len(self.appends)} sessions ({took:.2f} s, "
                  f"{written if written is not None else '?'} sessions written; raw rows "
                  f"of old events rewritten: {rewritten})")

    # b. Nothing dropped silently.
    new_events = [{"events": [ev for x in appended for ev in x["events"]
                              if ev["id"] in self.appended_ids]}]
    need = sorted(compare.unholdable_fields(new_events))
    warnings = warning_lines(output)
    missing = [f for f in need if not any(f.split(".")[-1] in w for w in warnings)]
    self.result(not missing, names[1],
                f"no warning names {missing}; warnings: {warnings or 'none'}" if missing else
                f"{len(warnings)} warnings cover {need}")

    # c. The strongest check: ADK 2.13's own v0 reader agrees.
    try:
      back213 = self.read(src, src_url, f"roundtrip213-{src}")
      problems = compare.compare(compare.v0_view(appended), compare.v0_view(back213))
      self.result(not problems, names[2], _first(problems) if problems else
                  "equal except the fields v0 cannot hold")
    except Exception as e:  # noqa: BLE001
      self.result(False, names[2], f"ADK 2.13 cannot read the v0 database: {e}")

    s.noop_check(f"{label} (copy back)", via_url, src, src_url, name=names[3])

  def old_rows_rewritten(self, before: str, after: str) -> str:
    """How many raw `events` rows of the old events differ after the copy back, and in
    which columns (informational: a rewritten session gets its events re-encoded)."""
    def rows(dump: str) -> tuple[list, dict]:
      table = json.loads(dump)["events"]
      cols = table["columns"]
      key = [cols.index(c) for c in ("id", "app_name", "user_id", "session_id")]
      return cols, {tuple(r[i] for i in key): r for r in table["rows"]}
    cols, old = rows(before)
    _, new = rows(after)
    changed = [(r, new.get(k)) for k, r in old.items()
               if k[0] not in self.appended_ids and new.get(k) != r]
    names = sorted({c for a, b in changed for c, x, y in zip(cols, a, b or a) if x != y}
                   | ({"(deleted)"} if any(b is None for _, b in changed) else set()))
    return f"{len(changed)}" + (f" (columns {', '.join(names)})" if names else "")

  def old_events_unchanged(self, ref: list[dict], back: list[dict]) -> list[str]:
    problems = []
    got = {(x["app"], x["user"], x["id"]): x for x in back}
    for x in ref:
      k = (x["app"], x["user"], x["id"])
      if k not in got:
        problems.append(f"session {k} is gone")
        continue
      old = [ev for ev in got[k]["events"] if ev["id"] not in self.appended_ids]
      if compare.canon(old) != compare.canon(x["events"]):
        ids = [ev["id"] for ev in x["events"]]
        changed = [ev["id"] for ev, e0 in zip(old, x["events"])
                   if compare.canon(ev) != compare.canon(e0)]
        problems.append(f"{'/'.join(k)}: old events changed: {changed[:5] or 'order/count'}"
                        + ("" if len(old) == len(ids) else f" ({len(old)} of {len(ids)} left)"))
    return problems

  # ---------------------------------------------------------------- 4. bad pickles
  def bad_pickles(self, src: str, bad_url: str, direct: list[dict]) -> None:
    s = self.s
    try:
      order = [tuple(r) for r in json.loads(s.tool("order", src, bad_url))]
    except Exception as e:  # noqa: BLE001
      self.result(False, f"{src}: bad pickles", f"cannot list the sessions: {e}")
      return
    by_key = {(x["app"], x["user"], x["id"]): x for x in direct}
    # Sessions with events and plain enough names to find in an error message.
    candidates = [r for r in order if r[3] > 0 and not any(c in "".join(r[:3]) for c in "\"'\\")]
    if len(candidates) < 3:
      self.result(False, f"{src}: bad pickles", f"too few candidate sessions: {candidates}")
      return
    picks = [("global", candidates[-1]), ("truncated", candidates[len(candidates) // 2]),
             ("random", candidates[0])]
    for mode, (app, user, sid, _) in picks:
      events = by_key[(app, user, sid)]["events"]
      eid = events[len(events) // 2]["id"]
      self.bad_pickle(src, bad_url, order, mode, app, user, sid, eid, direct)

  def bad_pickle(self, src, bad_url, order, mode, app, user, sid, eid, direct) -> None:
    s = self.s
    name = (f"{src}: bad pickle ({mode}) in {app}/{user}/{sid} event {eid}: exit 2, "
            "named, no partial session")
    path = os.path.join(os.path.abspath(s.work), f"bad-{mode}.db")
    target = "sqlite:///" + path + "?layout=database"
    s.tool("reset", "sqlite-dss", target)
    try:
      original = s.tool("corrupt", src, bad_url, app, user, sid, eid, mode).strip()
    except Exception as e:  # noqa: BLE001
      self.result(False, name, f"cannot corrupt the event: {e}")
      return
    try:
      # One pipeline: the batches before the bad one are exactly those written (with several workers, the
      # other workers' batches would be written too; tests/SessMigrateTests/WorkerFaultTests cover that).
      r, took = s.sessmigrate("copy", bad_url, target, "--batch-size", str(BAD_BATCH_SIZE), "--workers", "1")
    finally:
      s.tool("corrupt", src, bad_url, app, user, sid, eid, "restore:" + original)
    problems = []
    if r.returncode != 2:
      problems.append(f"exit {r.returncode} (expected 2)")
    missing = [x for x in (app, user, sid, eid) if x not in r.stderr]
    if missing:
      problems.append(f"stderr does not name {missing}: {_tail(r.stderr, 3)!r}")
    if any(m in r.stdout + r.stderr for m in s.password_markers):
      problems.append("the output shows the MySQL password")
    if PAYLOAD_MARKER in r.stdout + r.stderr:
      problems.append("the output shows the payload of the bad pickle")
    keys = [tuple(x[:3]) for x in order]
    index = keys.index((app, user, sid))
    expected = keys[:index - index % BAD_BATCH_SIZE]
    try:
      got = self.read("sqlite-dss", target, f"bad-{mode}") if os.path.exists(path) else []
    except Exception as e:  # noqa: BLE001
      got = None
      problems.append(f"ADK cannot read the target: {e}")
    if got is not None:
      present = _keys(got)
      if set(present) != set(expected):
        problems.append(f"target holds {sorted(present)}; expected the sessions of the batches "
                        f"before the bad one: {sorted(expected)}")
      else:
        want = [x for x in direct if (x["app"], x["user"], x["id"]) in set(expected)]
        problems += compare.compare(want, got)
    msg = _tail(r.stderr, 1)
    self.result(not problems, name, _first(problems, 4) if problems else
                f"{len(expected)} earlier sessions complete, {msg[:200]!r}")
