import DriverCore
import SessionModel

// Writing one batch inside one transaction (the caller opens it):
// 1. app_states / user_states: lock the rows, merge (dict.update), INSERT missing, UPDATE changed;
// 2. sessions: multi-row upsert (update_time = the session's last update, as ADK sets it);
// 3. check that MySQL's collation did not fold two different keys into one row;
// 4. events: delete the stored events of each session that are not in its list, then upsert.
// Unchanged rows are never touched, so writing twice leaves every row byte-identical.
extension MySQLSessionStore {
    func write(_ sessions: [Session]) throws {
        try checkWritable(sessions)
        try mergeStates(
            table: "app_states", keyColumns: ["app_name"],
            updates: sessions.map { ([$0.key.appName], $0.appState, $0.key) })
        try mergeStates(
            table: "user_states", keyColumns: ["app_name", "user_id"],
            updates: sessions.map { ([$0.key.appName, $0.key.userId], $0.userState, $0.key) })
        let latest = lastOccurrences(sessions)
        try upsertSessionRows(latest)
        try verifyStoredKeys(latest)
        try deleteStaleEvents(latest)
        if let v0 {
            try upsertV0Events(latest, codec: v0)
        } else {
            try upsertEvents(latest)
        }
    }

    /// Each key once, keeping its last version, in batch order (writing the batch equals writing
    /// its sessions one after another).
    private func lastOccurrences(_ sessions: [Session]) -> [Session] {
        var lastIndex: [SessionKey: Int] = [:]
        for (index, session) in sessions.enumerated() { lastIndex[session.key] = index }
        return sessions.enumerated().compactMap { lastIndex[$0.element.key] == $0.offset ? $0.element : nil }
    }

    /// Merges each update into the stored state row of its key, in order, as ADK's
    /// `dict.update`; rows are created (as ADK's `create_session` does) even for an empty state.
    /// A merged state too large for a packet rejects the first session (`owner`) that updates it.
    private func mergeStates(table: String, keyColumns: [String], updates: [([String], JSONObject, SessionKey)]) throws {
        var keys: [[String]] = []
        var seen: Set<[String]> = []
        var owners: [[String]: SessionKey] = [:]
        for (key, _, owner) in updates where seen.insert(key).inserted {
            keys.append(key)
            owners[key] = owner
        }
        let stored = try readStates(table: table, keyColumns: keyColumns, keys: keys, forUpdate: true)
        var merged = stored
        for (key, delta, _) in updates { merged[key, default: [:]].update(with: delta) }
        func checkSize(_ sql: MySQLStatementBuilder, from start: Int, key: [String]) throws {
            guard let owner = owners[key] else { return }
            try checkRowSize(sql.count - start, owner: owner, location: "\(table) row \(key.joined(separator: "/"))")
        }

        let columns = keyColumns.joined(separator: ", ")
        let missing = keys.filter { stored[$0] == nil }
        try executeChunked(
            missing, context: "INSERT INTO \(table)",
            prefix: "INSERT INTO \(table) (\(columns), state, update_time) VALUES ", separator: ", ", suffix: ""
        ) { sql, key in
            let start = sql.count
            sql.append("(")
            for value in key {
                try sql.appendLiteral(value)
                sql.append(", ")
            }
            try sql.appendLiteral(DatabaseV1Codec.stateText(merged[key] ?? [:]))
            sql.append(", UTC_TIMESTAMP(6))")
            try checkSize(sql, from: start, key: key)
        }
        for key in keys {
            guard let old = stored[key], let new = merged[key], old != new else { continue }
            var sql = MySQLStatementBuilder(connection, context: "UPDATE \(table)")
            sql.append("UPDATE \(table) SET state = ")
            try sql.appendLiteral(DatabaseV1Codec.stateText(new))
            sql.append(", update_time = UTC_TIMESTAMP(6) WHERE ")
            try sql.appendEquals(keyColumns, key)
            try checkSize(sql, from: 0, key: key)
            try sql.execute()
        }
    }

    private func upsertSessionRows(_ sessions: [Session]) throws {
        try executeChunked(
            sessions, context: "INSERT INTO sessions",
            prefix: "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time) VALUES ",
            separator: ", ",
            suffix: " ON DUPLICATE KEY UPDATE state = VALUES(state), create_time = VALUES(create_time),"
                + " update_time = VALUES(update_time)"
        ) { sql, session in
            let start = sql.count
            try sql.appendTuple([
                session.key.appName, session.key.userId, session.key.sessionId,
                DatabaseV1Codec.stateText(session.state),
                DatabaseV1Codec.datetimeText(DatabaseV1Codec.createTime(of: session)),
                DatabaseV1Codec.datetimeText(session.lastUpdateTime),
            ])
            try checkRowSize(sql.count - start, owner: session.key, location: "sessions row \(session.key)")
        }
    }

