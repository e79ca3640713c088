import DriverCore
import SessionModel

// Writing one batch (docs/DESIGN.md "Fencing"), in an order that cannot deadlock with ADK:
// 0. outside any transaction: check ids, build every sessions and events row (a row too large for
//    a packet rejects its session before anything is written), and refuse the fenced writes whose
//    session has already changed (a plain read of `update_time`);
// 1. app_states / user_states in a transaction of their own (MySQLSessionStore+State.swift);
// 2. one READ COMMITTED transaction for the sessions and their events: lock the existing
//    `sessions` rows (`FOR UPDATE`, by primary key, in key order), refuse the fenced writes whose
//    row changed, insert the fenced sessions that have no row (a plain INSERT: nothing locks a
//    missing key, so a duplicate key is someone else's session or a collation twin,
//    MySQLSessionStore+Insert.swift), upsert the other rows whose content changes, check that
//    MySQL's collation did not fold two keys into one row, delete each session's stored events
//    that are not in its list, then upsert its events.
// Unchanged rows are never touched, so writing twice leaves every row byte-identical.
extension MySQLSessionStore {
    /// Writes the batch and returns the keys of the fenced writes refused because the stored
    /// session is not the version they expected. Nothing of a session refused in step 0 is
    /// written; one refused in step 2 (changed between the two checks) keeps the app and user
    /// keys step 1 merged.
    func write(_ batch: [MySQLSessionWrite]) throws -> Set<SessionKey> {
        let writes = lastOccurrences(batch)
        try checkWritable(writes.map(\.session))
        let rows = try prepareRows(writes)
        var refused = try refuseChanged(writes, stored: fetchStoredVersions(writes.filter(\.isFenced).map(\.session.key)))
        let remaining = rows.filter { !refused.contains($0.write.session.key) }
        guard !remaining.isEmpty else { return refused }
        // Every write of a key merges its state, in batch order, as writing them one after another would.
        try mergeScopedStates(batch.lazy.map(\.session).filter { !refused.contains($0.key) })
        refused.formUnion(try writeSessionRows(remaining))
        return refused
    }

    /// Step 2, one run of the sessions transaction (the caller opens it): returns the keys of the
    /// fenced writes whose locked row is not what they expect, of which nothing is written.
    func writeLockedSessionRows(_ remaining: [MySQLPreparedSession]) throws -> Set<SessionKey> {
        let stored = try lockSessionRows(remaining.map(\.write.session.key))
        try afterSessionRowsLocked?()
        let changed = refuseChanged(remaining.map(\.write), stored: stored.mapValues(\.updateTime))
        let accepted = remaining.filter { !changed.contains($0.write.session.key) }
        guard !accepted.isEmpty else { return changed }
        // A fenced write of a key with no row inserts (a duplicate key then fails instead of
        // overwriting); the others upsert, existing rows being locked.
        let isNew = { (row: MySQLPreparedSession) in row.write.isFenced && stored[row.write.session.key] == nil }
        try upsertSessionRows(accepted.filter { !isNew($0) && stored[$0.write.session.key].map($0.isStored) != true })
        try insertSessionRows(accepted.filter(isNew))
        let sessions = accepted.map(\.write.session)
        try verifyStoredKeys(sessions)
        try deleteStaleEvents(sessions)
        if v0 != nil {
            try upsertV0Events(accepted)
        } else {
            try upsertEvents(accepted)
        }
        rowsWritten += accepted.reduce(accepted.count) { $0 + $1.write.session.events.count }
        return changed
    }

    /// Each key once, keeping its last write, in batch order (writing the batch equals writing
    /// its sessions one after another).
    private func lastOccurrences(_ writes: [MySQLSessionWrite]) -> [MySQLSessionWrite] {
        var lastIndex: [SessionKey: Int] = [:]
        for (index, write) in writes.enumerated() { lastIndex[write.session.key] = index }
        return writes.enumerated().compactMap { lastIndex[$0.element.session.key] == $0.offset ? $0.element : nil }
    }

    /// Upserts the prepared `sessions` rows (update_time = the session's last update, as ADK sets it).
    private func upsertSessionRows(_ rows: [MySQLPreparedSession]) throws {
        try executeChunked(
            rows, context: "INSERT INTO sessions",
            prefix: "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time) VALUES ",
            separator: ", ",
            suffix: " ON DUPLICATE KEY UPDATE state = VALUES(state), create_time = VALUES(create_time),"
                + " update_time = VALUES(update_time)",
            owner: { RowOwner.session($0.write.session.key) }
        ) { sql, row in
            sql.append(bytes: row.sessionRow)
        }
    }

    /// MySQL compares keys with the column collation (often case- and trailing-space-insensitive;
    /// `utf8mb4_unicode_ci` even equates all emoji), so an upsert can land on another session's
    /// row. Every key written must read back byte for byte, or the batch is rolled back.
    private func verifyStoredKeys(_ sessions: [Session]) throws {
        for start in stride(from: 0, to: sessions.count, by: 500) {
            let chunk = sessions[start..<min(start + 500, sessions.count)]
            let stored = Set(try storedKeys(equalTo: chunk.lazy.map(\.key)))
            if let lost = chunk.first(where: { !stored.contains($0.key) }) { throw Self.collationTwinError(lost.key) }
        }
    }

