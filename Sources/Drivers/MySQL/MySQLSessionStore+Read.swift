import DriverCore
import SessionModel

// Reading: one page of `sessions` rows, then the events of that page in one query, then the
// app and user state rows the page needs, all in one consistent snapshot (`START TRANSACTION WITH
// CONSISTENT SNAPSHOT, READ ONLY`), so a session and its events are read as of one moment even
// while ADK appends. Memory is bounded by the page.
extension MySQLSessionStore {
    /// The next `limit` sessions in `scope` after `key` in the primary key's order (the first page
    /// when `key` is `nil`).
    ///
    /// A `slots` shard (``DriverCore/ShardFunction/slots(_:)``: MySQL has no CRC16) is judged here on
    /// each `sessions` row, from its key, before its state is parsed or its events read; pages of
    /// `limit` rows follow one another until `limit` sessions are kept or the rows end, so a page
    /// shorter than `limit` still means the end.
    /// Events are carried as their text in `eventStyle` where it is given (``DriverCore/SessionQuery/eventStyle``).
    func loadPage(scope: SessionScope, after key: SessionKey?, limit: Int, eventStyle: JSONStyle? = nil, bad: inout BadSessionLog) throws -> [Session] {
        var keep: ((SessionKey) -> Bool)?
        if let shard = scope.shard, shard.function != .sessionId, shard.count > 1 { keep = { shard.contains($0) } }
        var sessions: [Session] = []
        var scanned = ScannedRows(last: key)
        repeat {
            var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
            sql.append("SELECT app_name, user_id, id, state, create_time, update_time FROM sessions")
            try sql.appendWhere(scope: scope, after: scanned.last)
            sql.append(" ORDER BY app_name, user_id, id LIMIT \(limit)")
            scanned.count = 0
            sessions += try connection.withConsistentSnapshot {
                try loadSessions(sql, keep: keep, scanned: &scanned, eventStyle: eventStyle, bad: &bad).map(\.session)
            }
        } while keep != nil && sessions.count < limit && scanned.count == limit
        return sessions
    }

    /// The rows a query returned, kept or not, and the key of the last.
    struct ScannedRows {
        var last: SessionKey?
        var count = 0
    }

    /// The sessions with these keys that exist (in primary key order), each with its
    /// `update_time` text (its ``DriverCore/StoredVersion``), read in one consistent snapshot.
    func loadVersionedSessions(keys: [SessionKey]) throws -> [(session: Session, version: String)] {
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
        sql.append("SELECT app_name, user_id, id, state, create_time, update_time FROM sessions")
        sql.append(" WHERE (app_name, user_id, id) IN (")
        for (index, key) in keys.enumerated() {
            if index > 0 { sql.append(", ") }
            try sql.appendTuple([key.appName, key.userId, key.sessionId])
        }
        sql.append(") ORDER BY app_name, user_id, id")
        var bad = BadSessionLog(skipBad: false)
        var scanned = ScannedRows()
        return try connection.withConsistentSnapshot { try loadSessions(sql, scanned: &scanned, bad: &bad) }
    }

    /// Runs a `sessions` query (columns as in ``loadPage(after:limit:)``) and completes each row
    /// with its events and its app and user state; each session comes with its row's
    /// `update_time` text. A session with bad data is recorded in `bad` (or throws, see
    /// ``BadSessionLog``) and stays in the result, incomplete: callers drop it.
    /// Rows whose key `keep` refuses are passed over (counted in `scanned` with the others).
    private func loadSessions(
        _ statement: MySQLStatementBuilder, keep: ((SessionKey) -> Bool)? = nil, scanned: inout ScannedRows, eventStyle: JSONStyle? = nil,
        bad: inout BadSessionLog
    ) throws -> [(session: Session, version: String)] {
        var sessions: [Session] = []
        var versions: [String] = []
        let result = try statement.query(buffered: true)
        while let row = try result.nextRaw({ row -> Session? in
            let key = try Self.key(from: row, table: "sessions")
            scanned.last = key
            scanned.count += 1
            guard keep?(key) ?? true else { return nil }
            versions.append(row.string(at: 5) ?? "")
            do {
                return try Self.session(from: row, key: key)
            } catch {
                try bad.record(error, for: key)
                return Session(key: key, lastUpdateTime: 0)
            }
        }) {
            if let session = row { sessions.append(session) }
        }
        guard !sessions.isEmpty else { return [] }
        if let v0 {
            try attachV0Events(to: &sessions, codec: v0, bad: &bad)
        } else {
            try attachEvents(to: &sessions, eventStyle: eventStyle, bad: &bad)
        }
        try attachScopedState(to: &sessions, bad: &bad)
        return Array(zip(sessions, versions))
    }

