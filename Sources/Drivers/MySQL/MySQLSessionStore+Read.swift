import DriverCore
import SessionModel

// Reading: one page of `sessions` rows, then the events of that page in one query, then the
// app and user state rows the page needs. Memory is bounded by the page.
extension MySQLSessionStore {
    /// The next `limit` sessions after `key` in the primary key's order (the first page when
    /// `key` is `nil`). The OR-expanded keyset condition lets MariaDB use a range scan of the
    /// primary key (a row-constructor `>` is not range-optimised there).
    func loadPage(after key: SessionKey?, limit: Int) throws -> [Session] {
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
        sql.append("SELECT app_name, user_id, id, state, create_time, update_time FROM sessions")
        if let key {
            sql.append(" WHERE app_name > ")
            try sql.appendLiteral(key.appName)
            sql.append(" OR (app_name = ")
            try sql.appendLiteral(key.appName)
            sql.append(" AND (user_id > ")
            try sql.appendLiteral(key.userId)
            sql.append(" OR (user_id = ")
            try sql.appendLiteral(key.userId)
            sql.append(" AND id > ")
            try sql.appendLiteral(key.sessionId)
            sql.append(")))")
        }
        sql.append(" ORDER BY app_name, user_id, id LIMIT \(limit)")
        return try loadSessions(sql)
    }

    /// The sessions with these keys that exist (in primary key order).
    func loadSessions(keys: [SessionKey]) throws -> [Session] {
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM sessions")
        sql.append("SELECT app_name, user_id, id, state, create_time, update_time FROM sessions")
        sql.append(" WHERE (app_name, user_id, id) IN (")
        for (index, key) in keys.enumerated() {
            if index > 0 { sql.append(", ") }
            try sql.appendTuple([key.appName, key.userId, key.sessionId])
        }
        sql.append(") ORDER BY app_name, user_id, id")
        return try loadSessions(sql)
    }

    /// Runs a `sessions` query (columns as in ``loadPage(after:limit:)``) and completes each row
    /// with its events and its app and user state.
    private func loadSessions(_ statement: MySQLStatementBuilder) throws -> [Session] {
        var sessions: [Session] = []
        let result = try statement.query(buffered: true)
        while let session = try result.nextRaw({ try Self.session(from: $0) }) {
            sessions.append(session)
        }
        guard !sessions.isEmpty else { return [] }
        if let v0 {
            try attachV0Events(to: &sessions, codec: v0)
        } else {
            try attachEvents(to: &sessions)
        }
        try attachScopedState(to: &sessions)
        return sessions
    }

    private static func session(from row: MySQLRawRow) throws -> Session {
        let key = SessionKey(
            appName: row.string(at: 0) ?? "", userId: row.string(at: 1) ?? "", sessionId: row.string(at: 2) ?? "")
        let location = "sessions row \(key)"
        let state = try DatabaseV1Codec.state(fromText: row.string(at: 3), store: storeName, location: location)
        let createTime = try datetime(row, 4, location: location, column: "create_time")
        let updateTime = try datetime(row, 5, location: location, column: "update_time")
        return Session(key: key, state: state, createTime: createTime, lastUpdateTime: updateTime)
    }

    private static func datetime(_ row: MySQLRawRow, _ index: Int, location: String, column: String) throws -> Double {
        guard let text = row.string(at: index) else {
            throw SessionDataError(store: storeName, location: location, message: "\(column) is NULL")
        }
        return try DatabaseV1Codec.epoch(fromDatetime: text, store: storeName, location: "\(location), \(column)")
    }

    /// Streams the events of all `sessions` in one query, ordered as ADK ≥ 2.7 reads them.
    private func attachEvents(to sessions: inout [Session]) throws {
        try attachEvents(to: &sessions, valueColumns: ["invocation_id", "timestamp", "event_data"]) { row, id, location in
            try DatabaseV1Codec.event(
                id: id, invocationId: row.string(at: 4) ?? "", timestampText: row.string(at: 5) ?? "",
                eventData: row.string(at: 6), store: Self.storeName, location: location)
        }
    }

