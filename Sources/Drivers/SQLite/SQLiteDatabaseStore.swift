import DriverCore
import SessionModel

/// ADK's DatabaseSessionService (schema v1) in a SQLite file, the layout ADK creates for
/// `sqlite+aiosqlite:///` database URLs (adk-data-model.md §3).
///
/// Events are read oldest first in `(timestamp, id)` order, as ADK ≥ 2.7 reads them. Schema v0
/// files (pickled `actions`) are recognised: ``fetchStats()`` works, everything else throws
/// ``DriverErrorCode/unsupported``.
public final class SQLiteDatabaseStore: SessionStore {
    private let tables: SQLiteSessionTables
    private let isV0: Bool
    private var closed = false

    /// Wraps an open connection whose file was detected as `detected` (`.databaseV1`,
    /// `.databaseV0`, or `.empty` for a file that will receive the v1 tables). The store owns
    /// the connection once this returns (if it throws, the caller still does). When `forWriting`, missing v1 tables, index and metadata row
    /// are created at once, as ADK's `prepare_tables` does.
    public init(connection: SQLiteConnection, detected: SQLiteLayout, forWriting: Bool) throws {
        switch detected {
        case .databaseV1, .empty: isV0 = false
        case .databaseV0: isV0 = true
        case .sqliteSessionService:
            throw SQLiteError(code: .unsupported, message: "\(connection.path) holds the SqliteSessionService layout, not DatabaseSessionService")
        }
        let format = SQLiteDatabaseFormat(schemaVersion: isV0 ? "0" : "1")
        let tables = SQLiteSessionTables(connection: connection, format: format, hasTables: detected != .empty)
        if forWriting, !isV0 { try tables.prepareTables() }
        self.tables = tables
    }

    /// Opens `path` as a DatabaseSessionService file.
    ///
    /// - Parameters:
    ///   - forWriting: open read-write (creating the file when `createLayout` is true); otherwise
    ///     read-only, and a missing file is ``DriverErrorCode/notFound``.
    ///   - createLayout: create the v1 tables in a new or empty file.
    public static func open(path: String, forWriting: Bool, createLayout: Bool) throws -> SQLiteDatabaseStore {
        let connection = try SQLiteConnection.open(path: path, mode: forWriting ? (createLayout ? .create : .readWrite) : .readOnly)
        do {
            let detected = try SQLiteLayout.detect(connection)
            if detected == .empty, forWriting, !createLayout {
                throw SQLiteError(code: .notFound, message: "\(path) has no DatabaseSessionService tables")
            }
            return try SQLiteDatabaseStore(connection: connection, detected: detected, forWriting: forWriting)
        } catch {
            try? connection.close()  // The detection error is the one to report.
            throw error
        }
    }

    public var layout: StoreLayout { tables.format.layout }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: false) }

    public func fetchStats() throws -> StoreStats {
        try tables.fetchStats()
    }

    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        try refuseV0()
        return tables.scanSessions(query)
    }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        try refuseV0()
        return try tables.fetchSessions(keys)
    }

    public func writeSessions(_ sessions: [Session]) throws {
        try refuseV0()
        try tables.writeSessions(sessions)
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        try tables.connection.close()
    }

    deinit {
        assert(closed, "SQLiteDatabaseStore was not closed before deinitializing")
        if !closed { try? tables.connection.close() }
    }

    private func refuseV0() throws {
        if isV0 { throw SQLiteError(code: .unsupported, message: "schema v0 (pickled actions) not supported yet") }
    }
}

@available(*, unavailable)
extension SQLiteDatabaseStore: Sendable {}