    /// The key columns (0–2) of a `sessions` or `events` row; a key that is not valid UTF-8
    /// cannot be named or paged past, so it always throws.
    static func key(from row: MySQLRawRow, table: String) throws -> SessionKey {
        var parts: [String] = []
        for index in 0..<3 {
            guard let bytes = row.bytes(at: index), let text = UTF8Text.decode(bytes) else {
                let shown = (0..<3).map { row.string(at: $0) ?? "NULL" }
                throw SessionDataError(
                    store: storeName, location: RowName.row(table, shown), message: "key column \(index + 1) is NULL or not valid UTF-8")
            }
            parts.append(text)
        }
        return SessionKey(appName: parts[0], userId: parts[1], sessionId: parts[2])
    }

    /// Column `index` as text (`nil` for NULL); bytes that are not UTF-8 throw naming the row.
    static func text(_ row: MySQLRawRow, _ index: Int, location: @autoclosure () -> String, column: String) throws -> String? {
        guard let bytes = row.bytes(at: index) else { return nil }
        return try UTF8Text.decode(bytes, store: storeName, location: location(), column: column)
    }

    private static func session(from row: MySQLRawRow, key: SessionKey) throws -> Session {
        // Named only when something is wrong: building the name for every row was a few % of a read.
        let location = { RowName.session(key) }
        let state = try DatabaseV1Codec.state(
            fromText: text(row, 3, location: location(), column: "state"), store: storeName, location: location())
        let createTime = try datetime(row, 4, location: location, column: "create_time")
        let updateTime = try datetime(row, 5, location: location, column: "update_time")
        try StoredTime.check(createTime: createTime, lastUpdateTime: updateTime, store: storeName, location: location())
        return Session(key: key, state: state, createTime: createTime, lastUpdateTime: updateTime)
    }

    private static func datetime(_ row: MySQLRawRow, _ index: Int, location: () -> String, column: String) throws -> Double {
        guard let text = try text(row, index, location: location(), column: column) else {
            throw SessionDataError(store: storeName, location: location(), message: "\(column) is NULL")
        }
        return try DatabaseV1Codec.epoch(fromDatetime: text, store: storeName, location: "\(location()), \(column)")
    }

    /// Streams the events of all `sessions` in one query, ordered as ADK ≥ 2.7 reads them.
    private func attachEvents(to sessions: inout [Session], eventStyle: JSONStyle?, bad: inout BadSessionLog) throws {
        try attachEvents(to: &sessions, valueColumns: ["invocation_id", "timestamp", "event_data"], bad: &bad) { row, id, location in
            let invocationId = try Self.text(row, 4, location: location(), column: "invocation_id") ?? ""
            let timestampText = try Self.text(row, 5, location: location(), column: "timestamp") ?? ""
            // `event_data` transcoded from the row's own bytes where the columns agree with it: no
            // `String` of the column is made.
            if let eventStyle, let bytes = row.bytes(at: 6), let carried = Event(transcoding: bytes, from: .none, style: eventStyle),
                let event = try DatabaseV1Codec.accepting(
                    carried, id: id, invocationId: invocationId, timestampText: timestampText, store: Self.storeName, location: location())
            {
                return event
            }
            return try DatabaseV1Codec.event(
                id: id, invocationId: invocationId, timestampText: timestampText,
                eventData: Self.text(row, 6, location: location(), column: "event_data"), store: Self.storeName, location: location())
        }
    }

    /// Selects `app_name, user_id, session_id, id` and `valueColumns` (from index 4) of the events of
    /// all `sessions` in one query (read newest first, in the index's order), and appends `makeEvent(row, id, location)`
    /// to each row's session. Shared by schema v1 and v0. A bad row is recorded against its session in
    /// `bad` (or throws); the session's other rows are still read, and the caller drops it.
    func attachEvents(
        to sessions: inout [Session], valueColumns: [String], bad: inout BadSessionLog,
        makeEvent: (MySQLRawRow, String, () -> String) throws -> Event
    ) throws {
        var indexByKey: [SessionKey: Int] = [:]
        for (index, session) in sessions.enumerated() { indexByKey[session.key] = index }
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM events")
        sql.append("SELECT app_name, user_id, session_id, id, \(valueColumns.joined(separator: ", ")) FROM events")
        sql.append(" WHERE (app_name, user_id, session_id) IN (")
        try sql.appendKeyList(sessions.lazy.map(\.key))
        // In the order of ADK's index (app_name, user_id, session_id, timestamp DESC, id DESC), so the range
        // scan needs no filesort (sorting 4,000 rows with their event_data cost MariaDB more CPU than reading
        // them); each session's events are reversed below into (timestamp, id) order.
        sql.append(") ORDER BY app_name, user_id, session_id, timestamp DESC, id DESC")
        defer { for index in sessions.indices { sessions[index].events.reverse() } }
        let result = try sql.query(buffered: false)
        while try result.nextRaw({ (row: MySQLRawRow) -> Void in
            let key = try Self.key(from: row, table: "events")
            let id = row.string(at: 3) ?? ""
            let location = { RowName.event(id, of: key) }
            guard let index = indexByKey[key] else {
                throw SessionDataError(
                    store: Self.storeName, location: location(),
                    message: "its session key equals a session's key only under the database collation")
            }
            guard !bad.isBad(key) else { return }
            do {
                _ = try Self.text(row, 3, location: location(), column: "id")
                let event = try makeEvent(row, id, location)
                try StoredTime.check(event, store: Self.storeName, location: location())
                sessions[index].events.append(event)
            } catch {
                try bad.record(error, for: key)
            }
        }) != nil {}
    }

