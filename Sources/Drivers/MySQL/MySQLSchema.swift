import DriverCore

/// The DatabaseSessionService layout found in (or created in) a MySQL database.
enum MySQLSchemaKind: Sendable, Hashable {
    /// None of ADK's five tables exist (and the store was opened for reading).
    case empty
    /// Schema v1: JSON `event_data`.
    case v1
    /// Schema v0: pickled `actions` and one column per event field (ADK ≤ 1.21), see ``DatabaseV0Codec``.
    case v0

    var layout: StoreLayout {
        switch self {
        case .empty: StoreLayout(kind: "mysql", name: "empty", schemaVersion: nil)
        case .v1: StoreLayout(kind: "mysql", name: "database-v1", schemaVersion: "1")
        case .v0: StoreLayout(kind: "mysql", name: "database-v0", schemaVersion: "0")
        }
    }
}

/// Detection and creation of ADK's DatabaseSessionService tables (adk-data-model.md §3, §4, §6).
enum MySQLSchema {
    /// The v1 DDL exactly as SQLAlchemy emits it for MySQL in ADK 2.13.0 (no ENGINE or CHARSET
    /// clause: server defaults apply), plus the 2.10+ index and the metadata row.
    static let v1Statements = [
        """
        CREATE TABLE adk_internal_metadata (
          `key` VARCHAR(128) NOT NULL, value VARCHAR(256) NOT NULL, PRIMARY KEY (`key`))
        """,
        """
        CREATE TABLE app_states (
          app_name VARCHAR(128) NOT NULL, state LONGTEXT NOT NULL,
          update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name))
        """,
        """
        CREATE TABLE sessions (
          app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, id VARCHAR(128) NOT NULL,
          state LONGTEXT NOT NULL, create_time DATETIME(6) NOT NULL, update_time DATETIME(6) NOT NULL,
          PRIMARY KEY (app_name, user_id, id))
        """,
        """
        CREATE TABLE user_states (
          app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, state LONGTEXT NOT NULL,
          update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name, user_id))
        """,
        """
        CREATE TABLE events (
          id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL,
          session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL,
          timestamp DATETIME(6) NOT NULL, event_data LONGTEXT,
          PRIMARY KEY (id, app_name, user_id, session_id),
          FOREIGN KEY (app_name, user_id, session_id)
            REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE)
        """,
        """
        CREATE INDEX idx_events_app_user_session_ts_id
          ON events (app_name, user_id, session_id, timestamp DESC, id DESC)
        """,
        "INSERT INTO adk_internal_metadata (`key`, value) VALUES ('schema_version', '1')",
    ]

    /// Columns each layout needs; extra columns are ignored (ADK adds columns over time).
    static let v1Columns: [String: [String]] = [
        "sessions": ["app_name", "user_id", "id", "state", "create_time", "update_time"],
        "events": ["id", "app_name", "user_id", "session_id", "invocation_id", "timestamp", "event_data"],
        "app_states": ["app_name", "state", "update_time"],
        "user_states": ["app_name", "user_id", "state", "update_time"],
        "adk_internal_metadata": ["key", "value"],
    ]

    /// v0 differs from v1 only in `events` (22 columns; pre-v0 databases lack some optional ones).
    static let v0Columns: [String: [String]] = v1Columns.merging([
        "events": ["id", "app_name", "user_id", "session_id", "invocation_id", "author", "actions", "timestamp"],
    ]) { $1 }

    /// Finds the layout as ADK does (§6), checks the columns, and creates the v1 schema when the
    /// database holds none of ADK's tables and `forWriting` is set.
    static func prepare(_ connection: MySQLConnection, forWriting: Bool) throws -> MySQLSchemaKind {
        let columns = try tableColumns(connection)
        let tables = Set(columns.keys)
        var metadataVersion: String?
        if tables.contains("adk_internal_metadata") {
            let rows = try connection.query(
                "SELECT value FROM adk_internal_metadata WHERE `key` = 'schema_version'", buffered: true
            ).collect()
            metadataVersion = rows.first.flatMap { $0.first ?? nil }
        }
        let version = try DatabaseSchema.detectVersion(
            tables: tables, eventColumns: columns["events"] ?? [], metadataVersion: metadataVersion)
        switch version {
        case nil:
            guard forWriting else { return .empty }
            for statement in v1Statements { try connection.execute(statement) }
            return .v1
        case "1"?:
            try requireColumns(columns, v1Columns, layout: "v1")
            return .v1
        case "0"?:
            try requireColumns(columns, v0Columns, layout: "v0")
            return .v0
        case let other?:
            throw DatabaseSchemaError(
                message: "mysql: adk_internal_metadata has schema_version '\(other)'; only '0' and '1' are known")
        }
    }

    /// Column names of ADK's tables that exist in the current database.
    static func tableColumns(_ connection: MySQLConnection) throws -> [String: Set<String>] {
        let names = DatabaseSchema.tableNames.map { "'\($0)'" }.joined(separator: ", ")
        let result = try connection.query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (\(names))",
            buffered: true)
        var columns: [String: Set<String>] = [:]
        while let row = try result.next() {
            guard let table = row[0], let column = row[1] else { continue }
            columns[table, default: []].insert(column.lowercased())
        }
        return columns
    }

    /// Every table of the layout must exist (the metadata table is optional) with its columns.
    private static func requireColumns(
        _ found: [String: Set<String>], _ required: [String: [String]], layout: String
    ) throws {
        for table in ["sessions", "events", "app_states", "user_states", "adk_internal_metadata"] {
            guard let needed = required[table] else { continue }
            guard let present = found[table] else {
                if table == "adk_internal_metadata" { continue }
                throw DatabaseSchemaError(
                    message: "mysql: unknown schema: ADK \(layout) table '\(table)' is missing"
                        + " (found: \(found.keys.sorted().joined(separator: ", ")))")
            }
            if let missing = needed.first(where: { !present.contains($0) }) {
                throw DatabaseSchemaError(
                    message: "mysql: unknown schema: table '\(table)' has no column '\(missing)'"
                        + " required by ADK DatabaseSessionService \(layout)"
                        + " (columns: \(present.sorted().joined(separator: ", ")))")
            }
        }
    }
}
