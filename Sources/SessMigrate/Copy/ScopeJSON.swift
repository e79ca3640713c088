import DriverCore
import SessionModel

/// A ``SessionScope`` as JSON, in reports and checkpoint files: `{"apps": [...], "users": [...],
/// "sessions": [...], "updated_since": 1.5 or null, "updated_before": null, "shard": "3/10" or null}`
/// (lists sorted, so equal scopes give equal JSON).
public enum ScopeJSON {
    public static func json(_ scope: SessionScope) -> JSONObject {
        func names(_ set: Set<String>) -> JSONValue { .array(set.sorted().map(JSONValue.string)) }
        func time(_ value: Double?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        return [
            "apps": names(scope.apps), "users": names(scope.users), "sessions": names(scope.sessionIds),
            "updated_since": time(scope.updatedSince), "updated_before": time(scope.updatedBefore),
            "shard": scope.shard.map { .string($0.description) } ?? .null,
        ]
    }
}
