import DriverCore
import SessionModel

/// Where a MySQL/MariaDB (CloudSQL) session database is. `description` hides the password.
public struct MySQLStoreConfig: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// Host name or address (`localhost` or empty: the Unix socket).
    public var host: String
    /// TCP port.
    public var port: Int
    /// User name.
    public var user: String
    /// Password; never shown by `description` or `dump`.
    public var password: String
    /// Database (schema) holding ADK's tables.
    public var database: String
    /// Unix socket path (e.g. a CloudSQL proxy socket), used when `host` is `localhost` or empty.
    public var unixSocket: String?
    /// Seconds to wait for the connection.
    public var connectTimeout: Int
    /// TLS mode and files (default: TLS when the server offers it).
    public var tls: MySQLTLS

    public init(
        host: String, port: Int = 3306, user: String, password: String, database: String,
        unixSocket: String? = nil, connectTimeout: Int = 10, tls: MySQLTLS = MySQLTLS()
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.unixSocket = unixSocket
        self.connectTimeout = connectTimeout
        self.tls = tls
    }

    public var description: String { "mysql://\(user):***@\(host):\(port)/\(database)" }

    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "user": user, "password": "***", "database": database])
    }
}

/// ADK DatabaseSessionService tables (schema v1) in a MySQL or MariaDB database.
///
/// One connection; reads page through `sessions` by primary key (keyset pagination, bounded
/// pages with `mysql_store_result`), each page in one consistent snapshot; writes merge a batch's
/// app and user state in one transaction, then its sessions and events in another (see
/// docs/DESIGN.md "Fencing"). Sessions are scanned in
/// the database collation's order of `(app_name, user_id, id)`; events come back ordered by
/// `(timestamp, id)` as ADK ≥ 2.7 reads them.
///
/// A schema v0 database (ADK ≤ 1.21: pickled `actions`, one column per event field) is read and
/// written in place through ``DatabaseV0Codec``; only its `events` rows differ from v1. A new
/// database always gets schema v1.
public final class MySQLSessionStore: SessionStore {
    static let storeName = "mysql"

    let connection: MySQLConnection
    private(set) var schema: MySQLSchemaKind
    /// The `events` row mapping of a schema-v0 database (`nil` for v1).
    private(set) var v0: DatabaseV0Codec?
    private(set) var forWriting: Bool
    /// Largest statement this store builds (bounded by the server's `max_allowed_packet`).
    let statementLimit: Int
    /// The server's `max_allowed_packet` for this connection: no statement or row may be larger.
    let maxPacket: Int
    /// Opened for writing with an empty `sessions` table (MySQLSessionStore+Statistics.swift).
    var startedEmpty = false
    /// Sessions and events rows this store wrote.
    var rowsWritten = 0
    /// Test-only: runs in the sessions transaction of each write, right after its `sessions` rows
    /// are locked and before anything is written (`nil` in normal use).
    var afterSessionRowsLocked: (() throws -> Void)?
    /// Test-only: runs in the state transaction of each write, right after the rows of the table
    /// it names (`app_states`, `user_states`) are locked and before they are written.
    var afterStateRowsLocked: ((String) throws -> Void)?

    public var layout: StoreLayout { schema.layout }

    public var eventDataStyle: JSONStyle? { v0 == nil ? DatabaseV1Codec.eventDataStyle : nil }

    public var capabilities: StoreCapabilities {
        StoreCapabilities(keepsCreateTime: true, keepsExpiry: false, countsCheaply: true)
    }

    private init(
        connection: MySQLConnection, schema: MySQLSchemaKind, v0: DatabaseV0Codec?, forWriting: Bool, maxPacket: Int
    ) {
        self.connection = connection
        self.schema = schema
        self.v0 = v0
        self.forWriting = forWriting
        self.maxPacket = maxPacket
        self.statementLimit = max(64 << 10, min(4 << 20, maxPacket / 2))
    }

    deinit {
        assert(!connection.isOpen, "MySQLSessionStore was not closed before deinitializing")
        connection.close()
    }

    /// Connects and detects the layout as ADK does. With `forWriting`, a database holding none
    /// of ADK's tables gets the v1 schema (tables, index, `schema_version` row).
    ///
    /// - Throws: ``MySQLError`` for connection failures; a `DriverError` with code `.unsupported`
    ///   when ADK tables exist but match neither v1 nor v0, or the metadata is malformed.
    public static func open(_ config: MySQLStoreConfig, forWriting: Bool) throws -> MySQLSessionStore {
        let connection = try MySQLConnection.open(
            host: config.host, port: config.port, user: config.user, password: config.password,
            database: config.database, unixSocket: config.unixSocket, connectTimeout: config.connectTimeout, tls: config.tls)
        do {
            // Fail on over-long ids or bad values instead of truncating them silently.
            try connection.execute(
                "SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES',"
                    + " CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))")
            // Reads take one consistent snapshot per page: they rely on InnoDB's REPEATABLE READ,
            // whatever the server's default is. The write transactions alone run under READ
            // COMMITTED (no gap locks: MySQLSessionStore+Insert.swift).
            try connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            let packet = try connection.query("SELECT @@max_allowed_packet", buffered: true).collect()
            let maxPacket = packet.first.flatMap { $0.first ?? nil }.flatMap { Int($0) } ?? 4 << 20
            let schema = try MySQLSchema.prepare(connection, forWriting: forWriting)
            let v0 = schema == .v0 ? try MySQLSchema.v0Codec(connection) : nil
            let store = MySQLSessionStore(
                connection: connection, schema: schema, v0: v0, forWriting: forWriting, maxPacket: maxPacket)
            if forWriting { store.startedEmpty = try store.sessionsTableIsEmpty() }
            return store
        } catch {
            connection.close()
            throw error
        }
    }

