import DriverCore
import SessionModel

/// A ``SessionScope`` as JSON, in reports and checkpoint files: `{"apps": [...], "users": [...],
/// "sessions": [...], "updated_since": 1.5 or null, "updated_before": null, "shard": "3/10" or null}`
/// (lists sorted, so equal scopes give equal JSON), with `"shard_by": "slots:session:{id}"` for a
/// shard of another function than the session id's (absent: `id`, so journals, checkpoints and
/// reports written before `slots` existed read as they did).
public enum ScopeJSON {
    public static func json(_ scope: SessionScope) -> JSONObject {
        func names(_ set: Set<String>) -> JSONValue { .array(set.sorted().map(JSONValue.string)) }
        func time(_ value: Double?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        var object: JSONObject = [
            "apps": names(scope.apps), "users": names(scope.users), "sessions": names(scope.sessionIds),
            "updated_since": time(scope.updatedSince), "updated_before": time(scope.updatedBefore),
            "shard": scope.shard.map { .string($0.description) } ?? .null,
        ]
        if let function = scope.shard?.function { object[shardByKey] = functionJSON(function) }
        return object
    }

    /// The member naming a shard's function.
    public static let shardByKey = "shard_by"

    /// `nil` for the session id's function (the member is left out), else its name.
    static func functionJSON(_ function: ShardFunction) -> JSONValue? {
        function == .sessionId ? nil : .string(function.description)
    }

    /// The function named by `object`'s `shard_by` (absent or null: the session id's).
    ///
    /// - Throws: ``ShardError`` for anything else.
    static func function(in object: JSONObject) throws(ShardError) -> ShardFunction {
        switch object[shardByKey] {
        case .string(let text)?: return try ShardFunction(parsing: text)
        case .null?, nil: return .sessionId
        default: throw ShardError("shard_by is not a shard function")
        }
    }
}
