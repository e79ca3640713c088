import DriverCore
import SessionModel

/// Reads and writes whole sessions in the four ADK tables of a SQLite file, in the encoding of a
/// ``SQLiteSessionFormat``. The stores of both SQLite layouts are thin wrappers around it.
///
/// Not Sendable: use it on the thread that owns its connection.
public final class SQLiteSessionTables {
    /// The connection it reads and writes through (owned by the store).
    public let connection: SQLiteConnection
    /// How columns are encoded.
    public let format: any SQLiteSessionFormat
    /// False while the file has no ADK tables (a new file opened only for reading).
    public private(set) var hasTables: Bool

    /// Wraps `connection`; `hasTables` says whether the ADK tables exist yet.
    public init(connection: SQLiteConnection, format: any SQLiteSessionFormat, hasTables: Bool) {
        self.connection = connection
        self.format = format
        self.hasTables = hasTables
    }

    /// Creates the format's tables (if missing) in one transaction.
    public func prepareTables() throws {
        try connection.withTransaction { try format.prepareTables(connection) }
        hasTables = true
    }

    // MARK: - Stats

    /// Row counts and the `sessions.update_time` range.
    public func fetchStats() throws -> StoreStats {
        guard hasTables else {
            return StoreStats(layout: format.layout, sessions: 0, events: 0, appStates: 0, userStates: 0, oldestUpdateTime: nil, newestUpdateTime: nil)
        }
        let tables = Set(try connection.tableNames())
        func count(_ table: String) throws -> Int {
            guard tables.contains(table) else { return 0 }
            let statement = try connection.prepare("SELECT count(*) FROM \(table)")
            try statement.step()
            return Int(statement.int64(at: 0))
        }
        var oldest: Double?
        var newest: Double?
        if tables.contains("sessions") {
            let statement = try connection.prepare("SELECT min(update_time), max(update_time) FROM sessions")
            try statement.step()
            if !statement.isNull(at: 0) {
                oldest = try format.epoch(from: statement.value(at: 0), location: "sessions.update_time (minimum)")
                newest = try format.epoch(from: statement.value(at: 1), location: "sessions.update_time (maximum)")
            }
        }
        return StoreStats(
            layout: format.layout, sessions: try count("sessions"), events: try count("events"),
            appStates: try count("app_states"), userStates: try count("user_states"),
            oldestUpdateTime: oldest, newestUpdateTime: newest)
    }

    /// How many sessions `scope` holds (one `count(*)` of the sessions rows; exact for key and
    /// shard filters, slightly more for time bounds, which are widened by a millisecond).
    public func countSessions(_ scope: SessionScope) throws -> Int {
        guard hasTables else { return 0 }
        let condition = SQLiteScopeQuery(scope: scope, after: nil, format: format)
        let statement = try connection.prepare("SELECT count(*) FROM sessions" + condition.whereClause)
        try statement.bind(condition.values)
        try statement.step()
        return Int(statement.int64(at: 0))
    }

    // MARK: - Reading

