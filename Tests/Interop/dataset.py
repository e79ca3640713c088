"""Deterministic NASTY dataset for the ADK interop suite.

The dataset is plain data (importable without ADK); `write_dataset()` turns it
into ADK objects and writes it THROUGH a session service's own create_session /
append_event, the way a real ADK application would.

Write order: phase 1 creates every session, phase 2 appends every event (in
each session's list order, which is also timestamp order).

Exclusions, each forced by a store that cannot hold the feature (see
docs/adk-data-model.md §18):
  * Every `app:`/`user:` key given at create_session is set again by a later
    event of the same app (and user). google-adk-community's create_session
    keeps those keys private to the session blob and writes no hash, so a
    create-only app/user key would be visible in one session there and in all
    sessions of the app everywhere else. `check()` enforces the rule.
  * No app or user name contains ':' or a glob character (`*?[]\\`):
    google-adk-redis lists sessions with SCAN MATCH session:{app}:{user}:*.
  * Session ids are unique across apps and users (community keys sessions by
    id alone), have no leading/trailing blanks (both Redis services strip()),
    and never differ only by case, accents or which emoji they hold (MySQL
    utf8mb4_unicode_ci primary keys; UCA 4.0 weighs all non-BMP characters
    equally). At most one emoji-bearing value per key column and scope.
  * No NaN/Infinity (orjson writes them as null) and no lone surrogates (orjson
    and MySQL utf8mb4 reject them); integers stay within signed 64 bits (orjson).
  * No NUL in top-level string values of a state that events update
    (SqliteSessionService cuts them at the NUL when it merges state in SQL).
  * Events of a session are appended in non-decreasing timestamp order, and
    events sharing a timestamp get ids increasing in insertion order (the
    DatabaseSessionService orders ties by id, SqliteSessionService by rowid,
    Redis services by list position). Ids are ASCII so collation cannot reorder.

`nasty-v0` (V0_SESSIONS) is written by google-adk 1.21.0 into a schema-v0
database: the sessions above plus one ("acts ☂") whose events carry every 1.21
EventActions field (two AuthConfigs, tool confirmations, escalate,
transfer_to_agent, end_of_agent, agent_state, rewind_before_invocation_id,
compaction with text, bytes and a function call, a tuple in state_delta), transcriptions, grounding and
citation metadata and a 300-character error_message. What 1.21 cannot hold:
  * Not excluded, just lost: fields without a v0 column (s1-e04's model_version
    and finish_reason) and sub-microsecond timestamp digits (T_SUB, T_ROUND).
    1.21 drops them silently on write; the reference (1.21's read) lacks them.
  * Only 1.x Event fields (1.21's Event is extra='forbid'); none of the 2.x ones.
  * No bytes, sets or datetimes in state_delta (1.21 json.dumps the state
    column); bytes appear in content (inline_data). Tuples are fine.
  * error_message at most 1024 characters (VARCHAR(1024) in the 1.21 DDL).
APPENDS["nasty-v0"] are the events ADK 2.13 appends for the round trip back into
v0 (see APPENDS_V0).
"""

from __future__ import annotations

import copy

# --------------------------------------------------------------------------
# nasty values

BIG_INT = 9007199254740993          # 2**53 + 1: not representable as a double
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
CONTROL = "ctl:\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f|\u0085\u2028\u2029"
# SqliteSessionService merges every state_delta into the stored app/user/session
# state in SQL (json_each + json_group_object); a TOP-LEVEL string value of a
# merged state is cut at its first NUL there. Nested values keep NUL, and so
# does state that no event ever merges into (s-empty), so only top-level
# values of merged state avoid it.
CONTROL_NO_NUL = CONTROL.replace("\x00", "")
NON_BMP = "𝄞 🦆 😀 𠜎 🏳️‍🌈"
COMBINING = "e\u0301 n\u0303 a\u030a\u0323 Zoe\u0308 \u200d\u200b\ufeff \u202eRTL"

