import DriverCore
import SessionModel

/// ADK sessions in a SQLite file, in either of ADK's SQLite layouts: one store, one connection per
/// file, and a ``SQLiteSessionStore/Format`` that says how the four tables are encoded.
///
/// - ``Format/sessionService``: ADK's SqliteSessionService (`sqlite:///path`, `.adk/session.db`;
///   docs/adk-data-model.md §13), also sessmigrate's snapshot layout. Events are read in
///   `(timestamp, rowid)` order, as ADK reads them.
/// - ``Format/database(_:)``: ADK's DatabaseSessionService on SQLite (`sqlite+aiosqlite:///`; §3,
///   §4). Events are read in `(timestamp, id)` order, as ADK ≥ 2.7 reads them. Schema v1 files use
///   ``SQLiteDatabaseFormat``; schema v0 files (ADK ≤ 1.21: pickled `actions`, one column per event
///   field, possibly fewer columns in pre-1.19 files) are read and written in place with
///   ``SQLiteDatabaseV0Format``. New files get schema v1.
///
/// Sessions are scanned in `(app_name, user_id, id)` order. Not `Sendable`: use a store from one thread.
public final class SQLiteSessionStore: SessionStore {
    /// How a file's tables are encoded.
    public enum Format {
        case sessionService
        /// DatabaseSessionService; the v0 format when the file holds schema v0.
        case database(v0: SQLiteDatabaseV0Format?)
    }

    /// The layout a new or empty file receives when opened for writing.
    public enum NewFileLayout: Sendable, Hashable {
        /// ADK's SqliteSessionService layout (the default, and the snapshot format).
        case sqliteSessionService
        /// DatabaseSessionService schema v1.
        case databaseV1
    }

    public let format: Format
    let tables: SQLiteSessionTables
    private var closed = false

    /// Wraps an open connection whose file was detected as `detected` (`.empty` receives
    /// `newFileLayout`). The store owns the connection once this returns (if it throws, the caller
    /// still does). When `forWriting`, missing tables (and for DatabaseSessionService the index and
    /// metadata row) are created at once, as ADK does on connecting.
    public init(connection: SQLiteConnection, detected: SQLiteLayout, forWriting: Bool, newFileLayout: NewFileLayout = .sqliteSessionService) throws {
        let encoding: any SQLiteSessionFormat
        switch detected {
        case .sqliteSessionService,
            .empty where newFileLayout == .sqliteSessionService:
            format = .sessionService
            encoding = SqliteSessionServiceFormat()
        case .databaseV0:
            let v0 = try SQLiteDatabaseV0Format(eventColumns: try connection.columns(of: "events").map(\.name))
            format = .database(v0: v0)
            encoding = v0
        default:
            format = .database(v0: nil)
            encoding = SQLiteDatabaseFormat(schemaVersion: "1")
        }
        let tables = SQLiteSessionTables(connection: connection, format: encoding, hasTables: detected != .empty)
        if forWriting, detected != .databaseV0 { try tables.prepareTables() }
        self.tables = tables
    }

    /// Opens `path`, detects its layout and returns the store for it.
    ///
    /// An existing ADK layout always wins over `newFileLayout`, which only decides what a new or
    /// empty file becomes. Reading never creates a file: a missing file is
    /// ``DriverErrorCode/notFound``, and an empty one reads as no sessions.
    ///
    /// - Parameter requiring: refuse a file in another layout (``DriverErrorCode/unsupported``), and a
    ///   file without the layout's tables when writing without creating (`createLayout` false).
    /// - Throws: ``DriverErrorCode/notFound``, ``DriverErrorCode/corrupt`` for a file that is not
    ///   SQLite, ``DriverErrorCode/unsupported`` for a schema this tool does not know.
    public static func open(
        path: String, forWriting: Bool, newFileLayout: NewFileLayout = .sqliteSessionService, createLayout: Bool = true,
        requiring required: NewFileLayout? = nil
    ) throws -> SQLiteSessionStore {
        let connection = try SQLiteConnection.open(path: path, mode: forWriting ? (createLayout ? .create : .readWrite) : .readOnly)
        do {
            let detected = try SQLiteLayout.detect(connection)
            if let required {
                let matches = detected == .empty || (required == .sqliteSessionService) == (detected == .sqliteSessionService)
                guard matches else { throw SQLiteError(code: .unsupported, message: "\(path) holds the \(detected) layout, not \(required)") }
                if detected == .empty, forWriting, !createLayout {
                    throw SQLiteError(code: .notFound, message: "\(path) has no \(required) tables")
                }
            }
            return try SQLiteSessionStore(connection: connection, detected: detected, forWriting: forWriting, newFileLayout: required ?? newFileLayout)
        } catch {
            try? connection.close()  // The detection error is the one to report.
            throw error
        }
    }

    public var layout: StoreLayout { tables.format.layout }

    public var eventDataStyle: JSONStyle? { tables.format.eventDataStyle }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: false, countsCheaply: true) }

    public func fetchStats() throws -> StoreStats { try tables.fetchStats() }

    public func countSessions(_ scope: SessionScope) throws -> Int? { try tables.countSessions(scope) }

    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor { try tables.scanSessions(query) }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] { try tables.fetchSessions(keys) }

    public func writeSessions(_ sessions: [Session]) throws { try tables.writeSessions(sessions) }

    /// The sessions among `keys` that exist, with their `update_time` as stored (read in one
    /// read transaction).
    public func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        try tables.fetchVersionedSessions(keys)
    }

    /// Writes each session only if its stored `update_time` is still the expected one; see
    /// ``SQLiteSessionTables/writeSessions(fenced:)``.
    public func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> { try tables.writeSessions(fenced: writes) }

    public func deleteSessions(_ keys: [SessionKey]) throws { try tables.deleteSessions(keys) }

    // Group commits (DriverCore.WriteGroupState): a commit syncs the file, so a copy commits batches together.
    public func beginWriteGroups(seconds: Double) { tables.connection.beginGroups(seconds: seconds) }
    public var openWriteGroup: Int? { tables.connection.openGroup }
    public var writeGroupLosses: Int { tables.connection.groupLosses }
    public func state(ofWriteGroup group: Int) -> WriteGroupState { tables.connection.state(ofGroup: group) }
    public func commitWriteGroup() throws { try tables.connection.commitGroup() }

    /// The event fields a schema-v0 file cannot hold; nothing for the other formats.
    public func unrepresentableFields(in session: Session) -> [String] {
        if case .database(let v0?) = format { return v0.unrepresentableFields(in: session) }
        return []
    }

    /// `session` as this store reads it back once written: events in the layout's read order (for
    /// SqliteSessionService ties keep the order written, `ORDER BY timestamp, rowid`); for v0 see
    /// ``DatabaseV0Codec/readBack(_:)``.
    public func readBack(_ session: Session) throws -> Session {
        switch format {
        case .database(let v0?): return try v0.codec.readBack(session)
        case .database(nil): return DatabaseV1Codec.ordered(session)
        case .sessionService:
            var copy = session
            copy.events = session.events.enumerated().sorted { a, b in
                a.element.timestamp != b.element.timestamp ? a.element.timestamp < b.element.timestamp : a.offset < b.offset
            }.map(\.element)
            return copy
        }
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        try tables.connection.close()
    }

    deinit {
        assert(closed, "SQLiteSessionStore was not closed before deinitializing")
        if !closed { try? tables.connection.close() }
    }
}

@available(*, unavailable)
extension SQLiteSessionStore: Sendable {}