    /// Streams all sessions in key order, `query.batchSize` sessions per page. `query.resumeAfter`
    /// is a keyset token (``ResumeToken``): the scan continues after that key.
    ///
    /// - Throws: ``ResumeTokenError`` for a token that is not a keyset token.
    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        let after = try query.resumeAfter.map { try ResumeToken.keysetKey(from: $0, store: "sqlite") }
        return KeysetSessionCursor(batchSize: query.batchSize, scope: query.scope, after: after, token: query.resumeAfter, skipBad: query.skipBad) {
            [self] after, limit, bad in try fetchPage(scope: query.scope, after: after, limit: limit, eventStyle: query.eventStyle, bad: &bad)
        }
    }

    /// The sessions among `keys` that exist, read in one read transaction.
    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        try fetchVersionedSessions(keys).mapValues(\.session)
    }

    /// The sessions among `keys` that exist, each with its `update_time` as stored (its
    /// ``DriverCore/StoredVersion``, see ``versionToken(_:)``), read in one read transaction.
    public func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        guard hasTables else { return [:] }
        return try connection.withReadTransaction {
            let sessionRow = try connection.prepare(
                "SELECT app_name, user_id, id, state, create_time, update_time FROM sessions WHERE app_name = ? AND user_id = ? AND id = ?")
            let eventRows = try connection.prepare(
                "SELECT \(eventSelectList) FROM events"
                    + " WHERE app_name = ? AND user_id = ? AND session_id = ? ORDER BY \(format.eventOrder)")
            var scopes = ScopeCache(tables: self)
            var found: [SessionKey: VersionedSession] = [:]
            for key in Set(keys) {
                let values: [SQLiteValue] = [.text(key.appName), .text(key.userId), .text(key.sessionId)]
                try sessionRow.reset()
                try sessionRow.bind(values)
                guard try sessionRow.step() else { continue }
                var session = try readSession(sessionRow)
                let version = Self.versionToken(sessionRow.value(at: 5))
                try eventRows.reset()
                try eventRows.bind(values)
                while try eventRows.step() {
                    if holds(eventRows, key) { session.events.append(try readEvent(eventRows, of: key, style: nil)) }
                }
                session.appState = try scopes.appState(key.appName)
                session.userState = try scopes.userState(key.appName, key.userId)
                found[key] = VersionedSession(session: session, version: StoredVersion(version))
            }
            return found
        }
    }

    /// A `sessions.update_time` value as a version token: the text as stored, a REAL as the
    /// shortest decimal that reads back as the same double, an integer in decimal.
    static func versionToken(_ value: SQLiteValue) -> String {
        switch value {
        case .text(let text): text
        case .float(let number): "\(number)"
        case .integer(let number): String(number)
        case .null: ""
        case .blob(let bytes): "x'" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "'"
        }
    }

    /// Up to `limit` whole sessions in `scope` (as far as SQL narrows it, see ``SQLiteScopeQuery``)
    /// whose keys follow `after`, in key order. A session with bad data is recorded in `bad` (or
    /// throws, see ``BadSessionLog``) and stays in the page, incomplete: the cursor passes over it.
    /// The page is read in one read transaction, so each session and its events are read as of
    /// one moment even while ADK writes the file.
    func fetchPage(scope: SessionScope, after: SessionKey?, limit: Int, eventStyle: JSONStyle? = nil, bad: inout BadSessionLog) throws -> [Session] {
        guard hasTables else { return [] }
        return try connection.withReadTransaction { try readPage(scope: scope, after: after, limit: limit, eventStyle: eventStyle, bad: &bad) }
    }

    private func readPage(scope: SessionScope, after: SessionKey?, limit: Int, eventStyle: JSONStyle?, bad: inout BadSessionLog) throws -> [Session] {
        let condition = SQLiteScopeQuery(scope: scope, after: after, format: format)
        let page = try connection.prepare(
            "SELECT app_name, user_id, id, state, create_time, update_time FROM sessions" + condition.whereClause
                + " ORDER BY app_name, user_id, id LIMIT \(max(1, limit))")
        try page.bind(condition.values)
        var sessions: [Session] = []
        while try page.step() {
            let key = try readKey(page, table: "sessions")
            do {
                sessions.append(try readSession(page))
            } catch {
                try bad.record(error, for: key)
                sessions.append(Session(key: key, lastUpdateTime: 0))
            }
        }
        guard !sessions.isEmpty else { return [] }
        // Each session's events by its key (ADK's primary key leads with it), not one range over the page:
        // a shard's page holds every Nth session, and a range read all the sessions' events between them;
        // sorting a whole page's events by time also copied every event_data into SQLite's sorter.
        let events = try connection.prepare(
            "SELECT \(eventSelectList) FROM events WHERE app_name = ?1 AND user_id = ?2 AND session_id = ?3 ORDER BY \(format.eventOrder)")
        for position in sessions.indices where !bad.isBad(sessions[position].key) {
            let key = sessions[position].key
            try events.reset()
            try events.bind([.text(key.appName), .text(key.userId), .text(key.sessionId)])
            do {
                while try events.step() {
                    if holds(events, key) { sessions[position].events.append(try readEvent(events, of: key, style: eventStyle)) }
                }
            } catch let error as SQLiteError {
                throw error
            } catch {
                try bad.record(error, for: key)
            }
        }
        var scopes = ScopeCache(tables: self)
        for position in sessions.indices {
            let key = sessions[position].key
            do {
                sessions[position].appState = try scopes.appState(key.appName)
                sessions[position].userState = try scopes.userState(key.appName, key.userId)
            } catch {
                try bad.record(error, for: key)
            }
        }
        return sessions
    }

    /// A session from a `sessions` row (columns app_name, user_id, id, state, create_time, update_time).
    private func readSession(_ row: SQLiteStatement) throws -> Session {
        let key = try readKey(row, table: "sessions")
        let location = RowName.session(key)
        let session = Session(
            key: key,
            state: try format.state(from: row.checkedValue(at: 3, location: location, column: "state"), location: location),
            createTime: try format.epoch(
                from: row.checkedValue(at: 4, location: location, column: "create_time"), location: location + " create_time"),
            lastUpdateTime: try format.epoch(
                from: row.checkedValue(at: 5, location: location, column: "update_time"), location: location + " update_time"))
        try StoredTime.check(createTime: session.createTime, lastUpdateTime: session.lastUpdateTime, store: "sqlite", location: location)
        return session
    }

    /// The columns `events` rows are selected with: the key, then the format's event columns.
    private var eventSelectList: String {
        (["app_name", "user_id", "session_id", "id"] + format.eventColumns).joined(separator: ", ")
    }

    /// Whether the `events` row's key columns hold `key`'s very bytes: a column declared with a
    /// collation other than BINARY could match another spelling of the key, whose events are its own.
    private func holds(_ row: SQLiteStatement, _ key: SessionKey) -> Bool {
        func column(_ index: Int32, is part: String) -> Bool {
            row.type(at: index) == .text && row.withTextBytes(at: index) { $0.elementsEqual(part.utf8) }
        }
        return column(0, is: key.appName) && column(1, is: key.userId) && column(2, is: key.sessionId)
    }

    /// The event of an `events` row of the session `key` (columns as ``eventSelectList``).
    private func readEvent(_ row: SQLiteStatement, of key: SessionKey, style: JSONStyle?) throws -> Event {
        guard row.type(at: 3) == .text else {
            throw SessionDataError(store: "sqlite", location: "events row of \(key)", message: "id is not text")
        }
        let id = row.text(at: 3)
        let location = { RowName.event(id, of: key) }  // built only for an error
        _ = try row.checkedValue(at: 3, location: location(), column: "id")
        let columns = format.eventColumns
        var values: [SQLiteValue] = []
        if let style, format.eventDataStyle != nil, columns.count == 3, row.type(at: 6) == .text {
            // `event_data` transcoded from SQLite's own bytes: no `String` of the column is made.
            values = try (0..<2).map { try row.checkedValue(at: 4 + Int32($0), location: location(), column: columns[$0]) }
            if let carried = row.withTextBytes(at: 6, { Event(transcoding: $0, from: .none, style: style) }),
                let event = try format.accepting(carried, id: id, values: values, location: location())
            {
                try StoredTime.check(event, store: "sqlite", location: location())
                return event
            }
        }
        values += try (values.count..<columns.count).map { try row.checkedValue(at: 4 + Int32($0), location: location(), column: columns[$0]) }
        let event = try format.event(id: id, values: values, location: location())
        try StoredTime.check(event, store: "sqlite", location: location())
        return event
    }

    /// Columns 0–2 as a key; every key column must be valid UTF-8 text.
    private func readKey(_ row: SQLiteStatement, table: String) throws -> SessionKey {
        var parts: [String] = []
        for column: Int32 in 0..<3 {
            guard row.type(at: column) == .text, let part = row.withTextBytes(at: column, { UTF8Text.decode($0) }) else {
                let shown = (0..<3).map { row.type(at: $0) == .text ? row.text(at: $0) : "<\(row.type(at: $0))>" }
                throw SessionDataError(
                    store: "sqlite", location: RowName.row(table, shown),
                    message: "key column \(column + 1) is not text or not valid UTF-8")
            }
            parts.append(part)
        }
        return SessionKey(appName: parts[0], userId: parts[1], sessionId: parts[2])
    }

    /// The stored app state (empty when there is no row).
    func readAppState(_ app: String) throws -> JSONObject? {
        let statement = try connection.prepare("SELECT state FROM app_states WHERE app_name = ?")
        try statement.bind(app, at: 1)
        guard try statement.step() else { return nil }
        let location = RowName.appState(app)
        return try format.state(from: statement.checkedValue(at: 0, location: location, column: "state"), location: location)
    }

    /// The stored user state (`nil` when there is no row).
    func readUserState(_ app: String, _ user: String) throws -> JSONObject? {
        let statement = try connection.prepare("SELECT state FROM user_states WHERE app_name = ? AND user_id = ?")
        try statement.bind([.text(app), .text(user)])
        guard try statement.step() else { return nil }
        let location = RowName.userState(app, user)
        return try format.state(from: statement.checkedValue(at: 0, location: location, column: "state"), location: location)
    }
}

