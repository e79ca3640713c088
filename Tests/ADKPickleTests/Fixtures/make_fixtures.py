"""Generates the ADKPickle test fixtures from the real ADK, and checks pickles that sessmigrate wrote.

    python3 make_fixtures.py            regenerate PickleFixtures*.swift (beside this folder) and
                                        Sources/ADKPickle/ModelSchema+Generated.swift (via swift_tables.py)
    <venv python> make_fixtures.py dump     pickles written by this venv's ADK (JSON on stdout)
    <venv python> make_fixtures.py view     what this venv's ADK reads from the pickles on stdin
    <venv python> make_fixtures.py schema   the model table (run under ADK 2.13)
    <venv python> make_fixtures.py verify DIR   loads DIR/*.pickle as ADK does and compares each with
                                        EventActions built from DIR/<name>.json; prints `ok`/`FAIL` lines

Venvs: /root/.cache/sessmigrate/venv-adk121 (google-adk 1.21.0, the v0 era) and venv-community
(google-adk 2.13.0, restricted unpickler). PYTHONHASHSEED=0 keeps set orders stable.
"""
import base64, collections, datetime, decimal, json, os, pickle, subprocess, sys, uuid

sys.dont_write_bytecode = True  # no __pycache__ beside the fixtures
import swift_tables  # noqa: E402

VENVS = {"1.21.0": "/root/.cache/sessmigrate/venv-adk121", "2.13.0": "/root/.cache/sessmigrate/venv-community"}
HERE = os.path.dirname(os.path.abspath(__file__))


def adk_version():
    import google.adk
    return google.adk.__version__


def restricted_loads():
    try:
        from google.adk.sessions._restricted_pickle import loads
        return loads
    except ImportError:
        return pickle.loads


def auth_configs():
    from fastapi.openapi.models import (APIKey, APIKeyIn, HTTPBearer, OAuth2, OAuthFlowAuthorizationCode,
                                        OAuthFlowClientCredentials, OAuthFlows)
    from google.adk.auth.auth_credential import (AuthCredential, AuthCredentialTypes, HttpAuth, HttpCredentials,
                                                 OAuth2Auth, ServiceAccount, ServiceAccountCredential)
    from google.adk.auth.auth_schemes import OpenIdConnectWithConfig
    from google.adk.auth.auth_tool import AuthConfig
    oauth = OAuth2(flows=OAuthFlows(authorizationCode=OAuthFlowAuthorizationCode(
        authorizationUrl="https://idp.example/auth", tokenUrl="https://idp.example/token",
        scopes={"read": "Read", "write": "Write"})), description="corp SSO")
    raw = AuthCredential(auth_type=AuthCredentialTypes.OAUTH2, oauth2=OAuth2Auth(client_id="cid", client_secret="s3cr3t"))
    exchanged = AuthCredential(auth_type=AuthCredentialTypes.OAUTH2, oauth2=OAuth2Auth(
        client_id="cid", client_secret="s3cr3t", auth_uri="https://idp.example/auth?state=xyz", state="xyz",
        redirect_uri="https://app.example/cb", access_token="tok", refresh_token="ref", expires_at=2**31 + 5))
    sa = ServiceAccount(service_account_credential=ServiceAccountCredential(
        type_="service_account", project_id="p", private_key_id="k", private_key="-----BEGIN-----\n", client_email="a@b",
        client_id="1", auth_uri="https://a", token_uri="https://t", auth_provider_x509_cert_url="https://c",
        client_x509_cert_url="https://d", universe_domain="googleapis.com"), scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return {
        "oauth": AuthConfig(auth_scheme=oauth, raw_auth_credential=raw, exchanged_auth_credential=exchanged),
        "apikey": AuthConfig(auth_scheme=APIKey(**{"in": APIKeyIn.header}, name="X-Key"),
                             raw_auth_credential=AuthCredential(auth_type=AuthCredentialTypes.API_KEY, api_key="k3y")),
        "bearer": AuthConfig(auth_scheme=HTTPBearer(bearerFormat="JWT"), raw_auth_credential=AuthCredential(
            auth_type=AuthCredentialTypes.HTTP, http=HttpAuth(scheme="bearer", credentials=HttpCredentials(token="t")))),
        "oidc": AuthConfig(auth_scheme=OpenIdConnectWithConfig(
            authorization_endpoint="https://o/a", token_endpoint="https://o/t", scopes=["openid"]),
            raw_auth_credential=AuthCredential(auth_type=AuthCredentialTypes.OPEN_ID_CONNECT,
                                               oauth2=OAuth2Auth(client_id="c", client_secret="s")),
            credential_key="my-key"),
        "sa": AuthConfig(auth_scheme=OAuth2(flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="https://t", scopes={}))), raw_auth_credential=AuthCredential(
            auth_type=AuthCredentialTypes.SERVICE_ACCOUNT, service_account=sa)),
    }


