"""Compares two canonical ADK reads (see adk_io.py `read`).

Normalisations, each forced by a documented store quirk (reference data model
section 18); nothing else is normalised:
  * `temp:` keys are dropped from session state: google-adk-community's
    create_session keeps them in the blob (every other service drops them, and
    sessmigrate never persists them).
  * last_update_time is compared to the microsecond (|a - b| < 1e-6):
    DatabaseSessionService keeps it in DATETIME(6) / naive-UTC text, while
    event timestamps keep full float precision in event_data and are compared
    exactly.
  * State is compared key-order-insensitively but type-sensitively (1 vs 1.0,
    0.0 vs -0.0 and 2**63-1 vs 9.223372036854776e18 all differ):
    SqliteSessionService rebuilds app/user state with json_group_object in SQL
    (delta keys first), so key order is not stable across stores.
  * For two INDEPENDENT writes of the dataset (cross_check=True) only: the
    last_update_time of an event-less session is the wall clock at
    create_session, so it cannot agree; a copy must preserve it.
"""

from __future__ import annotations

import difflib
import json


def canon(value) -> str:
  """Type-sensitive, key-order-insensitive text of a JSON value."""
  return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=True)


def _state(state: dict) -> dict:
  return {k: v for k, v in state.items() if not k.startswith("temp:")}


def _key(s: dict) -> tuple:
  return (s["app"], s["user"], s["id"])


def _excerpt(a: str, b: str, limit: int = 12) -> str:
  lines = list(difflib.unified_diff(
      a.splitlines(), b.splitlines(), "expected", "actual", n=1, lineterm=""))
  if len(lines) > limit:
    lines = lines[:limit] + [f"... ({len(lines) - limit} more diff lines)"]
  return "\n".join("    " + line[:200] for line in lines)


def _pretty(value) -> str:
  return json.dumps(value, sort_keys=True, ensure_ascii=True, indent=1)


def compare(expected: list[dict], actual: list[dict], cross_check: bool = False) -> list[str]:
  """Returns a list of problems (empty when equal). Each names the session."""
  problems: list[str] = []
  exp = {_key(s): s for s in expected}
  act = {_key(s): s for s in actual}
  for k in sorted(exp.keys() - act.keys()):
    problems.append(f"missing session {k}")
  for k in sorted(act.keys() - exp.keys()):
    problems.append(f"unexpected session {k}")
  for k in sorted(exp.keys() & act.keys()):
    e, a = exp[k], act[k]
    name = "/".join(k)
    es, as_ = _state(e["state"]), _state(a["state"])
    if canon(es) != canon(as_):
      diff_keys = sorted(set(es) ^ set(as_)) + sorted(
          x for x in set(es) & set(as_) if canon(es[x]) != canon(as_[x]))
      problems.append(f"{name}: state differs in keys {diff_keys[:8]}\n"
                      + _excerpt(_pretty(es), _pretty(as_)))
    if len(e["events"]) != len(a["events"]):
      problems.append(f"{name}: {len(e['events'])} events expected, {len(a['events'])} read")
    ids_e = [x.get("id") for x in e["events"]]
    ids_a = [x.get("id") for x in a["events"]]
    if ids_e != ids_a:
      problems.append(f"{name}: event order/ids differ\n" + _excerpt(
          "\n".join(map(str, ids_e)), "\n".join(map(str, ids_a))))
    else:
      for ev_e, ev_a in zip(e["events"], a["events"]):
        if canon(ev_e) != canon(ev_a):
          problems.append(f"{name}: event {ev_e.get('id')} differs\n"
                          + _excerpt(_pretty(ev_e), _pretty(ev_a)))
          break
    lut_e, lut_a = e["last_update_time"], a["last_update_time"]
    if cross_check and not e["events"]:
      continue
    if abs(lut_e - lut_a) >= 1e-6:
      problems.append(f"{name}: last_update_time {lut_e!r} expected, {lut_a!r} read")
  return problems
