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

/// Detection and creation of ADK's DatabaseSessionService tables (docs/adk-data-model.md §3, §4, §6).
enum MySQLSchema {
    /// The v1 tables as SQLAlchemy's DDL for MySQL in ADK 2.13.0 creates them (no ENGINE or CHARSET
    /// clause: server defaults apply), with `IF NOT EXISTS` so that completing a half-made schema
    /// (``MySQLSchema/create(_:)``) creates only what is missing; then the 2.10+ index
    /// (``v1Index``) and the metadata row (``v1VersionRow``). In that order: `adk_internal_metadata`
    /// comes first, so a creation stopped half-way always leaves it without its `schema_version` row.
    static let v1Tables = [
        """
        CREATE TABLE IF NOT EXISTS adk_internal_metadata (
          `key` VARCHAR(128) NOT NULL, value VARCHAR(256) NOT NULL, PRIMARY KEY (`key`))
        """,
        """
        CREATE TABLE IF NOT EXISTS app_states (
          app_name VARCHAR(128) NOT NULL, state LONGTEXT NOT NULL,
          update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name))
        """,
        """
        CREATE TABLE IF NOT EXISTS sessions (
          app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, id VARCHAR(128) NOT NULL,
          state LONGTEXT NOT NULL, create_time DATETIME(6) NOT NULL, update_time DATETIME(6) NOT NULL,
          PRIMARY KEY (app_name, user_id, id))
        """,
        """
        CREATE TABLE IF NOT EXISTS user_states (
          app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, state LONGTEXT NOT NULL,
          update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name, user_id))
        """,
        """
        CREATE TABLE IF NOT EXISTS events (
          id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL,
          session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL,
          timestamp DATETIME(6) NOT NULL, event_data LONGTEXT,
          PRIMARY KEY (id, app_name, user_id, session_id),
          FOREIGN KEY (app_name, user_id, session_id)
            REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE)
        """,
    ]

    /// The index ADK ≥ 2.10 adds (MySQL has no `CREATE INDEX IF NOT EXISTS`: created when missing).
    static let v1IndexName = "idx_events_app_user_session_ts_id"
    static let v1Index = """
        CREATE INDEX idx_events_app_user_session_ts_id
          ON events (app_name, user_id, session_id, timestamp DESC, id DESC)
        """
    static let v1VersionRow = "INSERT INTO adk_internal_metadata (`key`, value) VALUES ('schema_version', '1')"

    /// Every statement of a v1 schema creation, in order (seven: five tables, the index, the row).
    static var v1Statements: [String] { v1Tables + [v1Index, v1VersionRow] }

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
        "events": ["id", "app_name", "user_id", "session_id", "invocation_id", "author", "actions", "timestamp"]
    ]) { $1 }

    /// Finds the layout as ADK does (docs/adk-data-model.md §6), checks the columns, and creates the v1 schema when the
    /// database holds none of ADK's tables and `forWriting` is set.
    ///
    /// MySQL DDL commits implicitly, so a creation can stop half-way (a killed process) and two
    /// creators can meet. A half-made v1 schema (``Found/halfMade``: `adk_internal_metadata` without
    /// its `schema_version` row, every ADK table present having v1's columns) reads as empty while all
    /// its tables are empty, and a writer completes it; one holding rows is refused. Unless the schema
    /// is complete at the first look, the decision (and any creation) is made under the named lock
    /// `sessmigrate:schema:<database>`, looking again once it is held.
    static func prepare(_ connection: MySQLConnection, forWriting: Bool) throws -> MySQLSchemaKind {
        if case .complete(let kind)? = try? inspect(connection) { return kind }
        // Empty, half-made or refused: decided under the lock, so that a creator at work (whose tables and
        // row appear between this process's queries) is waited for instead of being taken for damage.
        return try withSchemaLock(connection) {
            switch try inspect(connection) {
            case .complete(let kind):
                return kind  // Another creator finished meanwhile.
            case .empty, .halfMade:
                guard forWriting else { return .empty }
                try create(connection)
                return .v1
            }
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
    static func requireColumns(
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
