/// ADK's state scopes (`google/adk/sessions/state.py`, `_session_util.extract_state_delta`).
public enum StateScopes {
    /// Prefix of app-scoped keys.
    public static let appPrefix = "app:"
    /// Prefix of user-scoped keys.
    public static let userPrefix = "user:"
    /// Prefix of keys that are never persisted.
    public static let tempPrefix = "temp:"

    /// A state dict split into its three persisted scopes; `temp:` keys are dropped.
    public struct Split: Sendable, Hashable {
        public var app: JSONObject = [:]
        public var user: JSONObject = [:]
        public var session: JSONObject = [:]
    }

    /// Splits a (delta or merged) state as `extract_state_delta` does: `app:k` → app["k"],
    /// `user:k` → user["k"], `temp:` dropped, everything else → session.
    public static func split(_ state: JSONObject) -> Split {
        // Members collected, each object built once: linear in the state's size.
        var session: [(key: String, value: JSONValue)] = []
        var app: [(key: String, value: JSONValue)] = []
        var user: [(key: String, value: JSONValue)] = []
        for (key, value) in state {
            if key.hasPrefixExactly(appPrefix) {
                app.append((key: key.droppingUTF8Prefix(appPrefix.utf8.count), value: value))
            } else if key.hasPrefixExactly(userPrefix) {
                user.append((key: key.droppingUTF8Prefix(userPrefix.utf8.count), value: value))
            } else if !key.hasPrefixExactly(tempPrefix) {
                session.append((key: key, value: value))
            }
        }
        var result = Split()
        result.session = JSONObject(session)
        result.app = JSONObject(app)
        result.user = JSONObject(user)
        return result
    }

    /// `_merge_state`: copy the session state, then set `app:k`, then `user:k`.
    public static func merge(session: JSONObject, app: JSONObject, user: JSONObject) -> JSONObject {
        var merged = session
        merged.update(with: JSONObject(app.members.map { (key: appPrefix + $0.key, value: $0.value) }))
        merged.update(with: JSONObject(user.members.map { (key: userPrefix + $0.key, value: $0.value) }))
        return merged
    }

    /// Removes `temp:` keys.
    public static func droppingTemp(_ state: JSONObject) -> JSONObject {
        JSONObject(state.members.filter { !$0.key.hasPrefixExactly(tempPrefix) })
    }
}