    /// The keys of the `sessions` rows equal to one of `keys` under the column collation (the
    /// key itself, or another case, trailing spaces or emoji of it).
    func storedKeys(equalTo keys: some Sequence<SessionKey>) throws -> [SessionKey] {
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
        sql.append("SELECT app_name, user_id, id FROM sessions WHERE (app_name, user_id, id) IN (")
        try sql.appendKeyList(keys)
        sql.append(")")
        return try sql.query(buffered: true).collect().map { SessionKey(appName: $0[0] ?? "", userId: $0[1] ?? "", sessionId: $0[2] ?? "") }
    }

    /// Reads the stored event ids of the sessions (from the covering index) and deletes, by
    /// primary key, those that are not in the session's list. (One `DELETE … id NOT IN (…) OR …`
    /// statement per batch is far slower: MariaDB builds a large range tree for it.)
    private func deleteStaleEvents(_ sessions: [Session]) throws {
        // By bytes: an id canonically equal to a wanted one but spelled otherwise is stale.
        var wanted: [SessionKey: Set<ExactString>] = [:]
        for session in sessions { wanted[session.key] = Set(session.events.map { ExactString($0.id) }) }
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
                if wanted[key]?.contains(ExactString(id)) != true { stale.append([id, key.appName, key.userId, key.sessionId]) }
            }
        }
        try executeChunked(
            stale, context: "DELETE FROM events",
            prefix: "DELETE FROM events WHERE (id, app_name, user_id, session_id) IN (", separator: ", ", suffix: ")"
        ) { sql, key in
            try sql.appendTuple(key)
        }
    }

    /// Upserts every prepared event row with the bulk protocol, in round trips of up to 2,000 rows
    /// and at most ``statementLimit`` bytes (or one row, up to the packet limit).
    private func upsertEvents(_ sessions: [MySQLPreparedSession]) throws {
        let context = "INSERT INTO events"
        let statement = try MySQLBulkStatement(
            connection,
            sql: "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE invocation_id = VALUES(invocation_id),"
                + " timestamp = VALUES(timestamp), event_data = VALUES(event_data)",
            context: context)
        defer { statement.close() }
        var rows: [[String]] = []
        var owners: [RowOwner] = []
        var bytes = 0
        func execute() throws {
            try attributingRowErrors(owners) { subset in try statement.execute(subset.map { [rows[$0]] } ?? rows) }
            rows.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            bytes = 0
        }
        for session in sessions {
            for row in session.eventRows {
                let rowBytes = MySQLPreparedSession.bulkRowBytes(row)
                let owner = RowOwner.event(row[0], of: session.write.session.key)
                if !rows.isEmpty, rows.count == 2000 || bytes + rowBytes > statementLimit { try execute() }
                bytes += rowBytes
                rows.append(row)
                owners.append(owner)
            }
        }
        try execute()
    }

    /// Runs `prefix item separator item … suffix` for all items, in as many statements as keep
    /// each near ``statementLimit`` bytes (a statement ends after the item that crosses it), and
    /// never over `max_allowed_packet` (an item that would take it over starts the next statement).
    /// With `owner`, an error the server raises about one row names that row's session
    /// (``attributingRowErrors(_:explain:run:)``; `explain` sees the row's item and error first).
    func executeChunked<Item>(
        _ items: [Item], context: String, prefix: String, separator: String, suffix: String,
        owner: ((Item) -> RowOwner)? = nil, explain: (Item, MySQLError) throws -> Void = { _, _ in },
        item appendItem: (inout MySQLStatementBuilder, Item) throws -> Void
    ) throws {
        var sql = MySQLStatementBuilder(connection, context: context)
        var pending: [Item] = []
        func run(_ statement: MySQLStatementBuilder, _ rows: [Item]) throws {
            guard let owner else {
                try statement.execute()
                return
            }
            try attributingRowErrors(rows.map(owner), explain: { try explain(rows[$0], $1) }) { subset in
                guard let subset else {
                    try statement.execute()
                    return
                }
                var alone = MySQLStatementBuilder(connection, context: context)
                alone.append(prefix)
                try appendItem(&alone, rows[subset])
                alone.append(suffix)
                try alone.execute()
            }
        }
        func flush() throws {
            guard !pending.isEmpty else { return }
            sql.append(suffix)
            try run(sql, pending)
            sql = MySQLStatementBuilder(connection, context: context)
            pending = []
        }
        let packetLimit = maxPacket - suffix.utf8.count - 64
        for item in items {
            let mark = sql.count
            sql.append(pending.isEmpty ? prefix : separator)
            try appendItem(&sql, item)
            if !pending.isEmpty, sql.count > packetLimit {
                let moved = sql.removeBytes(from: mark + separator.utf8.count)
                sql.truncate(to: mark)
                try flush()
                sql.append(prefix)
                sql.append(bytes: moved)
            }
            pending.append(item)
            if sql.count >= statementLimit { try flush() }
        }
        try flush()
    }
}
