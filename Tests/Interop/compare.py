"""Compares two canonical ADK reads (see adk_io.py `read`).

Normalisations, each forced by a documented store quirk (docs/adk-data-model.md
§18); nothing else is normalised:
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

Schema v0 (google-adk 1.21.0 writes it; run.py compares ADK 1.21 and ADK 2.13
reads of it and of its copies). Only differences that come from the ADK
VERSION, by design, are normalised; a copy read by ADK 2.13 is also compared
with ADK 2.13's own read of the v0 source with none of these:
  * adk121(): ADK 1.21's read.
    - Events are put in (timestamp, id) order: 1.21 sorts by timestamp only,
      so events sharing a timestamp come back in any order (ADK >= 2.7 and
      every sessmigrate target order ties by id; the dataset gives tied
      events increasing ids).
    - long_running_tool_ids is sorted: 1.21 dumps a Python set in hash
      order; 2.x sorts it.
    - Inside actions.compaction, actions.requested_tool_confirmations and
      actions.requested_auth_configs, null dict values are dropped: 1.21
      rebuilds actions with EventActions().model_copy(update=...), which
      leaves those models as plain dicts, so its exclude_none dump keeps
      every null (docs/adk-data-model.md §18). (Done on both sides; 2.x keeps a null that
      sits in an Any-typed payload, the dataset has none there.)
  * v0_view(): an ADK 2.13 read compared with a 1.21 read or with data that
    went through a v0 database.
    - Event keys a v0 row has no column for are dropped (v0 keeps 19 event
      fields, docs/adk-data-model.md §4 and §18: model_version, finish_reason, node_info, ...);
      2.13 adds node_info {"path": ""} to every event it reads. Likewise
      actions keys 1.21's EventActions lacks (transfer_reason, route,
      render_ui_widgets, set_model_response). run.py checks separately that
      the copy WARNS about every field it drops this way.
    - A missing long_running_tool_ids is []: v0 stores None as NULL and both
      1.21 and 2.13 read NULL back as an empty set.
    - "token_endpoint_auth_method": "client_secret_basic" is dropped from
      OAuth2 credentials: a field 2.13 added to OAuth2Auth, filled with its
      default on every read.
    - "scheme": "bearer" is dropped from an auth_scheme whose type_ is
      "apiKey". ADK 2.13 reads a pickled APIKey by re-validating its
      python-mode model_dump against the AuthScheme union, which picks
      HTTPBearer and adds its default scheme; 1.21 reads it without.
      (sessmigrate's v0 reader reproduces ADK 2.13, so its copies hold it.)
    - the 1.21 null-dropping rule above.
"""

from __future__ import annotations

import copy
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


# --------------------------------------------------------------------------- schema v0

# The event fields a v0 `events` row holds (one column each; docs/adk-data-model.md §4).
V0_EVENT_FIELDS = frozenset({
    "id", "invocation_id", "author", "actions", "long_running_tool_ids", "branch",
    "timestamp", "content", "grounding_metadata", "custom_metadata", "usage_metadata",
    "citation_metadata", "partial", "turn_complete", "error_code", "error_message",
    "interrupted", "input_transcription", "output_transcription"})
# EventActions fields of google-adk 1.21.0.
V0_ACTION_FIELDS = frozenset({
    "skip_summarization", "state_delta", "artifact_delta", "transfer_to_agent", "escalate",
    "requested_auth_configs", "requested_tool_confirmations", "compaction", "end_of_agent",
    "agent_state", "rewind_before_invocation_id"})
_NULL_QUIRK_ACTIONS = ("compaction", "requested_tool_confirmations", "requested_auth_configs")


def _drop_nulls(value):
  if isinstance(value, dict):
    return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
  if isinstance(value, list):
    return [_drop_nulls(v) for v in value]
  return value


def _null_quirk(actions: dict) -> None:
  for name in _NULL_QUIRK_ACTIONS:
    if isinstance(actions.get(name), dict):
      actions[name] = _drop_nulls(actions[name])


def _auth_scheme_quirk(actions: dict) -> None:
  for config in (actions.get("requested_auth_configs") or {}).values():
    if not isinstance(config, dict):
      continue
    scheme = config.get("auth_scheme")
    if isinstance(scheme, dict) and scheme.get("type_") == "apiKey" \
        and scheme.get("scheme") == "bearer":
      del scheme["scheme"]
    for cred in ("raw_auth_credential", "exchanged_auth_credential"):
      oauth2 = (config.get(cred) or {}).get("oauth2") if isinstance(config.get(cred), dict) else None
      if isinstance(oauth2, dict) and oauth2.get("token_endpoint_auth_method") == "client_secret_basic":
        del oauth2["token_endpoint_auth_method"]


def adk121(sessions: list[dict]) -> list[dict]:
  """Normalises a google-adk 1.21 read (see the module docstring)."""
  out = copy.deepcopy(sessions)
  for s in out:
    s["events"].sort(key=lambda ev: (ev.get("timestamp", 0), ev.get("id", "")))
    for ev in s["events"]:
      if isinstance(ev.get("long_running_tool_ids"), list):
        ev["long_running_tool_ids"] = sorted(ev["long_running_tool_ids"])
      if isinstance(ev.get("actions"), dict):
        _null_quirk(ev["actions"])
  return out


def v0_view(sessions: list[dict]) -> list[dict]:
  """What a v0 database can hold of an ADK 2.x read (see the module docstring)."""
  out = copy.deepcopy(sessions)
  for s in out:
    for i, ev in enumerate(s["events"]):
      ev = {k: v for k, v in ev.items() if k in V0_EVENT_FIELDS}
      ev["long_running_tool_ids"] = sorted(ev.get("long_running_tool_ids") or [])
      if isinstance(ev.get("actions"), dict):
        ev["actions"] = {k: v for k, v in ev["actions"].items() if k in V0_ACTION_FIELDS}
        _null_quirk(ev["actions"])
        _auth_scheme_quirk(ev["actions"])
      s["events"][i] = ev
  return out


def unholdable_fields(sessions: list[dict]) -> set[str]:
  """Event and actions fields of these sessions that a v0 row cannot hold. node_info
  {"path": ""} is not one: ADK 2.x reads every v0 event back with exactly that."""
  found = set()
  for s in sessions:
    for ev in s["events"]:
      found |= {k for k, v in ev.items() if k not in V0_EVENT_FIELDS
                and not (k == "node_info" and v == {"path": ""})}
      found |= {f"actions.{k}" for k in (ev.get("actions") or {}) if k not in V0_ACTION_FIELDS}
  return found
