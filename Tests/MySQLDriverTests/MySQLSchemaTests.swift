import DriverCore
import SessionModel
import Testing

@testable import MySQLDriver

@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLSchemaTests {
    /// `information_schema` view of the DDL ADK 2.13.0 emits for MySQL (docs/adk-data-model.md §3).
    static let expectedColumns: [String: [[String]]] = [
        "adk_internal_metadata": [["key", "varchar(128)", "NO"], ["value", "varchar(256)", "NO"]],
        "app_states": [
            ["app_name", "varchar(128)", "NO"], ["state", "longtext", "NO"], ["update_time", "datetime(6)", "NO"],
        ],
        "sessions": [
            ["app_name", "varchar(128)", "NO"], ["user_id", "varchar(128)", "NO"], ["id", "varchar(128)", "NO"],
            ["state", "longtext", "NO"], ["create_time", "datetime(6)", "NO"], ["update_time", "datetime(6)", "NO"],
        ],
        "user_states": [
            ["app_name", "varchar(128)", "NO"], ["user_id", "varchar(128)", "NO"], ["state", "longtext", "NO"],
            ["update_time", "datetime(6)", "NO"],
        ],
        "events": [
            ["id", "varchar(128)", "NO"], ["app_name", "varchar(128)", "NO"], ["user_id", "varchar(128)", "NO"],
            ["session_id", "varchar(128)", "NO"], ["invocation_id", "varchar(256)", "NO"],
            ["timestamp", "datetime(6)", "NO"], ["event_data", "longtext", "YES"],
        ],
    ]

    @Test func emptyDatabaseGetsADKsV1Schema() throws {
        try MySQLTestServer.withDatabase("ddl") { config, connection throws in
            // Opened for reading, an empty database stays empty.
            try MySQLTestServer.withStore(config, forWriting: false) { store throws in
                #expect(store.layout == StoreLayout(kind: "mysql", name: "empty", schemaVersion: nil))
                #expect(try MySQLTestServer.all(store).isEmpty)
                #expect(try store.fetchSessions([SessionKey(appName: "a", userId: "u", sessionId: "s")]).isEmpty)
                #expect(try store.fetchStats().sessions == 0)
            }
            #expect(try connection.query("SHOW TABLES").collect().isEmpty)

            try MySQLTestServer.withStore(config) { store throws in
                #expect(store.layout == StoreLayout(kind: "mysql", name: "database-v1", schemaVersion: "1"))
            }
            for (table, expected) in Self.expectedColumns {
                let columns = try connection.query(
                    "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS"
                        + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '\(table)' ORDER BY ORDINAL_POSITION"
                ).collect()
                #expect(columns == expected.map { $0.map(Optional.some) }, "\(table)")
            }
            let keys = try connection.query(
                "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX)"
                    + " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"
                    + " GROUP BY TABLE_NAME, INDEX_NAME"
            ).collect()
            #expect(
                Set(keys) == [
                    ["adk_internal_metadata", "PRIMARY", "key"], ["app_states", "PRIMARY", "app_name"],
                    ["events", "PRIMARY", "id,app_name,user_id,session_id"],
                    ["events", "idx_events_app_user_session_ts_id", "app_name,user_id,session_id,timestamp,id"],
                    ["sessions", "PRIMARY", "app_name,user_id,id"], ["user_states", "PRIMARY", "app_name,user_id"],
                ])
            let createEvents = try #require(try connection.query("SHOW CREATE TABLE events").collect().first?[1] ?? nil)
            #expect(createEvents.contains("FOREIGN KEY (`app_name`, `user_id`, `session_id`) REFERENCES `sessions`"))
            #expect(createEvents.contains("ON DELETE CASCADE"))
            #expect(createEvents.contains("`timestamp` DESC,`id` DESC"))
            #expect(try connection.query("SELECT * FROM adk_internal_metadata").collect() == [["schema_version", "1"]])

            // Opening again detects v1 and changes nothing.
            let before = try MySQLTestServer.dump(connection)
            try MySQLTestServer.withStore(config) { #expect($0.layout.name == "database-v1") }
            #expect(try MySQLTestServer.dump(connection) == before)
        }
    }

    @Test func v0DatabaseIsDetectedCountedAndRead() throws {
        try MySQLTestServer.withDatabase("v0") { config, connection throws in
            for statement in MySQLSchema.v1Statements
            where statement.contains("EXISTS sessions")
                || statement.contains("EXISTS app_states") || statement.contains("EXISTS user_states")
            {
                try connection.execute(statement)
            }
            try connection.execute(
                """
                CREATE TABLE events (id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL,
                  user_id VARCHAR(128) NOT NULL, session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL,
                  author VARCHAR(256) NOT NULL, actions LONGBLOB NOT NULL, long_running_tool_ids_json TEXT,
                  branch VARCHAR(256), timestamp DATETIME(6) NOT NULL, content LONGTEXT, grounding_metadata LONGTEXT,
                  custom_metadata LONGTEXT, usage_metadata LONGTEXT, citation_metadata LONGTEXT, partial BOOL,
                  turn_complete BOOL, error_code VARCHAR(256), error_message TEXT, interrupted BOOL,
                  input_transcription LONGTEXT, output_transcription LONGTEXT,
                  PRIMARY KEY (id, app_name, user_id, session_id),
                  FOREIGN KEY (app_name, user_id, session_id)
                    REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE)
                """)
            try connection.execute(
                "INSERT INTO sessions VALUES ('a', 'u', 's', '{}', '2024-01-01 00:00:00', '2024-01-02 00:00:00.5')")
            try connection.execute(
                "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, author, actions, timestamp)"
                    + " VALUES ('e', 'a', 'u', 's', 'i', 'user', x'80054e2e', '2024-01-02 00:00:00.5')")
            try MySQLTestServer.withStore(config) { store throws in
                #expect(store.layout == StoreLayout(kind: "mysql", name: "database-v0", schemaVersion: "0"))
                let stats = try store.fetchStats()
                #expect(stats.sessions == 1 && stats.events == 1 && stats.appStates == 0)
                #expect(stats.newestUpdateTime == 1_704_153_600.5)
                // The pickled `None` reads as `EventActions()`, as ADK 2.13 reads a falsy `actions`.
                let session = try #require(try MySQLTestServer.all(store).first)
                #expect(
                    session.events.map(\.data) == [
                        try Fixture.object(
                            #"{"invocation_id": "i", "author": "user", "actions": {"state_delta": {}, "artifact_delta": {}, "#
                                + #""requested_auth_configs": {}, "requested_tool_confirmations": {}}, "node_info": {"path": ""}, "#
                                + #""long_running_tool_ids": [], "id": "e", "timestamp": 1704153600.5}"#)
                    ])
            }
            #expect(try connection.query("SHOW TABLES LIKE 'adk_internal_metadata'").collect().isEmpty)
        }
    }

    @Test func foreignSessionsTableIsUnsupported() throws {
        try MySQLTestServer.withDatabase("foreign") { config, connection throws in
            try connection.execute("CREATE TABLE sessions (id INT PRIMARY KEY, payload TEXT)")
            for forWriting in [false, true] {
                let error = try #require(throws: DatabaseSchemaError.self) {
                    try MySQLSessionStore.open(config, forWriting: forWriting)
                }
                #expect(error.code == .unsupported)
                #expect(String(describing: error).contains("'sessions'"))
            }
            #expect(try connection.query("SHOW TABLES").collect() == [["sessions"]])
        }
    }

    /// Metadata without a `schema_version` row but with other rows is not a half-made schema of ours
    /// (MySQLSchemaCreationTests covers those): refused, as is an unknown version.
    @Test func badMetadataIsUnsupported() throws {
        try MySQLTestServer.withDatabase("meta") { config, connection throws in
            try connection.execute(MySQLSchema.v1Statements[0])
            try connection.execute("INSERT INTO adk_internal_metadata VALUES ('other', 'x')")
            let malformed = try #require(throws: DatabaseSchemaError.self) {
                try MySQLSessionStore.open(config, forWriting: true)
            }
            #expect(malformed.code == .unsupported)
            #expect(String(describing: malformed).contains("no schema_version row"))
            try connection.execute("DELETE FROM adk_internal_metadata")

            try connection.execute("INSERT INTO adk_internal_metadata VALUES ('schema_version', '7')")
            let unknown = try #require(throws: DatabaseSchemaError.self) {
                try MySQLSessionStore.open(config, forWriting: true)
            }
            #expect(unknown.code == .unsupported)
            #expect(String(describing: unknown).contains("'7'"))
        }
    }
}