FLOATS = {
    "one": 1.0,
    "tenth": 0.1,
    "tiny": 1e-07,
    "huge": 1.5e300,
    "denormal": 5e-324,
    "sum": 0.30000000000000004,
    "neg_zero": -0.0,
    "e16": 1e16,
    "whole": 123456789.0,
    "neg": -2.5e-10,
}
INTS = {"big": BIG_INT, "max": INT64_MAX, "min": INT64_MIN, "zero": 0, "neg": -1}

NESTED = {
    "list": [1, 1.0, "1", None, True, False, [], {}, [[[]]], {"a": {"b": {"c": [0.1]}}}],
    "obj": {"z": 1, "a": 2, "": "empty key", "ключ": "значение", "🔑": NON_BMP},
    "floats": dict(FLOATS),
    "ints": dict(INTS),
    "mixed": [FLOATS["huge"], BIG_INT, INT64_MAX, -0.0, "\u0000", "é"],
}

BLOB_STD_VS_URLSAFE = b"\xfb\xff\xfe"      # std '+//+', url-safe '-__-'
BLOB_PADDED = b"\xfb"                      # '+w==' / '-w=='
BLOB_MIXED = bytes(range(256)) + b"\xfb\xef\xbe\xff"

# --------------------------------------------------------------------------
# apps, users, sessions

APP_A = "app_alpha"
APP_B = "app beta ü"
APP_C = "app-γ.2"
U1 = "u1"
U2 = "user two"
U3 = "üser 🦆"

T0 = 1700000000.123456       # microsecond part
T_SUB = 1700000000.1234567   # sub-microsecond part
T_TIE = 1700000002.000001    # shared by several events
T_ROUND = 1700000003.9999995 # rounds up to the next second at microseconds
T_FAR = 4102444800.000001    # year 2100


def _text(t: str, role: str = "user") -> dict:
  return {"role": role, "parts": [{"text": t}]}


def _ev(eid: str, ts: float, author: str = "user", **kw) -> dict:
  d = {"id": eid, "timestamp": ts, "author": author,
       "invocation_id": kw.pop("invocation_id", "inv-" + eid)}
  d.update(kw)
  return d


def _long_session_events() -> list[dict]:
  events = []
  ts = 1710000000.000001
  for i in range(320):
    if i % 10 != 5:            # every tenth event shares the previous timestamp
      ts = round(ts + 0.25 + (i % 7) * 1e-6, 6)
    delta = {}
    if i % 25 == 0:
      delta = {"counter": i, "progress": i / 320, "temp:i": i}
    if i == 319:
      delta = {"counter": i, "user:last_seen": ts, "app:long_done": True}
    role = "user" if i % 2 == 0 else "model"
    events.append(_ev(
        f"long-{i:04d}", ts, author=("user" if role == "user" else "agent"),
        invocation_id=f"inv-long-{i // 2:04d}",
        content=_text(f"message {i} – ü 🦆 " + ("x" * (i % 13)), role),
        actions={"state_delta": delta} if delta else {},
    ))
  return events


