import ADKPickle
import SessionModel

/// Actions JSON as ADK 2.13 writes it in v1 `event_data` (the form ``EventActionsPickle/decode(_:)``
/// returns), for encode round trips and the real-ADK checks. Cases that hold `bytes` fields are
/// marked: ADK 1.21 cannot dump those (not even from its own pickles).
enum ActionsCases {
    static let defaults = #""state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}"#

    static let texts: [(name: String, json: String)] = [
        ("defaults", "{\(defaults)}"),
        (
            "state",
            #"{"state_delta": {"count": 1, "app:theme": "light", "user:lang": "fr"}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}}"#
        ),
        (
            "values",
            #"{"skip_summarization": false, "state_delta": {"s": "h\u00e9llo \ud83e\udd86 e\u0301 \u0000", "": "", "big": 1000000000000000000000000000000, "nbig": -9223372036854775809, "u64": 18446744073709551616, "i": -2147483649, "f": [0.1, 1e-07, -0.0, 1.7976931348623157e+308, 5e-324, 1e+16, 1700000000.123456], "n": null, "nest": {"a": [[], {}, [null, true, {"b": [1]}]]}}, "artifact_delta": {"a.txt": 0, "b.png": 12}, "transfer_to_agent": "billing", "escalate": true, "requested_auth_configs": {}, "requested_tool_confirmations": {}, "end_of_agent": true, "agent_state": {"step": 2, "seen": ["a", null]}, "rewind_before_invocation_id": "e-1"}"#
        ),
        (
            "confirmations",
            #"{\#(defaults.replacingOccurrences(of: #""requested_tool_confirmations": {}"#, with: #""requested_tool_confirmations": {"fc1": {"hint": "Delete?", "confirmed": false, "payload": {"files": ["a"], "n": null}}, "fc2": {"hint": "", "confirmed": true}, "fc3": {"hint": "", "confirmed": false, "payload": "x"}}"#))}"#
        ),
        (
            "compaction_text",
            #"{\#(defaults), "compaction": {"start_timestamp": 1.0, "end_timestamp": 1700000000.5, "compacted_content": {"parts": [{"text": "summary"}, {"function_call": {"id": "c1", "args": {"q": [1, 2.5, null]}, "name": "f"}}, {"function_response": {"id": "c1", "name": "f", "response": {"ok": true}}}, {"executable_code": {"code": "1", "language": "PYTHON"}}, {"text": "v", "video_metadata": {"end_offset": "2s", "fps": 2.0}}], "role": "model"}}}"#
        ),
        (
            "compaction_bytes",
            #"{\#(defaults), "compaction": {"start_timestamp": 2.5, "end_timestamp": 3.0, "compacted_content": {"parts": [{"inline_data": {"data": "-__-AAE=", "mime_type": "image/png"}}, {"inline_data": {"data": "", "mime_type": "a/b"}}, {"text": "t", "thought": true, "thought_signature": "c2ln_w=="}], "role": "user"}}}"#
        ),
        (
            "auth",
            #"{"state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {"o": {"auth_scheme": {"type_": "oauth2", "description": "SSO", "flows": {"authorizationCode": {"scopes": {"r": "Read"}, "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token"}}}, "raw_auth_credential": {"auth_type": "oauth2", "oauth2": {"client_id": "cid", "client_secret": "sec", "expires_at": 2147483653, "token_endpoint_auth_method": "client_secret_basic"}}, "credential_key": "adk_oauth2_1_oauth2_2"}, "k": {"auth_scheme": {"type_": "apiKey", "scheme": "bearer", "in_": "header", "name": "X-Key"}, "raw_auth_credential": {"auth_type": "apiKey", "api_key": "k3y"}, "credential_key": "ck"}, "b": {"auth_scheme": {"type_": "http", "scheme": "bearer", "bearerFormat": "JWT"}, "raw_auth_credential": {"auth_type": "http", "http": {"scheme": "bearer", "credentials": {"token": "t"}}}, "credential_key": "cb"}, "i": {"auth_scheme": {"type_": "openIdConnect", "authorization_endpoint": "https://o/a", "token_endpoint": "https://o/t", "scopes": ["openid"]}, "credential_key": "ci"}, "s": {"auth_scheme": {"type_": "oauth2", "flows": {"clientCredentials": {"scopes": {}, "tokenUrl": "https://t"}}}, "raw_auth_credential": {"auth_type": "serviceAccount", "service_account": {"scopes": ["x"], "use_default_credential": true, "use_id_token": false}}, "credential_key": "cs"}}, "requested_tool_confirmations": {}}"#
        ),
        (
            "long",
            "{\"state_delta\": {\"text\": \"\(String(repeating: "é", count: 40_000))\", \"list\": [\((0..<2500).map(String.init).joined(separator: ", "))]}, \"artifact_delta\": {}, \"requested_auth_configs\": {}, \"requested_tool_confirmations\": {}}"
        ),
    ]

    /// The parsed cases (a malformed literal above fails every test that uses it).
    static var all: [(name: String, actions: JSONObject)] {
        texts.compactMap { item in (try? JSONValue.parseObject(item.json)).map { (item.name, $0) } }
    }

    /// Whether ADK 1.21 can dump these actions at all (it turns `bytes` into UTF-8 text and fails).
    static func holdsBytes(_ actions: JSONObject) -> Bool {
        let text = actions.serialized(.compact)
        return text.contains("\"inline_data\"") || text.contains("\"thought_signature\"")
    }
}
