import DriverCore

/// Which ADK session layout a SQLite file holds (docs/adk-data-model.md §3, §4, §6, §13).
public enum SQLiteLayout: Sendable, Hashable, CustomStringConvertible {
    /// No ADK table at all (a new or unrelated file).
    case empty
    /// ADK's `SqliteSessionService` (`sqlite:///` URIs, `.adk/session.db`): REAL epoch times,
    /// compact event JSON. Also sessmigrate's snapshot format.
    case sqliteSessionService
    /// `DatabaseSessionService` schema v1 on SQLite: DATETIME text, `json.dumps` event_data.
    case databaseV1
    /// `DatabaseSessionService` schema v0: pickled `actions` column.
    case databaseV0

    public var description: String {
        switch self {
        case .empty: "empty"
        case .sqliteSessionService: "sqlite-session-service"
        case .databaseV1: "database-v1"
        case .databaseV0: "database-v0"
        }
    }

    /// The ADK tables both session layouts share.
    static let sessionTables = ["sessions", "events", "app_states", "user_states"]

    /// Columns each layout needs, with the declared type where it tells the layouts apart.
    static func requiredColumns(_ layout: SQLiteLayout) -> [String: [String]] {
        switch layout {
        case .sqliteSessionService, .databaseV1:
            [
                "sessions": ["app_name", "user_id", "id", "state", "create_time", "update_time"],
                "events": ["id", "app_name", "user_id", "session_id", "invocation_id", "timestamp", "event_data"],
                "app_states": ["app_name", "state", "update_time"],
                "user_states": ["app_name", "user_id", "state", "update_time"],
            ]
        case .databaseV0:
            [
                "sessions": ["app_name", "user_id", "id", "state", "create_time", "update_time"],
                "events": DatabaseV0Codec.requiredEventColumns,
                "app_states": ["app_name", "state", "update_time"],
                "user_states": ["app_name", "user_id", "state", "update_time"],
            ]
        case .empty: [:]
        }
    }

    /// Detects the layout of the file behind `connection` as ADK would.
    ///
    /// `adk_internal_metadata` decides first (`"1"` → v1, `"0"` → v0, a missing row is malformed);
    /// then an `events` table with `actions` and without `event_data` is v0; otherwise the declared
    /// type of the time columns tells `SqliteSessionService` (`REAL`) from DatabaseSessionService v1
    /// (`DATETIME`, metadata row missing; added on write as ADK does). Extra columns are ignored.
    ///
    /// - Throws: ``DriverErrorCode/unsupported`` naming the table and column for any other schema,
    ///   ``DriverErrorCode/corrupt`` for a malformed metadata table.
    public static func detect(_ connection: SQLiteConnection) throws -> SQLiteLayout {
        let tables = Set(try connection.tableNames())
        var columns: [String: [(name: String, declaredType: String)]] = [:]
        for table in sessionTables where tables.contains(table) { columns[table] = try connection.columns(of: table) }
        let layout: SQLiteLayout
        if tables.contains("adk_internal_metadata") {
            layout = try metadataLayout(connection)
        } else if let events = columns["events"], events.contains(where: { $0.name == "actions" }),
            !events.contains(where: { $0.name == "event_data" })
        {
            layout = .databaseV0
        } else if columns.isEmpty {
            return .empty
        } else {
            layout = try timeTypeLayout(columns)
        }
        try validate(columns, for: layout)
        return layout
    }

    /// The layout `adk_internal_metadata` names.
    private static func metadataLayout(_ connection: SQLiteConnection) throws -> SQLiteLayout {
        let statement = try connection.prepare("SELECT value FROM adk_internal_metadata WHERE \"key\" = 'schema_version'")
        guard try statement.step() else {
            throw SessionDataError(
                store: "sqlite", location: "adk_internal_metadata",
                message: "no schema_version row; the database might be malformed")
        }
        guard statement.type(at: 0) == .text else {
            throw SessionDataError(store: "sqlite", location: "adk_internal_metadata", message: "schema_version is not text")
        }
        switch statement.text(at: 0) {
        case "1": return .databaseV1
        case "0": return .databaseV0
        case let other:
            throw SQLiteError(code: .unsupported, message: "adk_internal_metadata.schema_version '\(other)' is not supported")
        }
    }

    /// Tells the two JSON layouts apart by the declared type of their time columns.
    private static func timeTypeLayout(_ columns: [String: [(name: String, declaredType: String)]]) throws -> SQLiteLayout {
        let candidates = [("sessions", "update_time"), ("events", "timestamp"), ("app_states", "update_time"), ("user_states", "update_time")]
        for (table, column) in candidates {
            guard let declared = columns[table]?.first(where: { $0.name == column })?.declaredType else { continue }
            switch declared.uppercased() {
            case "REAL": return .sqliteSessionService
            case "DATETIME": return .databaseV1
            default:
                throw SQLiteError(
                    code: .unsupported,
                    message: "\(table).\(column) is declared '\(declared)', expected REAL (SqliteSessionService) or DATETIME (DatabaseSessionService)")
            }
        }
        let table = columns.keys.sorted().first ?? "sessions"
        throw SQLiteError(code: .unsupported, message: "table \(table) has none of the ADK time columns")
    }

    /// Every ADK table present must have the columns its layout reads and writes.
    private static func validate(_ columns: [String: [(name: String, declaredType: String)]], for layout: SQLiteLayout) throws {
        for (table, required) in requiredColumns(layout).sorted(by: { $0.key < $1.key }) {
            guard let present = columns[table] else { continue }
            let names = Set(present.map(\.name))
            if let missing = required.first(where: { !names.contains($0) }) {
                throw SQLiteError(code: .unsupported, message: "table \(table) has no column \(missing) (\(layout) layout expected)")
            }
        }
    }
}