SESSIONS: list[dict] = [
    {
        "app": APP_A, "user": U1, "id": "sess: 1",
        "state": {
            "count": 0, "nested": NESTED, "unicode": "Zoë ünï 𝄞",
            "control": CONTROL_NO_NUL, "control_nested": [CONTROL], "app": "not a prefix", "apple:x": 1,
            "temp": "not a prefix either",
            "app:theme": "dark", "user:name": "Zoë", "temp:scratch": 1,
        },
        "events": [
            _ev("s1-e01", T0, content=_text("héllo " + NON_BMP + " " + COMBINING),
                actions={"state_delta": {"count": 1, "app:theme": "light",
                                         "user:name": "Zoë 2", "temp:x": "gone",
                                         "floats": FLOATS}}),
            _ev("s1-e02", T_SUB, author="root_agent",
                content={"role": "model", "parts": [
                    {"text": "calling tool"},
                    {"function_call": {"id": "call-1", "name": "get_weather",
                                       "args": {"city": "Zürich", "days": 3,
                                                "ratio": 0.1, "big": BIG_INT,
                                                "nested": {"a": [1, 2.5, None, True]}}}},
                ]},
                long_running_tool_ids={"call-1", "call-0"},
                branch="root_agent.sub", custom_metadata={"k": [1.0, "ü", {"x": None}]}),
            _ev("s1-e03", 1700000001.5, author="root_agent",
                content={"role": "user", "parts": [
                    {"function_response": {"id": "call-1", "name": "get_weather",
                                           "response": {"result": {"temp": -0.0, "desc": CONTROL,
                                                                   "ints": INTS}}}},
                ]}),
            _ev("s1-e04", T_TIE, author="root_agent",
                content=_text("tie a", "model"), turn_complete=True,
                finish_reason="STOP", model_version="gemini-x",
                usage_metadata={"prompt_token_count": 10, "candidates_token_count": 5,
                                "total_token_count": 15}),
            _ev("s1-e05", T_TIE, content=_text("tie b")),
            _ev("s1-e06", T_TIE, author="root_agent", content=_text("tie c", "model"),
                actions={"state_delta": {"user:prefs": {"lang": "fr", "n": [1, 2]},
                                         "app:flags": [True, False, None]},
                         "artifact_delta": {"report.txt": 2, "ü/🦆.bin": 0},
                         "transfer_to_agent": "helper", "escalate": False,
                         "skip_summarization": True}),
            _ev("s1-e07", T_ROUND, author="helper", content=_text("rounding", "model"),
                error_code="E42", error_message="boom: " + CONTROL, interrupted=True),
        ],
    },
    {
        "app": APP_A, "user": U1, "id": "a:b:c",
        "state": {"kind": "colons", "list": [[], {}, ""], "user:name": "create-only-shadowed"},
        "events": [
            _ev("abc-e1", 1700000100.0, content={"role": "user", "parts": [
                {"text": "binary follows"},
                {"inline_data": {"mime_type": "application/octet-stream",
                                 "data": BLOB_STD_VS_URLSAFE}},
                {"inline_data": {"mime_type": "image/png", "data": BLOB_PADDED}},
                {"inline_data": {"mime_type": "application/x-all", "data": BLOB_MIXED}},
            ]}),
            _ev("abc-e2", 1700000100.000001, author="agent",
                content=_text("compacted", "model"),
                actions={"compaction": {"start_timestamp": 1700000000.5,
                                        "end_timestamp": 1700000100.0000005,
                                        "compacted_content": _text("summary ü", "model")},
                         "state_delta": {"kind": "colons 2", "user:name": "Zoë 3"}}),
        ],
    },
    {
        "app": APP_A, "user": U1, "id": "s-empty",
        "state": {"only": "created", "nul_top": CONTROL, "nested": {"deep": [FLOATS, INTS]},
                  "app:theme": "create-only-shadowed", "temp:gone": True},
        "events": [],
    },
    {
        "app": APP_A, "user": U2, "id": "s-long",
        "state": {"counter": -1},
        "events": _long_session_events(),
    },
    {
        "app": APP_B, "user": U1, "id": "ünï 🦆",
        # Two keys that differ only by Unicode normalization (é and e + U+0301) are two keys to
        # Python and every store; Swift's String == calls them equal. So is a key whose first
        # character after "app:" is a combining mark, which is app state to ADK (str.startswith).
        "state": {"ünï": "ü", "k": FLOATS, "user:lang": "de", "caf\u00e9": "composed", "cafe\u0301": "decomposed"},
        "events": [
            _ev("u-e1", 0.5, content=_text("epoch half")),
            _ev("u-e2", 86400.000001, content=_text("day one")),
            _ev("u-e3", T_FAR, author="agent", content=_text("far future " + NON_BMP, "model"),
                actions={"state_delta": {"user:lang": "fr", "app:version": 2,
                                         "app:": "empty app key", "user:ints": INTS,
                                         "user:floats": FLOATS, "user:ctl": CONTROL_NO_NUL,
                                         "app:\u0301k": "combining mark after the colon",
                                         "user:caf\u00e9": 1, "user:cafe\u0301": 2}}),
        ],
    },
    {
        "app": APP_B, "user": U3, "id": "it's \"q\" \\ back/slash?x=1&y#z %20",
        "state": {"quote": "'\"`", "backslash": "\\\\n", "percent": "%s %d %%"},
        "events": [
            _ev("q-e1", T0, content=_text("sql ' \" \\ %")),
            _ev("q-e2", T0 + 1, author="agent", content=_text("ok", "model"),
                actions={"state_delta": {"user:emoji": "🦆", "quote": None}}),
        ],
    },
    {
        "app": APP_C, "user": U2, "id": "sess-gamma",
        "state": {"γ": {"δ": [1.0, 2.0]}, "app:sys": {"v": 1}},
        "events": [
            _ev("g-e1", T0, content=_text("γ")),
            _ev("g-e2", T0, content=_text("γ tie"),
                actions={"state_delta": {"app:sys": {"v": 2, "nested": NESTED}}}),
        ],
    },
    {
        "app": APP_C, "user": U1, "id": "s-empty-2",
        "state": {},
        "events": [],
    },
]

