import DriverCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Creating the v1 schema safely (issue 13 item 3). MySQL DDL commits implicitly, so the five tables,
// the index and the `schema_version` row are seven separate commits: a creator killed between two of
// them leaves a half-made schema, and two creators at once race. Creation therefore runs under a named
// lock, creates only what is missing (`IF NOT EXISTS`, the index when absent) and completes a
// half-made schema as long as its tables hold no rows.
extension MySQLSchema {
    /// What a database holds of ADK's schema.
    enum Found {
        /// None of ADK's tables.
        case empty
        /// A known, complete schema.
        case complete(MySQLSchemaKind)
        /// `adk_internal_metadata` without its `schema_version` row and only v1 tables, all empty: a
        /// v1 creation that stopped (or is still running).
        case halfMade
    }

    /// Finds the schema as ADK does (§6) and checks its columns; refuses a half-made schema that
    /// holds rows.
    static func inspect(_ connection: MySQLConnection) throws -> Found {
        let columns = try tableColumns(connection)
        let tables = Set(columns.keys)
        var metadataVersion: String?
        if tables.contains("adk_internal_metadata") {
            let rows = try connection.query(
                "SELECT value FROM adk_internal_metadata WHERE `key` = 'schema_version'", buffered: true
            ).collect()
            metadataVersion = rows.first.flatMap { $0.first ?? nil }
            if metadataVersion == nil { return try halfMade(connection, columns) }
        }
        switch try DatabaseSchema.detectVersion(tables: tables, eventColumns: columns["events"] ?? [], metadataVersion: metadataVersion) {
        case nil:
            return .empty
        case "1"?:
            try requireColumns(columns, v1Columns, layout: "v1")
            return .complete(.v1)
        case "0"?:
            try requireColumns(columns, v0Columns, layout: "v0")
            return .complete(.v0)
        case let other?:
            throw DatabaseSchemaError(
                message: "mysql: adk_internal_metadata has schema_version '\(other)'; only '0' and '1' are known")
        }
    }

    /// `adk_internal_metadata` has no `schema_version` row: a half-made v1 schema if every ADK table
    /// present has v1's columns and no table holds a row; otherwise refused, naming what it holds.
    private static func halfMade(_ connection: MySQLConnection, _ columns: [String: Set<String>]) throws -> Found {
        let present = DatabaseSchema.tableNames.filter { columns[$0] != nil }
        let problem =
            "mysql: adk_internal_metadata has no schema_version row (a schema creation that stopped half-way"
            + " leaves this; tables present: \(present.joined(separator: ", ")))"
        for table in present {
            if let missing = v1Columns[table]?.first(where: { columns[table]?.contains($0) != true }) {
                throw DatabaseSchemaError(
                    message: "\(problem), but table '\(table)' has no column '\(missing)' of ADK's v1 schema; the database might be malformed")
            }
            if try !connection.query("SELECT 1 FROM `\(table)` LIMIT 1", buffered: true).collect().isEmpty {
                throw DatabaseSchemaError(
                    message: "\(problem), and table '\(table)' holds rows; sessmigrate completes a half-made schema only while"
                        + " its tables are empty. If these are ADK's v1 tables, add the row:"
                        + " INSERT INTO adk_internal_metadata (`key`, value) VALUES ('schema_version', '1')")
            }
        }
        return .halfMade
    }

    /// Creates whatever of the v1 schema is missing: the tables, the index, the `schema_version` row.
    /// Called under ``withSchemaLock(_:_:)`` after ``inspect(_:)`` found the database empty or half-made.
    static func create(_ connection: MySQLConnection) throws {
        var executed = 0
        func step(_ statement: String) throws {
            try connection.execute(statement)
            executed += 1
            SchemaCrashHook.afterStatement(executed)
        }
        for statement in v1Tables { try step(statement) }
        let index = try connection.query(
            "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events'"
                + " AND INDEX_NAME = '\(v1IndexName)' LIMIT 1", buffered: true
        ).collect()
        if index.isEmpty { try step(v1Index) }
        try step(v1VersionRow)
    }

    /// Runs `body` holding `GET_LOCK('sessmigrate:schema:<database>')` on `connection` (waiting up to
    /// 60 s for another creator), released afterwards; the server releases it if the process dies.
    static func withSchemaLock<R>(_ connection: MySQLConnection, _ body: () throws -> R) throws -> R {
        let name = "CONCAT('sessmigrate:schema:', DATABASE())"
        let granted = try connection.query("SELECT GET_LOCK(\(name), 60)", buffered: true).collect().first?.first ?? nil
        guard granted == "1" else {
            throw MySQLError(
                code: .timeout, message: "another process has been creating ADK's schema in this database for 60 s",
                context: "GET_LOCK sessmigrate:schema")
        }
        defer { _ = try? connection.query("SELECT RELEASE_LOCK(\(name))", buffered: true).collect() }
        return try body()
    }
}

/// Test-only crash point, set through the environment by the schema kill tests:
/// `SESSMIGRATE_TEST_KILL_AFTER_SCHEMA_STATEMENTS=N` kills the process with SIGKILL right after the
/// N-th statement of a schema creation committed. Unset in normal use.
enum SchemaCrashHook {
    static let afterStatements: Int? = getenv("SESSMIGRATE_TEST_KILL_AFTER_SCHEMA_STATEMENTS").flatMap { Int(String(cString: $0)) }

    static func afterStatement(_ count: Int) {
        if count == afterStatements { kill(getpid(), SIGKILL) }
    }
}