/// App and user states read once per page or fetch.
private struct ScopeCache {
    let tables: SQLiteSessionTables
    var apps: [ExactString: JSONObject] = [:]
    var users: [SessionKey: JSONObject] = [:]

    init(tables: SQLiteSessionTables) { self.tables = tables }

    mutating func appState(_ app: String) throws -> JSONObject {
        if let cached = apps[ExactString(app)] { return cached }
        let state = try tables.readAppState(app) ?? [:]
        apps[ExactString(app)] = state
        return state
    }

    mutating func userState(_ app: String, _ user: String) throws -> JSONObject {
        let key = SessionKey(appName: app, userId: user, sessionId: "")
        if let cached = users[key] { return cached }
        let state = try tables.readUserState(app, user) ?? [:]
        users[key] = state
        return state
    }
}

@available(*, unavailable)
extension SQLiteSessionTables: Sendable {}

extension SQLiteStatement {
    /// Column `index` with its storage class; text that is not valid UTF-8 throws naming the row.
    func checkedValue(at index: Int32, location: @autoclosure () -> String, column: String) throws -> SQLiteValue {
        guard type(at: index) == .text else { return value(at: index) }
        return .text(try withTextBytes(at: index) { try UTF8Text.decode($0, store: "sqlite", location: location(), column: column) })
    }
}