# A small, friendly dataset for scripts/demo.
SAMPLE_SESSIONS: list[dict] = [
    {
        "app": "support_bot", "user": "alice", "id": "chat-001",
        "state": {"topic": "billing", "app:model": "gemini-2.5-flash", "user:tier": "gold"},
        "events": [
            _ev("c1-1", 1764240000.25, content=_text("Hi, my invoice looks wrong 🧾")),
            _ev("c1-2", 1764240001.5, author="support_agent",
                content=_text("Let me check invoice #42 for you.", "model"),
                actions={"state_delta": {"invoice": 42, "app:model": "gemini-2.5-flash"}}),
            _ev("c1-3", 1764240009.125, content=_text("Thanks!"),
                actions={"state_delta": {"user:tier": "gold", "resolved": True}}),
        ],
    },
    {
        "app": "support_bot", "user": "bob", "id": "chat-002",
        "state": {"topic": "login"},
        "events": [
            _ev("c2-1", 1764241000.0, content=_text("I can't log in")),
            _ev("c2-2", 1764241002.75, author="support_agent",
                content=_text("Try resetting your password.", "model")),
        ],
    },
    {
        "app": "travel_planner", "user": "alice", "id": "trip-paris",
        "state": {"city": "Paris", "days": 3, "budget_eur": 1200.0},
        "events": [
            _ev("t1-1", 1764250000.0, content=_text("Plan 3 days in Paris")),
        ],
    },
]

# --------------------------------------------------------------------------
# schema v0 (google-adk 1.21.0 writes it; see the end of the module docstring)

AUTH_API_KEY = {
    "auth_scheme": {"type": "apiKey", "in": "header", "name": "X-Key-ü"},
    "raw_auth_credential": {"auth_type": "apiKey", "api_key": "k-123 🦆"},
    "credential_key": "cred-api",
}
AUTH_OAUTH2 = {
    "auth_scheme": {"type": "oauth2", "description": "OAuth ü",
                    "flows": {"authorizationCode": {
                        "authorizationUrl": "https://auth.test/authorize?a=1&b=%20",
                        "tokenUrl": "https://auth.test/token",
                        "scopes": {"read": "Read ü", "write:all": "Write 🦆"}}}},
    "raw_auth_credential": {"auth_type": "oauth2",
                            "oauth2": {"client_id": "cid", "client_secret": "not-a-secret",
                                       "redirect_uri": "https://app.test/cb",
                                       "expires_at": INT64_MAX}},
    "credential_key": "cred-oauth",
}


