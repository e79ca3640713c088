import DriverCore
import SessionModel

extension SQLiteSessionTables {
    /// Writes a batch of sessions in one `BEGIN IMMEDIATE` transaction.
    ///
    /// For each session: app and user state are read, merged with `dict.update` semantics and
    /// written only when that changes them; the `sessions` row is upserted; the events become
    /// exactly `session.events`. When the stored event ids (in insertion order) equal the new
    /// ones, rows are updated in place where they differ; otherwise the session's events are
    /// deleted and inserted in order, since SqliteSessionService breaks timestamp ties by rowid.
    /// Writing the same batch twice leaves every table's contents unchanged the second time.
    public func writeSessions(_ sessions: [Session]) throws {
        guard !sessions.isEmpty else { return }
        if !hasTables { try prepareTables() }
        try connection.withTransaction {
            let writer = try SessionWriter(tables: self, now: WallClock.now())
            for session in sessions { try writer.write(session) }
        }
    }

    /// Writes each session only if its stored `update_time` is still the expected version (for
    /// `nil`: only if no row has its key), checked inside the same `BEGIN IMMEDIATE` transaction
    /// as the write, so no other writer can change the file between the check and the commit.
    /// Returns the refused keys; nothing of those is written. Of several writes of one key, the
    /// last is the one made. Everything else as ``writeSessions(_:)``.
    public func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> {
        guard !writes.isEmpty else { return [] }
        if !hasTables { try prepareTables() }
        var lastIndex: [SessionKey: Int] = [:]
        for (index, write) in writes.enumerated() { lastIndex[write.session.key] = index }
        return try connection.withTransaction {
            let writer = try SessionWriter(tables: self, now: WallClock.now())
            let version = try connection.prepare("SELECT update_time FROM sessions WHERE app_name = ? AND user_id = ? AND id = ?")
            var refused: Set<SessionKey> = []
            for (index, write) in writes.enumerated() where lastIndex[write.session.key] == index {
                let key = write.session.key
                try version.reset()
                try version.bind([.text(key.appName), .text(key.userId), .text(key.sessionId)])
                let stored = try version.step() ? Self.versionToken(version.value(at: 0)) : nil
                guard stored == write.expected?.token else {
                    refused.insert(key)
                    continue
                }
                try writer.write(write.session)
            }
            return refused
        }
    }
}

/// The prepared statements of one write batch.
private struct SessionWriter {
    let format: any SQLiteSessionFormat
    let tables: SQLiteSessionTables
    let nowValue: SQLiteValue
    let insertApp, updateApp, insertUser, updateUser: SQLiteStatement
    let upsertSession, selectEventIds, deleteEvents, insertEvent, updateEvent: SQLiteStatement

    init(tables: SQLiteSessionTables, now: Double) throws {
        let connection = tables.connection
        self.tables = tables
        self.format = tables.format
        self.nowValue = tables.format.timeValue(now)
        insertApp = try connection.prepare("INSERT INTO app_states (app_name, state, update_time) VALUES (?, ?, ?)")
        updateApp = try connection.prepare("UPDATE app_states SET state = ?2, update_time = ?3 WHERE app_name = ?1")
        insertUser = try connection.prepare("INSERT INTO user_states (app_name, user_id, state, update_time) VALUES (?, ?, ?, ?)")
        updateUser = try connection.prepare("UPDATE user_states SET state = ?3, update_time = ?4 WHERE app_name = ?1 AND user_id = ?2")
        upsertSession = try connection.prepare(
            """
            INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (app_name, user_id, id) DO UPDATE SET
              state = excluded.state, create_time = excluded.create_time, update_time = excluded.update_time
            WHERE state IS NOT excluded.state OR create_time IS NOT excluded.create_time OR update_time IS NOT excluded.update_time
            """)
        selectEventIds = try connection.prepare(
            "SELECT id FROM events WHERE app_name = ? AND user_id = ? AND session_id = ? ORDER BY rowid")
        deleteEvents = try connection.prepare("DELETE FROM events WHERE app_name = ? AND user_id = ? AND session_id = ?")
        let columns = tables.format.eventColumns
        let names = (["app_name", "user_id", "session_id", "id"] + columns).joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: 4 + columns.count).joined(separator: ", ")
        insertEvent = try connection.prepare("INSERT INTO events (\(names)) VALUES (\(placeholders))")
        // Parameters ?5… are the event columns; rows already equal are left untouched.
        let assignments = columns.enumerated().map { "\($1) = ?\($0 + 5)" }.joined(separator: ", ")
        let differences = columns.enumerated().map { "\($1) IS NOT ?\($0 + 5)" }.joined(separator: " OR ")
        updateEvent = try connection.prepare(
            """
            UPDATE events SET \(assignments)
            WHERE app_name = ?1 AND user_id = ?2 AND session_id = ?3 AND id = ?4 AND (\(differences))
            """)
    }

    func write(_ session: Session) throws {
        let key = session.key
        try writeAppState(key.appName, session.appState)
        try writeUserState(key.appName, key.userId, session.userState)
        let createTime = DatabaseV1Codec.createTime(of: session)
        try upsertSession.run([
            .text(key.appName), .text(key.userId), .text(key.sessionId), .text(format.stateText(session.state)),
            format.timeValue(createTime), format.timeValue(session.lastUpdateTime),
        ])
        try writeEvents(session)
    }

    /// Merges `delta` into the stored app state; writes only when the state changes.
    private func writeAppState(_ app: String, _ delta: JSONObject) throws {
        if let stored = try tables.readAppState(app) {
            var merged = stored
            merged.update(with: delta)
            guard merged != stored else { return }
            try updateApp.run([.text(app), .text(format.stateText(merged)), nowValue])
        } else if !delta.isEmpty || format.writesEmptyScopeRows {
            try insertApp.run([.text(app), .text(format.stateText(delta)), nowValue])
        }
    }

    /// Merges `delta` into the stored user state; writes only when the state changes.
    private func writeUserState(_ app: String, _ user: String, _ delta: JSONObject) throws {
        if let stored = try tables.readUserState(app, user) {
            var merged = stored
            merged.update(with: delta)
            guard merged != stored else { return }
            try updateUser.run([.text(app), .text(user), .text(format.stateText(merged)), nowValue])
        } else if !delta.isEmpty || format.writesEmptyScopeRows {
            try insertUser.run([.text(app), .text(user), .text(format.stateText(delta)), nowValue])
        }
    }

    /// Makes the session's stored events exactly `session.events`, in order.
    private func writeEvents(_ session: Session) throws {
        let key: [SQLiteValue] = [.text(session.key.appName), .text(session.key.userId), .text(session.key.sessionId)]
        try selectEventIds.reset()
        try selectEventIds.bind(key)
        var storedIds: [String] = []
        while try selectEventIds.step() { storedIds.append(selectEventIds.text(at: 0)) }
        let inPlace = storedIds.count == session.events.count && zip(storedIds, session.events).allSatisfy { $0.isExactly($1.id) }
        if !inPlace { try deleteEvents.run(key) }
        let statement = inPlace ? updateEvent : insertEvent
        for event in session.events {
            let values = try format.eventValues(event, location: RowName.event(event.id, of: session.key))
            try statement.run(key + [.text(event.id)] + values)
        }
    }
}