def more_auth_configs():
    from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBase, OAuthFlowImplicit, OAuthFlows, OpenIdConnect
    from google.adk.auth.auth_credential import AuthCredential
    from google.adk.auth.auth_schemes import ExtendedOAuth2
    from google.adk.auth.auth_tool import AuthConfig
    return {
        "ext": AuthConfig(auth_scheme=ExtendedOAuth2(issuer_url="https://issuer", flows=OAuthFlows(
            implicit=OAuthFlowImplicit(authorizationUrl="https://a", scopes={"s": "d"})))),
        "oidc_plain": AuthConfig(auth_scheme=OpenIdConnect(openIdConnectUrl="https://o/.well-known", description=None)),
        "basic": AuthConfig(auth_scheme=HTTPBase(scheme="basic", description="d")),
        "query": AuthConfig(auth_scheme=APIKey(**{"in": APIKeyIn.query}, name="key", description="q")),
        "extras": AuthConfig(auth_scheme=HTTPBase(scheme="basic", extra_none=None, extra_val=1), credential_key="k",
                             raw_auth_credential=AuthCredential(auth_type="apiKey", api_key="k", foo=None, bar={"x": None})),
    }


def auth_configs_without_key():
    """AuthConfigs as ADK < 1.5 pickled them (no credential_key): ADK 2.13 derives one when it reads them."""
    from fastapi.openapi.models import APIKey, APIKeyIn, HTTPBearer
    from google.adk.auth.auth_credential import AuthCredential, AuthCredentialTypes, HttpAuth, HttpCredentials
    from google.adk.auth.auth_tool import AuthConfig
    full = auth_configs()
    out = {name: AuthConfig.model_construct(auth_scheme=c.auth_scheme, raw_auth_credential=c.raw_auth_credential,
                                            exchanged_auth_credential=c.exchanged_auth_credential)
           for name, c in full.items()}
    out["no_cred"] = AuthConfig.model_construct(auth_scheme=APIKey(**{"in": APIKeyIn.cookie}, name="sid"))
    out["extra_key"] = AuthConfig.model_construct(auth_scheme=HTTPBearer(), raw_auth_credential=AuthCredential(
        auth_type=AuthCredentialTypes.HTTP, http=HttpAuth(scheme="bearer", credentials=HttpCredentials(token="t")),
        credential_key="from-extra"))
    out["unicode"] = AuthConfig.model_construct(auth_scheme=HTTPBearer(description="Zo\u00eb \U0001F600 \"q\"\n"))
    return out


def content():
    from google.genai import types
    return types.Content(role="model", parts=[
        types.Part(text="Summary: h\u00e9llo \U0001F986"),
        types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\xfb\xff\xfe\x00\x01" * 3)),
        types.Part(file_data=types.FileData(file_uri="gs://b/o", mime_type="application/pdf")),
        types.Part(function_call=types.FunctionCall(id="fc1", name="lookup", args={"q": "x", "n": [1, 2.5, None]})),
        types.Part(function_response=types.FunctionResponse(id="fc1", name="lookup", response={"result": {"ok": True}})),
        types.Part(executable_code=types.ExecutableCode(code="print(1)", language=types.Language.PYTHON)),
        types.Part(code_execution_result=types.CodeExecutionResult(outcome=types.Outcome.OUTCOME_OK, output="1\n")),
        types.Part(text="thinking", thought=True, thought_signature=b"sig\xff"),
        types.Part(text="v", video_metadata=types.VideoMetadata(start_offset="1s", end_offset="2s", fps=2.0)),
    ])


