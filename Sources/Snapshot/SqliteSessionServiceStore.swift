import DriverCore
import SQLiteDriver
import SessionModel

/// A SQLite file in ADK's SqliteSessionService layout: what ADK opens for `sqlite:///path`
/// session URIs and for `.adk/session.db`, and what sessmigrate writes as a snapshot
/// (adk-data-model.md §13).
///
/// Sessions are scanned in `(app_name, user_id, id)` order; each session's events come oldest
/// first in `(timestamp, rowid)` order, as ADK reads them.
public final class SqliteSessionServiceStore: SessionStore {
    private let tables: SQLiteSessionTables
    private var closed = false

    /// Wraps an open connection whose file was detected as `.sqliteSessionService` or `.empty`.
    /// The store owns the connection once this returns (if it throws, the caller still does).
    /// When `forWriting`, the four tables are created if missing, as ADK does on connecting.
    public init(connection: SQLiteConnection, detected: SQLiteLayout, forWriting: Bool) throws {
        guard detected == .sqliteSessionService || detected == .empty else {
            throw SQLiteError(code: .unsupported, message: "\(connection.path) holds the \(detected) layout, not SqliteSessionService")
        }
        let tables = SQLiteSessionTables(connection: connection, format: SqliteSessionServiceFormat(), hasTables: detected != .empty)
        if forWriting { try tables.prepareTables() }
        self.tables = tables
    }

    /// Opens `path` as a SqliteSessionService file.
    ///
    /// - Parameters:
    ///   - forWriting: open read-write (creating the file when `createLayout` is true); otherwise
    ///     read-only, and a missing file is ``DriverErrorCode/notFound``.
    ///   - createLayout: create the tables in a new or empty file.
    public static func open(path: String, forWriting: Bool, createLayout: Bool) throws -> SqliteSessionServiceStore {
        let connection = try SQLiteConnection.open(path: path, mode: forWriting ? (createLayout ? .create : .readWrite) : .readOnly)
        do {
            let detected = try SQLiteLayout.detect(connection)
            if detected == .empty, forWriting, !createLayout {
                throw SQLiteError(code: .notFound, message: "\(path) has no SqliteSessionService tables")
            }
            return try SqliteSessionServiceStore(connection: connection, detected: detected, forWriting: forWriting)
        } catch {
            try? connection.close()  // The detection error is the one to report.
            throw error
        }
    }

    public var layout: StoreLayout { tables.format.layout }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: false, countsCheaply: true) }

    public func fetchStats() throws -> StoreStats { try tables.fetchStats() }

    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor { try tables.scanSessions(query) }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] { try tables.fetchSessions(keys) }

    public func writeSessions(_ sessions: [Session]) throws { try tables.writeSessions(sessions) }

    public func deleteSessions(_ keys: [SessionKey]) throws { try tables.deleteSessions(keys) }

    /// `session` with its events in the order this layout reads them back: by timestamp, ties in
    /// the order written (`ORDER BY timestamp, rowid`).
    public func readBack(_ session: Session) throws -> Session {
        var copy = session
        copy.events = session.events.enumerated().sorted { a, b in
            a.element.timestamp != b.element.timestamp ? a.element.timestamp < b.element.timestamp : a.offset < b.offset
        }.map(\.element)
        return copy
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        try tables.connection.close()
    }

    deinit {
        assert(closed, "SqliteSessionServiceStore was not closed before deinitializing")
        if !closed { try? tables.connection.close() }
    }
}

@available(*, unavailable)
extension SqliteSessionServiceStore: Sendable {}