    /// Makes a store opened for reading one opened for writing, on the same connection, as
    /// ``open(_:forWriting:)`` with `forWriting` would have opened it (an empty database gets the v1
    /// schema): a run that looked at its target first does not connect to it twice.
    public func upgradeForWriting() throws {
        guard !forWriting else { return }
        let prepared = try MySQLSchema.prepare(connection, forWriting: true)
        if prepared != schema {
            v0 = prepared == .v0 ? try MySQLSchema.v0Codec(connection) : nil
            schema = prepared
        }
        forWriting = true
        startedEmpty = try sessionsTableIsEmpty()
    }

    public func close() throws {
        refreshStatisticsAfterFillingEmptyTables()
        connection.close()
    }

    // MARK: - SessionStore

    public func fetchStats() throws -> StoreStats {
        guard schema != .empty else {
            return StoreStats(
                layout: layout, sessions: 0, events: 0, appStates: 0, userStates: 0,
                oldestUpdateTime: nil, newestUpdateTime: nil)
        }
        let rows = try connection.query(
            "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM events),"
                + " (SELECT COUNT(*) FROM app_states), (SELECT COUNT(*) FROM user_states),"
                // A zero date (a non-strict sql_mode stored it) is bad data of its session, not a time.
                + " (SELECT MIN(update_time) FROM sessions WHERE update_time >= '1000-01-01'),"
                + " (SELECT MAX(update_time) FROM sessions WHERE update_time >= '1000-01-01')",
            buffered: true
        ).collect()
        guard let row = rows.first, row.count == 6 else {
            throw MySQLError(code: .query, message: "statistics query returned no row", context: "SELECT COUNT(*)")
        }
        func count(_ index: Int) -> Int { row[index].flatMap { Int($0) } ?? 0 }
        func time(_ index: Int) throws -> Double? {
            try row[index].map {
                try DatabaseV1Codec.epoch(fromDatetime: $0, store: Self.storeName, location: "sessions.update_time")
            }
        }
        return StoreStats(
            layout: layout, sessions: count(0), events: count(1), appStates: count(2), userStates: count(3),
            oldestUpdateTime: try time(4), newestUpdateTime: try time(5))
    }

    /// Pages in primary key order; `query.resumeAfter` is a keyset token (``ResumeToken``) and
    /// the scan continues after that key with the pages' own keyset condition.
    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        let after = try query.resumeAfter.map { try ResumeToken.keysetKey(from: $0, store: Self.storeName) }
        return KeysetSessionCursor(
            batchSize: query.batchSize, scope: query.scope, after: after, token: query.resumeAfter, isEmpty: schema == .empty,
            skipBad: query.skipBad
        ) { [self] after, limit, bad in
            try loadPage(scope: query.scope, after: after, limit: limit, eventStyle: query.eventStyle, bad: &bad)
        }
    }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        guard schema != .empty, !keys.isEmpty else { return [:] }
        let wanted = Set(keys)
        var found: [SessionKey: Session] = [:]
        let unique = Array(wanted)
        for start in stride(from: 0, to: unique.count, by: 500) {
            let chunk = Array(unique[start..<min(start + 500, unique.count)])
            for (session, _) in try loadVersionedSessions(keys: chunk) where wanted.contains(session.key) {
                found[session.key] = session
            }
        }
        return found
    }

    public func writeSessions(_ sessions: [Session]) throws {
        guard forWriting else {
            throw MySQLError(code: .unsupported, message: "the store was opened for reading", context: "write")
        }
        guard !sessions.isEmpty else { return }
        _ = try write(sessions.map { MySQLSessionWrite(session: $0, fence: .none) })
    }

    /// Nothing for schema v1; for v0, the event fields its columns cannot hold
    /// (``DatabaseV0Codec/unrepresentableFields(in:)-(Session)``).
    public func unrepresentableFields(in session: Session) -> [String] {
        v0?.unrepresentableFields(in: session) ?? []
    }

    /// `session` as this store reads it back once written (itself for schema v1; for v0 see
    /// ``DatabaseV0Codec/readBack(_:)``), for comparing a source with what is stored.
    public func readBack(_ session: Session) throws -> Session {
        try v0?.readBack(session) ?? DatabaseV1Codec.ordered(session)
    }
}

@available(*, unavailable)
extension MySQLSessionStore: Sendable {}
