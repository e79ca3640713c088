import DriverCore
import SessionModel

/// A ``SessionScope`` and a keyset position compiled into the `WHERE` of a `sessions` query, with
/// its bound values: `IN` lists on the primary key columns, bounds on `update_time` and
/// `sessmigrate_crc32(id) % N` for a shard by id, `sessmigrate_slot(key) * N / 16384` for one by
/// slots (functions every connection registers). Only the
/// sessions rows are filtered here; their events are read for the rows that pass.
///
/// Time bounds: a numeric `update_time` (SqliteSessionService) is compared as epoch seconds; a
/// DATETIME text column (DatabaseSessionService) through `julianday()`, which accepts every text form
/// SQLite knows, with the bounds widened by a millisecond for its precision. The cursor's exact
/// check on each loaded session drops the few extra rows the widening lets in.
struct SQLiteScopeQuery {
    private(set) var whereClause = ""
    private(set) var values: [SQLiteValue] = []

    init(scope: SessionScope, after: SessionKey?, format: any SQLiteSessionFormat) {
        var conditions: [String] = []
        func placeholders(_ items: [String]) -> String {
            items.map { item in
                values.append(.text(item))
                return "?\(values.count)"
            }.joined(separator: ", ")
        }
        for (column, items) in [("app_name", scope.apps), ("user_id", scope.users), ("id", scope.sessionIds)] where !items.isEmpty {
            conditions.append("\(column) IN (\(placeholders(items.sorted())))")
        }
        let (since, before) = scope.microsecondBounds
        let numeric: Bool
        if case .text = format.timeValue(0) { numeric = false } else { numeric = true }
        for (bound, op, widen) in [(since, ">=", -1000 as Int64), (before, "<", 1000)] {
            guard let micros = bound else { continue }
            if numeric {
                values.append(.float(PythonTime.epoch(fromMicroseconds: micros)))
                conditions.append("update_time \(op) ?\(values.count)")
            } else {
                values.append(.text(PythonTime.naiveUTC(fromMicroseconds: micros + widen)))
                conditions.append("julianday(update_time) \(op) julianday(?\(values.count))")
            }
        }
        if let shard = scope.shard, shard.count > 1 {
            switch shard.function {
            case .sessionId: conditions.append("sessmigrate_crc32(id) % \(shard.count) = \(shard.index)")
            case .slots(let form):
                conditions.append("sessmigrate_slot(\(Self.keyExpression(form))) * \(shard.count) / \(RedisHashSlot.count) = \(shard.index)")
            }
        }
        if let after {
            values += [.text(after.appName), .text(after.userId), .text(after.sessionId)]
            let n = values.count
            conditions.append("(app_name, user_id, id) > (?\(n - 2), ?\(n - 1), ?\(n))")
        }
        if !conditions.isEmpty { whereClause = " WHERE " + conditions.joined(separator: " AND ") }
    }

    /// The SQL text of a session's key in `form` (``DriverCore/ShardKeyForm/key(_:)``): its literal
    /// pieces (fixed ASCII without quotes) and the key columns joined with `||`.
    static func keyExpression(_ form: ShardKeyForm) -> String {
        form.parts.map { part in
            switch part {
            case .text(let text): "'\(text)'"
            case .app: "app_name"
            case .user: "user_id"
            case .id: "id"
            }
        }.joined(separator: " || ")
    }
}