def state_values():
    shared = {"k": [1, 2]}
    return {
        "count": 1, "app:theme": "dark", "user:name": "Zo\u00eb", "uni": "\u65e5\u672c \U0001F600 e\u0301 \x00\x1f\x7f",
        "big": 2**70, "neg_big": -2**100, "i64max": 2**63 - 1, "i64min": -2**63, "u64": 2**64, "m1": -1, "i32": -2**31,
        "floats": [1.0, 0.1, 1e-07, 1e16, -0.0, 5e-324, 1.7976931348623157e308, 1700000000.123456],
        "nan": float("nan"), "inf": float("inf"), "nested": {"a": {"b": [None, True, False, {}, []]}},
        "tuple": (1, "x", (2,)), "set": {3, 1, 2}, "frozen": frozenset({7}), "keys": {1: "i", 2.5: "f", None: "n", False: "b"},
        "utf8_bytes": b"plain", "bytearray": bytearray(b"ba"), "none": None, "long": "x" * 300,
        "list": list(range(1100)), "shared1": shared, "shared2": shared, "": "empty key",
    }


def stdlib_values():
    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    return {"dt": datetime.datetime(2024, 1, 2, 3, 4, 5, 6), "dt_utc": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            "dt_off": datetime.datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=tz), "date": datetime.date(1999, 12, 31),
            "time": datetime.time(3, 4, 5, 6), "time0": datetime.time(23, 59), "dec": decimal.Decimal("-1.50"), "dec_e": decimal.Decimal("1E+3"),
            "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "od": collections.OrderedDict([("b", 1), ("a", 2)]), "dd": collections.defaultdict(list, {"a": [1]})}


def cases():
    from google.adk.events.event_actions import EventActions, EventCompaction
    from google.adk.tools.tool_confirmation import ToolConfirmation
    from google.genai import types
    v2 = adk_version().startswith("2.")
    auth = auth_configs()
    full = dict(
        skip_summarization=True, state_delta={"count": 2, "app:x": [1, {"y": None}]}, artifact_delta={"report.pdf": 3, "a.txt": 0},
        transfer_to_agent="billing", escalate=False, requested_auth_configs=auth,
        requested_tool_confirmations={"fc9": ToolConfirmation(hint="Delete 3 files?", payload={"files": ["a", "b"], "n": 3}),
                                      "fc10": ToolConfirmation(confirmed=True)},
        compaction=EventCompaction(start_timestamp=1700000000.5, end_timestamp=1700000100.25, compacted_content=content()),
        end_of_agent=True, agent_state={"step": 3, "done": ["a"], "f": 0.5}, rewind_before_invocation_id="e-inv1")
    out = {
        "empty": EventActions(),
        "state": EventActions(state_delta={"count": 1, "app:theme": "light", "user:lang": "fr"}),
        "rich_state": EventActions(state_delta=state_values()),
        "stdlib_state": EventActions(state_delta=stdlib_values()),
        "full": EventActions(**full),
        "escalate": EventActions(escalate=True, skip_summarization=False, artifact_delta={"x": 1}),
        "confirm_payloads": EventActions(requested_tool_confirmations={
            "a": ToolConfirmation(payload="text"), "b": ToolConfirmation(payload=[1, None]), "c": ToolConfirmation(payload=None, hint="")}),
        "bad_bytes": EventActions(state_delta={"b": b"\xff\xfe"}),
        "auth_more": EventActions(requested_auth_configs=more_auth_configs()),
        "auth_no_key": EventActions(requested_auth_configs=auth_configs_without_key()),
        "models_in_state": EventActions(state_delta={"fc": types.FunctionCall(name="f", args={"a": 1}), "lang": types.Language.PYTHON,
                                                     "part": types.Part(text="t")},
                                        requested_tool_confirmations={"p": ToolConfirmation(payload=types.FunctionCall(name="g"))}),
        "constructed": EventActions.model_construct(  # dicts where models belong, as sessmigrate writes them
            compaction={"start_timestamp": 1, "end_timestamp": 2, "compacted_content": {"role": "user", "parts": [
                {"text": "x", "inline_data": {"data": b"\x00\xff", "mime_type": "a/b"}}]}},
            requested_tool_confirmations={"x": {"confirmed": True, "payload": {"n": None}}},
            requested_auth_configs={"k": {"auth_scheme": {"type_": "apiKey", "in_": "header", "name": "n"}, "credential_key": "ck"},
                                    "o": {"auth_scheme": {"type_": "oauth2", "flows": {"implicit": {
                                        "authorizationUrl": "https://a", "scopes": {}}}}, "credential_key": "ck2"}}),
    }
    if v2:
        from google.adk.events.ui_widget import UiWidget
        out["v2_fields"] = EventActions(
            transfer_to_agent="a2", transfer_reason="needs billing", route=["left", 2, True],
            render_ui_widgets=[UiWidget(id="w1", provider="mcp", payload={"html": "<b/>", "n": None})],
            set_model_response={"answer": 42, "why": None}, state_delta={"s": 1})
        out["route_scalar"] = EventActions(route="next", set_model_response="plain")
        from google.adk.auth.auth_schemes import CustomAuthScheme
        from google.adk.auth.auth_tool import AuthConfig
        out["custom_scheme"] = EventActions(requested_auth_configs={"c": AuthConfig(auth_scheme=CustomAuthScheme(type_="custom"))})
    return out


