import DriverCore
import SessionModel

extension SQLiteSessionTables {
    /// Deletes each session's events and its row in one `BEGIN IMMEDIATE` transaction, events first
    /// as ADK's `delete_session` does; app and user state stay. Missing sessions are ignored.
    public func deleteSessions(_ keys: [SessionKey]) throws {
        guard !keys.isEmpty, hasTables else { return }
        try connection.withTransaction {
            let events = try connection.prepare("DELETE FROM events WHERE app_name = ? AND user_id = ? AND session_id = ?")
            let sessions = try connection.prepare("DELETE FROM sessions WHERE app_name = ? AND user_id = ? AND id = ?")
            for key in keys {
                let values: [SQLiteValue] = [.text(key.appName), .text(key.userId), .text(key.sessionId)]
                try events.run(values)
                try sessions.run(values)
            }
        }
    }
}
