import DriverCore
import SQLiteDriver
import SessionModel
import Snapshot
import Testing

/// DDL written out from the spec (docs/adk-data-model.md §3, §4, §13), not taken from the code under test.
enum SpecDDL {
    static let sqliteSessionService = """
        CREATE TABLE app_states (app_name TEXT PRIMARY KEY, state TEXT NOT NULL, update_time REAL NOT NULL);
        CREATE TABLE user_states (app_name TEXT NOT NULL, user_id TEXT NOT NULL, state TEXT NOT NULL,
          update_time REAL NOT NULL, PRIMARY KEY (app_name, user_id));
        CREATE TABLE sessions (app_name TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL,
          state TEXT NOT NULL, create_time REAL NOT NULL, update_time REAL NOT NULL, PRIMARY KEY (app_name, user_id, id));
        CREATE TABLE events (id TEXT NOT NULL, app_name TEXT NOT NULL, user_id TEXT NOT NULL,
          session_id TEXT NOT NULL, invocation_id TEXT NOT NULL, timestamp REAL NOT NULL, event_data TEXT NOT NULL,
          PRIMARY KEY (app_name, user_id, session_id, id),
          FOREIGN KEY (app_name, user_id, session_id) REFERENCES sessions(app_name, user_id, id) ON DELETE CASCADE);
        """

    static let sharedDatabaseTables = """
        CREATE TABLE app_states (app_name VARCHAR(128) NOT NULL, state TEXT NOT NULL,
          update_time DATETIME NOT NULL, PRIMARY KEY (app_name));
        CREATE TABLE sessions (app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, id VARCHAR(128) NOT NULL,
          state TEXT NOT NULL, create_time DATETIME NOT NULL, update_time DATETIME NOT NULL,
          PRIMARY KEY (app_name, user_id, id));
        CREATE TABLE user_states (app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, state TEXT NOT NULL,
          update_time DATETIME NOT NULL, PRIMARY KEY (app_name, user_id));
        """

    static let databaseV1Events = """
        CREATE TABLE events (id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL,
          session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL,
          timestamp DATETIME NOT NULL, event_data TEXT,
          PRIMARY KEY (id, app_name, user_id, session_id),
          FOREIGN KEY (app_name, user_id, session_id) REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE);
        CREATE INDEX idx_events_app_user_session_ts_id ON events (app_name, user_id, session_id, timestamp DESC, id DESC);
        """

    static let metadata = """
        CREATE TABLE adk_internal_metadata ("key" VARCHAR(128) NOT NULL, value VARCHAR(256) NOT NULL, PRIMARY KEY ("key"));
        """

    static let databaseV1 =
        metadata + "INSERT INTO adk_internal_metadata VALUES ('schema_version', '1');"
        + sharedDatabaseTables + databaseV1Events

    static let databaseV0 =
        sharedDatabaseTables + """
            CREATE TABLE events (id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL,
              session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL, author VARCHAR(256) NOT NULL,
              actions BLOB NOT NULL, long_running_tool_ids_json TEXT, branch VARCHAR(256), timestamp DATETIME NOT NULL,
              content TEXT, grounding_metadata TEXT, custom_metadata TEXT, usage_metadata TEXT, citation_metadata TEXT,
              partial BOOLEAN, turn_complete BOOLEAN, error_code VARCHAR(256), error_message TEXT, interrupted BOOLEAN,
              input_transcription TEXT, output_transcription TEXT,
              PRIMARY KEY (id, app_name, user_id, session_id),
              FOREIGN KEY (app_name, user_id, session_id) REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE);
            INSERT INTO sessions VALUES ('a', 'u', 's', '{}', '2024-01-01 00:00:00.000000', '2024-01-02 03:04:05.500000');
            INSERT INTO events (id, app_name, user_id, session_id, invocation_id, author, actions, timestamp)
              VALUES ('e', 'a', 'u', 's', 'i', 'user', x'80054e2e', '2024-01-02 03:04:05.500000');
            """
}