def _v0_action_events() -> list[dict]:
  t = 1700000500.000001
  return [
      _ev("x-e1", t, author="root_agent", content={"role": "model", "parts": [
          {"function_call": {"id": "call-auth", "name": "adk_request_credential",
                             "args": {"function_call_id": "call-0"}}}]},
          long_running_tool_ids={"call-auth"},
          actions={"requested_auth_configs": {"call-0": AUTH_API_KEY,
                                              "call-ü": AUTH_OAUTH2}}),
      _ev("x-e2", t + 1, author="root_agent", content={"role": "model", "parts": [
          {"function_call": {"id": "call-2", "name": "adk_request_confirmation",
                             "args": {"amount": 12.5}}}]},
          long_running_tool_ids=set(),
          actions={"requested_tool_confirmations": {
              "call-2": {"hint": "Proceed? ü 🦆", "confirmed": False,
                         "payload": {"amount": 12.5, "items": [1, None, "x"], "big": BIG_INT}},
              "call-3": {"confirmed": True}}}),
      _ev("x-e3", t + 2, author="sub ü", branch="root_agent.sub ü",
          content=_text("done", "model"), turn_complete=False, partial=False,
          actions={"escalate": True, "transfer_to_agent": "root_agent",
                   "skip_summarization": False, "end_of_agent": True,
                   "agent_state": {"step": 2, "nested": {"big": BIG_INT, "f": [0.1, -0.0]},
                                   "ctl": [CONTROL]},
                   "rewind_before_invocation_id": "inv-x-e1",
                   "artifact_delta": {"a.txt": 0, "🦆/b.bin": INT64_MAX},
                   "state_delta": {"tuple": (1, "two", 3.0, (None, True)),
                                   "ctl_nested": {"s": CONTROL}, "neg_zero": -0.0}}),
      _ev("x-e4", t + 3, author="root_agent", content=_text("compacting", "model"),
          input_transcription={"text": "hi ü", "finished": True},
          output_transcription={"text": "yo"},
          grounding_metadata={"web_search_queries": ["q ü"]},
          citation_metadata={"citations": [{"start_index": 0, "end_index": 5,
                                            "uri": "https://c.test/?q=1"}]},
          custom_metadata={"nested": {"n": None, "big": INT64_MIN}},
          error_code="", error_message="x" * 300 + " ü",
          actions={"compaction": {
              "start_timestamp": 1700000500.000001, "end_timestamp": 1700000502.000001,
              "compacted_content": {"role": "model", "parts": [
                  {"text": "summary 🦆"},
                  {"inline_data": {"mime_type": "image/png", "data": BLOB_STD_VS_URLSAFE}},
                  {"function_call": {"id": "c9", "name": "f", "args": {"x": [1.5e300]}}}]}},
                   "state_delta": {"compacted": True}}),
  ]


V0_SESSIONS: list[dict] = SESSIONS + [
    {
        "app": APP_B, "user": U2, "id": "acts ☂",
        "state": {"kind": "actions", "deep": {"list": [NESTED["list"]]}},
        "events": _v0_action_events(),
    },
]