    /// Reads the `app_states` and `user_states` rows of the sessions' apps and users.
    /// A missing row reads as `{}` (ADK's readers do the same).
    private func attachScopedState(to sessions: inout [Session], bad: inout BadSessionLog) throws {
        var apps: [String] = []
        var users: [[String]] = []
        var seenApps: Set<ExactString> = []
        var seenUsers: Set<[ExactString]> = []
        for session in sessions {
            if seenApps.insert(ExactString(session.key.appName)).inserted { apps.append(session.key.appName) }
            let user = [session.key.appName, session.key.userId]
            if seenUsers.insert(exact(user)).inserted { users.append(user) }
        }
        var badStates: [[ExactString]: SessionDataError] = [:]
        let skip = bad.skipBad
        let onBad: ([String], SessionDataError) throws -> Void = { key, error in
            guard skip else { throw error }
            badStates[exact(key)] = error
        }
        let appStates = try readStates(table: "app_states", keyColumns: ["app_name"], keys: apps.map { [$0] }, onBad: onBad)
        let userStates = try readStates(table: "user_states", keyColumns: ["app_name", "user_id"], keys: users, onBad: onBad)
        for index in sessions.indices {
            let key = sessions[index].key
            // A bad app or user state row makes every session of that app or user bad.
            if let error = badStates[exact(["app", key.appName])] ?? badStates[exact(["user", key.appName, key.userId])] {
                try bad.record(error, for: key)
            }
            sessions[index].appState = appStates[exact([key.appName])] ?? [:]
            sessions[index].userState = userStates[exact([key.appName, key.userId])] ?? [:]
        }
    }

    /// `state` of the rows of `table` whose key columns equal one of `keys`, by exact key (UTF-8 bytes).
    /// With `forUpdate`, the rows are locked until the transaction ends.
    /// A row whose state is bad goes to `onBad` (tagged `["app", app]` or `["user", app, user]`)
    /// when given; otherwise it throws.
    func readStates(
        table: String, keyColumns: [String], keys: [[String]], forUpdate: Bool = false,
        onBad: (([String], SessionDataError) throws -> Void)? = nil
    ) throws -> [[ExactString]: JSONObject] {
        guard !keys.isEmpty else { return [:] }
        var states: [[ExactString]: JSONObject] = [:]
        let columns = keyColumns.joined(separator: ", ")
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM \(table)")
        // FORCE INDEX: a locking read must lock only the rows asked for, even in a tiny table.
        sql.append("SELECT \(columns), state FROM \(table)\(forUpdate ? " FORCE INDEX (PRIMARY)" : "") WHERE (\(columns)) IN (")
        for (index, key) in keys.enumerated() {
            if index > 0 { sql.append(", ") }
            try sql.appendTuple(key)
        }
        sql.append(forUpdate ? ") FOR UPDATE" : ")")
        let result = try sql.query(buffered: true)
        while let (key, state) = try result.nextRaw({ row -> ([String], Result<JSONObject, SessionDataError>) in
            let key = (0..<keyColumns.count).map { row.string(at: $0) ?? "" }
            let location = RowName.row(table, key)
            do {
                let text = try Self.text(row, keyColumns.count, location: location, column: "state")
                return (key, .success(try DatabaseV1Codec.state(fromText: text, store: Self.storeName, location: location)))
            } catch let error as SessionDataError {
                return (key, .failure(error))
            }
        }) {
            switch state {
            case .success(let object): states[exact(key)] = object
            case .failure(let error):
                guard let onBad else { throw error }
                try onBad((keyColumns.count == 1 ? ["app"] : ["user"]) + key, error)
            }
        }
        return states
    }
}

extension MySQLConnection {
    /// Runs `body` in a read-only transaction that reads one consistent snapshot (InnoDB's
    /// REPEATABLE READ, which the store sets on its connection): every query of `body` sees the
    /// database as of the transaction's start. Must not be called inside another transaction.
    func withConsistentSnapshot<R>(_ body: () throws -> R) throws -> R {
        try execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        do {
            let value = try body()
            try commit()
            return value
        } catch {
            try? rollback()
            throw error
        }
    }
}