/// The error `body` throws, or `nil`. (Used instead of `#expect(throws:)`, see SQLiteConnectionTests.)
func thrownError<T>(_ body: () throws -> T) -> (any Error)? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite struct SQLiteLayoutTests {
    /// The layout detected in a file built from `sql`, or the error.
    func detect(_ sql: String) throws -> Result<SQLiteLayout, any Error> {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                if !sql.isEmpty { try db.execute(sql) }
                return Result { try SQLiteLayout.detect(db) }
            }
        }
    }

    @Test func detectsEachLayout() throws {
        #expect(try detect("").get() == .empty)
        #expect(try detect("CREATE TABLE unrelated (x)").get() == .empty)
        #expect(try detect(SpecDDL.sqliteSessionService).get() == .sqliteSessionService)
        #expect(try detect(SpecDDL.databaseV1).get() == .databaseV1)
        #expect(try detect(SpecDDL.sharedDatabaseTables + SpecDDL.databaseV1Events).get() == .databaseV1)
        #expect(try detect(SpecDDL.databaseV0).get() == .databaseV0)
        let v0WithMetadata = SpecDDL.metadata + "INSERT INTO adk_internal_metadata VALUES ('schema_version', '0');"
        #expect(try detect(v0WithMetadata + SpecDDL.databaseV0).get() == .databaseV0)
        // Unknown extra columns are ignored (docs/adk-data-model.md §15).
        #expect(try detect(SpecDDL.databaseV1 + "ALTER TABLE sessions ADD COLUMN title VARCHAR(256);").get() == .databaseV1)
    }

    @Test func metadataWithoutVersionRowIsMalformed() throws {
        let result = try detect(SpecDDL.metadata + SpecDDL.sharedDatabaseTables)
        let error = try #require(result.failure as? SessionDataError)
        #expect(error.code == .corrupt)
        #expect(error.location == "adk_internal_metadata")
    }

    @Test(arguments: [
        (SpecDDL.metadata + "INSERT INTO adk_internal_metadata VALUES ('schema_version', '2');", "'2'"),
        (
            "CREATE TABLE sessions (app_name TEXT, user_id TEXT, id TEXT, state TEXT, create_time TEXT, update_time TEXT)",
            "sessions.update_time"
        ),
        (
            "CREATE TABLE events (id TEXT, app_name TEXT, user_id TEXT, session_id TEXT, invocation_id TEXT, timestamp REAL)",
            "event_data"
        ),
        (SpecDDL.sqliteSessionService + "CREATE TABLE x (y); ALTER TABLE app_states RENAME COLUMN state TO s;", "app_states"),
    ])
    func unknownSchemasAreUnsupportedAndNamed(sql: String, named: String) throws {
        let error = try #require(try detect(sql).failure as? any DriverError)
        #expect(error.code == .unsupported)
        #expect(error.description.contains(named))
    }

    @Test func factoryOpensV0FilesForReadingAndWriting() throws {
        try withTemporaryPath { path in
            try withConnection(path) { try $0.execute(SpecDDL.databaseV0) }
            let store = try SQLiteSessionStore.open(path: path, forWriting: false)
            defer { try? store.close() }
            #expect(store.layout == StoreLayout(kind: "sqlite", name: "database-v0", schemaVersion: "0"))
            let stats = try store.fetchStats()
            #expect(stats.sessions == 1 && stats.events == 1)
            #expect(stats.newestUpdateTime == 1_704_164_645.5)
            // The pickled `None` reads as `EventActions()`, as ADK 2.13 reads a falsy `actions`.
            let session = try #require(try scanAll(store).first)
            #expect(
                session.events.map(\.data) == [
                    object(
                        #"{"invocation_id": "i", "author": "user", "actions": {"state_delta": {}, "artifact_delta": {}, "#
                            + #""requested_auth_configs": {}, "requested_tool_confirmations": {}}, "node_info": {"path": ""}, "#
                            + #""long_running_tool_ids": [], "id": "e", "timestamp": 1704164645.5}"#)
                ])
        }
    }

    @Test func databaseFileWithoutMetadataGetsTheRowOnWrite() throws {
        try withTemporaryPath { path in
            try withConnection(path) { try $0.execute(SpecDDL.sharedDatabaseTables + SpecDDL.databaseV1Events) }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                #expect(store.layout.name == "database-v1")
            }
            #expect(try withConnection(path) { try $0.tableNames() }.contains("adk_internal_metadata") == false)
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true)) { _ in }
            let version = try withConnection(path) { db in
                let statement = try db.prepare("SELECT value FROM adk_internal_metadata WHERE \"key\" = 'schema_version'")
                return try statement.step() ? statement.text(at: 0) : nil
            }
            #expect(version == "1")
        }
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