    /// Selects `app_name, user_id, session_id, id` and `valueColumns` (from index 4) of the events of
    /// all `sessions` in one query ordered `(timestamp, id)`, and appends `makeEvent(row, id, location)`
    /// to each row's session. Shared by schema v1 and v0.
    func attachEvents(
        to sessions: inout [Session], valueColumns: [String], makeEvent: (MySQLRawRow, String, String) throws -> Event
    ) throws {
        var indexByKey: [SessionKey: Int] = [:]
        for (index, session) in sessions.enumerated() { indexByKey[session.key] = index }
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM events")
        sql.append("SELECT app_name, user_id, session_id, id, \(valueColumns.joined(separator: ", ")) FROM events")
        sql.append(" WHERE (app_name, user_id, session_id) IN (")
        try sql.appendKeyList(sessions.lazy.map(\.key))
        sql.append(") ORDER BY app_name, user_id, session_id, timestamp, id")
        let result = try sql.query(buffered: false)
        while try result.nextRaw({ (row: MySQLRawRow) -> Void in
            let key = SessionKey(
                appName: row.string(at: 0) ?? "", userId: row.string(at: 1) ?? "", sessionId: row.string(at: 2) ?? "")
            let id = row.string(at: 3) ?? ""
            let location = "events row id='\(id)' of \(key)"
            guard let index = indexByKey[key] else {
                throw SessionDataError(
                    store: Self.storeName, location: location,
                    message: "its session key equals a session's key only under the database collation")
            }
            sessions[index].events.append(try makeEvent(row, id, location))
        }) != nil {}
    }

    /// Reads the `app_states` and `user_states` rows of the sessions' apps and users.
    /// A missing row reads as `{}` (ADK's readers do the same).
    private func attachScopedState(to sessions: inout [Session]) throws {
        var apps: [String] = []
        var users: [[String]] = []
        var seenApps: Set<String> = []
        var seenUsers: Set<[String]> = []
        for session in sessions {
            if seenApps.insert(session.key.appName).inserted { apps.append(session.key.appName) }
            let user = [session.key.appName, session.key.userId]
            if seenUsers.insert(user).inserted { users.append(user) }
        }
        let appStates = try readStates(table: "app_states", keyColumns: ["app_name"], keys: apps.map { [$0] })
        let userStates = try readStates(table: "user_states", keyColumns: ["app_name", "user_id"], keys: users)
        for index in sessions.indices {
            let key = sessions[index].key
            sessions[index].appState = appStates[[key.appName]] ?? [:]
            sessions[index].userState = userStates[[key.appName, key.userId]] ?? [:]
        }
    }

    /// `state` of the rows of `table` whose key columns equal one of `keys`, by exact key.
    /// With `forUpdate`, the rows are locked until the transaction ends.
    func readStates(
        table: String, keyColumns: [String], keys: [[String]], forUpdate: Bool = false
    ) throws -> [[String]: JSONObject] {
        guard !keys.isEmpty else { return [:] }
        var states: [[String]: JSONObject] = [:]
        let columns = keyColumns.joined(separator: ", ")
        var sql = MySQLStatementBuilder(connection, context: "SELECT … FROM \(table)")
        sql.append("SELECT \(columns), state FROM \(table) WHERE (\(columns)) IN (")
        for (index, key) in keys.enumerated() {
            if index > 0 { sql.append(", ") }
            try sql.appendTuple(key)
        }
        sql.append(forUpdate ? ") FOR UPDATE" : ")")
        let result = try sql.query(buffered: true)
        while let row = try result.next() {
            let key = row.prefix(keyColumns.count).map { $0 ?? "" }
            let location = "\(table) row \(key.joined(separator: "/"))"
            states[key] = try DatabaseV1Codec.state(
                fromText: row.last ?? nil, store: Self.storeName, location: location)
        }
        return states
    }
}