def dump():
    res = []
    for name, actions in cases().items():
        protos = (0, 1, 2, 3, 4, 5) if name in ("full", "state", "escalate") else (2, 3, 4, 5) if name in ("rich_state", "confirm_payloads") else (4, 5)
        for proto in protos:
            data = pickle.dumps(actions, protocol=proto)
            res.append({"name": f"{name}_p{proto}", "writer": adk_version(), "protocol": proto,
                        "b64": base64.b64encode(data).decode()})
    json.dump(res, sys.stdout)


def read_as_adk(data):
    """The actions JSON this ADK version puts in a v1 event (2.x) or returns from get_session (1.x)."""
    from google.adk.events.event_actions import EventActions
    obj = restricted_loads()(data)
    if adk_version().startswith("2."):
        actions = EventActions.model_validate(obj.model_dump())
    else:
        actions = EventActions().model_copy(update=obj.model_dump())
    return actions.model_dump(mode="json", exclude_none=True)


def view():
    import warnings
    warnings.simplefilter("ignore")
    import logging
    logging.disable(logging.CRITICAL)
    res = {}
    for fx in json.load(sys.stdin):
        try:
            res[fx["writer"] + "/" + fx["name"]] = {"json": json.dumps(read_as_adk(base64.b64decode(fx["b64"])))}
        except Exception as e:  # noqa: BLE001 - any failure is what ADK does with this pickle
            res[fx["writer"] + "/" + fx["name"]] = {"error": f"{type(e).__name__}: {e}"[:160]}
    json.dump(res, sys.stdout)


def verify(folder):
    """Loads each DIR/N.pickle as this ADK reads v0 rows and compares it with DIR/N.json: under 2.x
    with `EventActions.model_validate(json)` dumped (what ADK's own v1 write path makes of it) and
    with the JSON text itself; under 1.x, which never validates what it unpickles, with the JSON
    (minus fields 1.x lacks)."""
    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    from google.adk.events.event_actions import EventActions
    for name in sorted(f[:-7] for f in os.listdir(folder) if f.endswith(".pickle")):
        with open(os.path.join(folder, name + ".pickle"), "rb") as f:
            data = f.read()
        with open(os.path.join(folder, name + ".json")) as f:
            source = json.load(f)
        if adk_version().startswith("2."):
            expected = EventActions.model_validate(source).model_dump(mode="json", exclude_none=True)
        else:
            expected = {k: v for k, v in source.items() if k in EventActions.model_fields}
        try:
            got = read_as_adk(data)
            # 2.x: also key order and number types exactly as in the JSON (it is ADK's own dump).
            same = got == expected and (not adk_version().startswith("2.") or json.dumps(got) == json.dumps(source))
            print("ok" if same else "FAIL", name, "" if same else json.dumps(got)[:400])
        except Exception as e:  # noqa: BLE001
            print("FAIL", name, f"{type(e).__name__}: {e}"[:400])


def run(venv, *args, stdin=None):
    env = dict(os.environ, PYTHONHASHSEED="0", TZ="UTC")
    return subprocess.run([venv + "/bin/python", __file__, *args], input=stdin, capture_output=True, text=True,
                          check=True, env=env, cwd="/tmp").stdout


if __name__ == "__main__":
    if len(sys.argv) == 1:
        swift_tables.write_all(VENVS, run)
    elif sys.argv[1] == "dump":
        dump()
    elif sys.argv[1] == "view":
        view()
    elif sys.argv[1] == "schema":
        json.dump(swift_tables.schema_table(), sys.stdout)
    elif sys.argv[1] == "verify":
        verify(sys.argv[2])
