import SessionModel

/// Sessions the seed inputs are made from: odd keys, nested state with exact big integers and
/// float literals, events with content, actions, tied timestamps, app and user state.
enum FuzzSamples {
    static func object(_ text: String) -> JSONObject {
        (try? JSONValue.parseObject(text)) ?? [:]
    }

    static func event(_ id: String, at timestamp: String, text: String, extra: String = "") -> Event? {
        try? Event(data: object(
            #"{"content": {"parts": [{"text": "\#(text)"}], "role": "user"}, "invocation_id": "inv-1", "author": "user", "#
                + #""actions": {"state_delta": {"k": 1, "app:x": [1.5, null]}, "artifact_delta": {}, "#
                + #""requested_auth_configs": {}, "requested_tool_confirmations": {}}, \#(extra)"#
                + #""id": "\#(id)", "timestamp": \#(timestamp)}"#))
    }

    static var sessions: [Session] {
        let state = object(
            #"{"nested": {"list": [1, 2.5, {"deep": null}], "flag": true}, "big": 9007199254740993, "one": 1.0, "#
                + #""tiny": 1e-07, "text": "Zo\u00eb \ud83d\ude00 \u2028 \"q\" \\ /", "empty": {}}"#)
        let events = [
            event("e1 😀", at: "1700000000.5", text: "first \\u00e9"),
            event("e2:x", at: "1700000001.25", text: "second", extra: #""long_running_tool_ids": ["b", "a"], "partial": false, "#),
            event("e3", at: "1700000001.25", text: "caf\\u00e9 \\ud83d\\ude00",
                  extra: #""custom_metadata": {"n": -0.0}, "usage_metadata": {"prompt_token_count": 3}, "#),
        ].compactMap { $0 }
        return [
            Session(
                key: SessionKey(appName: "app one: 😀", userId: "user:1 é", sessionId: "s 1:2/3"), state: state,
                appState: object(#"{"theme": "dark", "n": 12345678901234567890}"#), userState: object(#"{"lang": "fr"}"#),
                events: events, createTime: 1_699_999_999.25, lastUpdateTime: 1_700_000_001.25, expiry: .at(1_800_000_000.5)),
            Session(
                key: SessionKey(appName: "app", userId: "u", sessionId: "empty"), createTime: 1_600_000_000,
                lastUpdateTime: 1_600_000_000.000001, expiry: .never),
        ]
    }
}
