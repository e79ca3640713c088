import DriverCore
import SessionModel

extension MySQLSessionStore {
    /// Deletes each session's events and then its row in one transaction, as ADK's
    /// `delete_session` does; app and user state stay. Missing sessions are ignored. Keys are
    /// matched exactly (binary), never through the database's case- and accent-insensitive collation.
    public func deleteSessions(_ keys: [SessionKey]) throws {
        guard forWriting else {
            throw MySQLError(code: .unsupported, message: "the store was opened for reading", context: "delete")
        }
        guard !keys.isEmpty else { return }
        try connection.withTransaction {
            for start in stride(from: 0, to: keys.count, by: 500) {
                let chunk = keys[start..<min(start + 500, keys.count)]
                for (table, idColumn) in [("events", "session_id"), ("sessions", "id")] {
                    var sql = MySQLStatementBuilder(connection, context: "DELETE FROM \(table)")
                    sql.append("DELETE FROM \(table) WHERE (BINARY app_name, BINARY user_id, BINARY \(idColumn)) IN (")
                    try sql.appendKeyList(chunk)
                    sql.append(")")
                    try sql.execute()
                }
            }
        }
    }
}
