import DriverCore
import SessionModel

/// ADK's DatabaseSessionService in a SQLite file, the layout ADK creates for
/// `sqlite+aiosqlite:///` database URLs (adk-data-model.md §3, §4).
///
/// Events are read oldest first in `(timestamp, id)` order, as ADK ≥ 2.7 reads them. Schema v1
/// files use ``SQLiteDatabaseFormat``; schema v0 files (ADK ≤ 1.21: pickled `actions`, one column
/// per event field, possibly fewer columns in pre-1.19 files) are read and written in place with
/// ``SQLiteDatabaseV0Format``. New files always get schema v1.
public final class SQLiteDatabaseStore: SessionStore {
    private let tables: SQLiteSessionTables
    /// The v0 format when the file holds schema v0.
    private let v0: SQLiteDatabaseV0Format?
    private var closed = false

    /// Wraps an open connection whose file was detected as `detected` (`.databaseV1`,
    /// `.databaseV0`, or `.empty` for a file that will receive the v1 tables). The store owns
    /// the connection once this returns (if it throws, the caller still does). When `forWriting`, missing v1 tables, index and metadata row
    /// are created at once, as ADK's `prepare_tables` does.
    public init(connection: SQLiteConnection, detected: SQLiteLayout, forWriting: Bool) throws {
        let format: any SQLiteSessionFormat
        switch detected {
        case .databaseV1, .empty:
            v0 = nil
            format = SQLiteDatabaseFormat(schemaVersion: "1")
        case .databaseV0:
            let v0 = try SQLiteDatabaseV0Format(eventColumns: try connection.columns(of: "events").map(\.name))
            self.v0 = v0
            format = v0
        case .sqliteSessionService:
            throw SQLiteError(code: .unsupported, message: "\(connection.path) holds the SqliteSessionService layout, not DatabaseSessionService")
        }
        let tables = SQLiteSessionTables(connection: connection, format: format, hasTables: detected != .empty)
        if forWriting, v0 == nil { try tables.prepareTables() }
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

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: false, countsCheaply: true) }

    public func fetchStats() throws -> StoreStats {
        try tables.fetchStats()
    }

    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        try tables.scanSessions(query)
    }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        try tables.fetchSessions(keys)
    }

    public func deleteSessions(_ keys: [SessionKey]) throws { try tables.deleteSessions(keys) }

    public func writeSessions(_ sessions: [Session]) throws {
        try tables.writeSessions(sessions)
    }

    /// Nothing for schema v1; for v0, the event fields its columns cannot hold.
    public func unrepresentableFields(in session: Session) -> [String] {
        v0?.unrepresentableFields(in: session) ?? []
    }

    /// `session` as this store reads it back once written (itself for schema v1; for v0 see
    /// ``DatabaseV0Codec/readBack(_:)``), for comparing a source with what is stored.
    public func readBack(_ session: Session) throws -> Session {
        try v0?.codec.readBack(session) ?? DatabaseV1Codec.ordered(session)
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
}

@available(*, unavailable)
extension SQLiteDatabaseStore: Sendable {}
