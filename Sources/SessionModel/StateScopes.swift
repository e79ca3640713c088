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
        var result = Split()
        for (key, value) in state {
            if key.hasPrefix(appPrefix) {
                result.app[String(key.dropFirst(appPrefix.count))] = value
            } else if key.hasPrefix(userPrefix) {
                result.user[String(key.dropFirst(userPrefix.count))] = value
            } else if !key.hasPrefix(tempPrefix) {
                result.session[key] = value
            }
        }
        return result
    }

    /// `_merge_state`: copy the session state, then set `app:k`, then `user:k`.
    public static func merge(session: JSONObject, app: JSONObject, user: JSONObject) -> JSONObject {
        var merged = session
        for (key, value) in app { merged[appPrefix + key] = value }
        for (key, value) in user { merged[userPrefix + key] = value }
        return merged
    }

    /// Removes `temp:` keys.
    public static func droppingTemp(_ state: JSONObject) -> JSONObject {
        JSONObject(state.members.filter { !$0.key.hasPrefix(tempPrefix) })
    }
}