# Events ADK 2.13 appends to a copy before it is copied back into the v0 database
# (run.py round trip). Later than every event of their session; timestamps are
# decimal literals with microseconds (v0 keeps microseconds only). model_version,
# finish_reason and a non-default node_info have no v0 column: the copy must warn
# that it drops them (node_info {"path": ""}, which ADK 2.x gives every event it
# reads from v0, is not a loss).
T_RT = 1800000000.000001
APPENDS_V0: list[dict] = [
    {"app": APP_A, "user": U1, "id": "sess: 1", "events": [
        _ev("rt-e1", T_RT, content={"role": "user", "parts": [
            {"text": "round trip ü 🦆"},
            {"inline_data": {"mime_type": "application/octet-stream",
                             "data": BLOB_STD_VS_URLSAFE + b"\x00rt"}}]},
            actions={"state_delta": {"count": 2, "app:theme": "night", "user:name": "Zoë 4",
                                     "temp:rt": 1, "rt": {"big": BIG_INT, "f": 0.1,
                                                          "list": [None, -0.0]}}}),
        _ev("rt-e2", 1800000001.000001, author="root_agent", model_version="gemini-rt",
            finish_reason="STOP", node_info={"path": "root_agent/helper"},
            content={"role": "model", "parts": [
                {"function_call": {"id": "rt-call", "name": "lookup",
                                   "args": {"q": "ü", "n": INT64_MAX}}}]},
            long_running_tool_ids={"rt-call"},
            actions={"artifact_delta": {"rt.bin": 3}, "transfer_to_agent": "helper",
                     "state_delta": {"user:prefs": {"lang": "de"}}}),
        _ev("rt-e3", 1800000001.000001, author="root_agent", content={"role": "user", "parts": [
            {"function_response": {"id": "rt-call", "name": "lookup",
                                   "response": {"result": [1, 2.5, "ü"]}}}]},
            actions={"skip_summarization": True, "escalate": False}),
    ]},
    {"app": APP_A, "user": U2, "id": "s-long", "events": [
        _ev("rt-l1", 1800000010.000001, author="agent", content=_text("after 320", "model"),
            actions={"state_delta": {"counter": 320, "app:long_done": False}}),
    ]},
    {"app": APP_C, "user": U1, "id": "s-empty-2", "events": [
        _ev("rt-z1", 1800000020.000001, content=_text("first event of an empty session")),
        _ev("rt-z2", 1800000020.500001, author="agent", content=_text("compacted", "model"),
            actions={"compaction": {"start_timestamp": T_RT + 20,
                                    "end_timestamp": T_RT + 20.000001,
                                    "compacted_content": _text("z ü", "model")},
                     "state_delta": {"z": 1}}),
    ]},
]

DATASETS = {"nasty": SESSIONS, "sample": SAMPLE_SESSIONS, "nasty-v0": V0_SESSIONS}
APPENDS = {"nasty-v0": APPENDS_V0}


def pairs(sessions: list[dict] = SESSIONS) -> list[tuple[str, str]]:
  return sorted({(s["app"], s["user"]) for s in sessions})


PAIRS: list[tuple[str, str]] = pairs(SESSIONS)


def check(sessions: list[dict] = SESSIONS) -> None:
  """Validates the dataset rules stated in the module docstring."""
  ids = [s["id"] for s in sessions]
  assert len(ids) == len(set(ids)), "session ids must be unique across apps"
  for s in sessions:
    assert s["id"] == s["id"].strip()
    for name in (s["app"], s["user"]):
      assert not any(c in name for c in ":*?[]\\"), name
    last, last_id = float("-inf"), ""
    for e in s["events"]:
      assert e["timestamp"] >= last, e["id"]
      assert e["timestamp"] > last or e["id"] > last_id, "tied ids must increase"
      last, last_id = e["timestamp"], e["id"]
    later_app = {k for t in sessions if t["app"] == s["app"] for e in t["events"]
                 for k in e.get("actions", {}).get("state_delta", {})}
    later_user = {k for t in sessions if (t["app"], t["user"]) == (s["app"], s["user"])
                  for e in t["events"] for k in e.get("actions", {}).get("state_delta", {})}
    for k in s["state"]:
      if k.startswith("app:"):
        assert k in later_app, f"create-time {k} of {s['id']} is never set by an event"
      if k.startswith("user:"):
        assert k in later_user, f"create-time {k} of {s['id']} is never set by an event"
  eids = [e["id"] for s in sessions for e in s["events"]]
  assert len(eids) == len(set(eids))
  assert eids == [e for e in eids if e.isascii()]


def build_event(spec: dict):
  """Turns one event spec into a google.adk Event (needs ADK installed)."""
  from google.adk.events.event import Event
  return Event.model_validate(copy.deepcopy(spec))


async def write_dataset(service, sessions: list[dict] = SESSIONS) -> None:
  check(sessions)
  created = {}
  for s in sessions:
    created[s["id"]] = await service.create_session(
        app_name=s["app"], user_id=s["user"], session_id=s["id"],
        state=copy.deepcopy(s["state"]))
  for s in sessions:
    session = created[s["id"]]
    for spec in s["events"]:
      await service.append_event(session, build_event(spec))
