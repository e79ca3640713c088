import DriverCore
import SessionModel

// A ``SessionScope`` compiled into the `WHERE` of a `sessions` query: `IN` lists on the primary key
// columns (a range scan of the primary key when apps, or apps and users, are given), bounds on
// `update_time` (ADK's schema has no index on it: the bounds are checked on the `sessions` rows,
// so only the sessions in scope have their events read), and `CRC32(id) % N` for a shard by id.
// Collations may make `IN` match more than the exact text (case-insensitive names); the cursor's
// exact check on each session drops those.
extension MySQLStatementBuilder {
    /// Appends ` WHERE …` for `scope` and a keyset position (nothing when both are empty).
    mutating func appendWhere(scope: SessionScope, after key: SessionKey?) throws {
        var conditions = 0
        func and() {
            append(conditions == 0 ? " WHERE " : " AND ")
            conditions += 1
        }
        for (column, values) in [("app_name", scope.apps), ("user_id", scope.users), ("id", scope.sessionIds)] where !values.isEmpty {
            and()
            append("\(column) IN (")
            for (index, value) in values.sorted().enumerated() {
                if index > 0 { append(", ") }
                try appendLiteral(value)
            }
            append(")")
        }
        let (since, before) = scope.microsecondBounds
        if let since {
            and()
            append("update_time >= '\(PythonTime.naiveUTC(fromMicroseconds: since))'")
        }
        if let before {
            and()
            append("update_time < '\(PythonTime.naiveUTC(fromMicroseconds: before))'")
        }
        // A `slots` shard is judged on each row in the client (`loadPage`): MySQL has no CRC16.
        if let shard = scope.shard, shard.count > 1, shard.function == .sessionId {
            and()
            append("CRC32(CONVERT(id USING utf8mb4)) % \(shard.count) = \(shard.index)")
        }
        if let key {
            and()
            // The OR-expanded keyset condition lets MariaDB use a range scan of the primary key (a
            // row-constructor `>` is not range-optimised there).
            append("(app_name > ")
            try appendLiteral(key.appName)
            append(" OR (app_name = ")
            try appendLiteral(key.appName)
            append(" AND (user_id > ")
            try appendLiteral(key.userId)
            append(" OR (user_id = ")
            try appendLiteral(key.userId)
            append(" AND id > ")
            try appendLiteral(key.sessionId)
            append("))))")
        }
    }
}