    /// MySQL compares keys with the column collation (often case- and trailing-space-insensitive;
    /// `utf8mb4_unicode_ci` even equates all emoji), so an upsert can land on another session's
    /// row. Every key written must read back byte for byte, or the batch is rolled back.
    private func verifyStoredKeys(_ sessions: [Session]) throws {
        for start in stride(from: 0, to: sessions.count, by: 500) {
            let chunk = sessions[start..<min(start + 500, sessions.count)]
            var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
            sql.append("SELECT app_name, user_id, id FROM sessions WHERE (app_name, user_id, id) IN (")
            try sql.appendKeyList(chunk.lazy.map(\.key))
            sql.append(")")
            var stored: Set<SessionKey> = []
            for row in try sql.query(buffered: true).collect() {
                stored.insert(SessionKey(appName: row[0] ?? "", userId: row[1] ?? "", sessionId: row[2] ?? ""))
            }
            if let lost = chunk.first(where: { !stored.contains($0.key) }) {
                throw MySQLError(
                    code: .constraint,
                    message: "session \(lost.key) equals another session's key under the database collation"
                        + " (case, trailing spaces or emoji differ); MySQL cannot hold both, batch rolled back",
                    context: "INSERT INTO sessions")
            }
        }
    }

    /// Reads the stored event ids of the sessions (from the covering index) and deletes, by
    /// primary key, those that are not in the session's list. (One `DELETE … id NOT IN (…) OR …`
    /// statement per batch is far slower: MariaDB builds a large range tree for it.)
    private func deleteStaleEvents(_ sessions: [Session]) throws {
        var wanted: [SessionKey: Set<String>] = [:]
        for session in sessions { wanted[session.key] = Set(session.events.map(\.id)) }
        var stale: [[String]] = []
        for start in stride(from: 0, to: sessions.count, by: 500) {
            let chunk = sessions[start..<min(start + 500, sessions.count)]
            var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM events")
            sql.append("SELECT app_name, user_id, session_id, id FROM events")
            sql.append(" WHERE (app_name, user_id, session_id) IN (")
            try sql.appendKeyList(chunk.lazy.map(\.key))
            sql.append(")")
            let result = try sql.query(buffered: false)
            while let row = try result.next() {
                let key = SessionKey(appName: row[0] ?? "", userId: row[1] ?? "", sessionId: row[2] ?? "")
                let id = row[3] ?? ""
                if wanted[key]?.contains(id) != true { stale.append([id, key.appName, key.userId, key.sessionId]) }
            }
        }
        try executeChunked(
            stale, context: "DELETE FROM events",
            prefix: "DELETE FROM events WHERE (id, app_name, user_id, session_id) IN (", separator: ", ", suffix: ")"
        ) { sql, key in
            try sql.appendTuple(key)
        }
    }

    /// Upserts every event row with the bulk protocol, in round trips of up to 2,000 rows and
    /// at most ``statementLimit`` bytes (or one row, up to the packet limit).
    private func upsertEvents(_ sessions: [Session]) throws {
        let context = "INSERT INTO events"
        let statement = try MySQLBulkStatement(
            connection,
            sql: "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE invocation_id = VALUES(invocation_id),"
                + " timestamp = VALUES(timestamp), event_data = VALUES(event_data)",
            context: context)
        defer { statement.close() }
        var rows: [[String]] = []
        var bytes = 0
        for session in sessions {
            for event in session.events {
                let row = [
                    event.id, session.key.appName, session.key.userId, session.key.sessionId, event.invocationId,
                    DatabaseV1Codec.datetimeText(event.timestamp), DatabaseV1Codec.eventDataText(event),
                ]
                let rowBytes = row.reduce(16) { $0 + $1.utf8.count }
                try checkRowSize(rowBytes, owner: session.key, location: "events row id='\(event.id)' of \(session.key)")
                if !rows.isEmpty, rows.count == 2000 || bytes + rowBytes > statementLimit {
                    try statement.execute(rows)
                    rows.removeAll(keepingCapacity: true)
                    bytes = 0
                }
                bytes += rowBytes
                rows.append(row)
            }
        }
        try statement.execute(rows)
    }

    /// Runs `prefix item separator item … suffix` for all items, in as many statements as keep
    /// each near ``statementLimit`` bytes (a statement ends after the item that crosses it), and
    /// never over `max_allowed_packet` (an item that would take it over starts the next statement).
    func executeChunked<Item>(
        _ items: [Item], context: String, prefix: String, separator: String, suffix: String,
        item appendItem: (inout MySQLStatementBuilder, Item) throws -> Void
    ) throws {
        var sql = MySQLStatementBuilder(connection, context: context)
        var rows = 0
        func flush() throws {
            guard rows > 0 else { return }
            sql.append(suffix)
            try sql.execute()
            sql = MySQLStatementBuilder(connection, context: context)
            rows = 0
        }
        let packetLimit = maxPacket - suffix.utf8.count - 64
        for item in items {
            let mark = sql.count
            sql.append(rows == 0 ? prefix : separator)
            try appendItem(&sql, item)
            if rows > 0, sql.count > packetLimit {
                let moved = sql.removeBytes(from: mark + separator.utf8.count)
                sql.truncate(to: mark)
                try flush()
                sql.append(prefix)
                sql.append(bytes: moved)
            }
            rows += 1
            if sql.count >= statementLimit { try flush() }
        }
        try flush()
    }
}
