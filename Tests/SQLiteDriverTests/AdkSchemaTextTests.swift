import SQLiteDriver
import Snapshot
import Testing

/// `sqlite_master.sql` of files created by google-adk 2.13.0 (DatabaseSessionService with
/// `sqlite+aiosqlite`, and SqliteSessionService), read back from real files with Python.
enum AdkSchemaText {
    static let databaseV1: [String: String] = [
        "adk_internal_metadata":
            "CREATE TABLE adk_internal_metadata (\n\t\"key\" VARCHAR(128) NOT NULL, \n\tvalue VARCHAR(256) NOT NULL, \n\tPRIMARY KEY (\"key\")\n)",
        "sessions":
            "CREATE TABLE sessions (\n\tapp_name VARCHAR(128) NOT NULL, \n\tuser_id VARCHAR(128) NOT NULL, \n\tid VARCHAR(128) NOT NULL, \n\tstate TEXT NOT NULL, \n\tcreate_time DATETIME NOT NULL, \n\tupdate_time DATETIME NOT NULL, \n\tPRIMARY KEY (app_name, user_id, id)\n)",
        "app_states":
            "CREATE TABLE app_states (\n\tapp_name VARCHAR(128) NOT NULL, \n\tstate TEXT NOT NULL, \n\tupdate_time DATETIME NOT NULL, \n\tPRIMARY KEY (app_name)\n)",
        "user_states":
            "CREATE TABLE user_states (\n\tapp_name VARCHAR(128) NOT NULL, \n\tuser_id VARCHAR(128) NOT NULL, \n\tstate TEXT NOT NULL, \n\tupdate_time DATETIME NOT NULL, \n\tPRIMARY KEY (app_name, user_id)\n)",
        "events":
            "CREATE TABLE events (\n\tid VARCHAR(128) NOT NULL, \n\tapp_name VARCHAR(128) NOT NULL, \n\tuser_id VARCHAR(128) NOT NULL, \n\tsession_id VARCHAR(128) NOT NULL, \n\tinvocation_id VARCHAR(256) NOT NULL, \n\ttimestamp DATETIME NOT NULL, \n\tevent_data TEXT, \n\tPRIMARY KEY (id, app_name, user_id, session_id), \n\tFOREIGN KEY(app_name, user_id, session_id) REFERENCES sessions (app_name, user_id, id) ON DELETE CASCADE\n)",
        "idx_events_app_user_session_ts_id":
            "CREATE INDEX idx_events_app_user_session_ts_id ON events (app_name, user_id, session_id, timestamp DESC, id DESC)",
    ]

    static let sqliteSessionService: [String: String] = [
        "app_states":
            "CREATE TABLE app_states (\n    app_name TEXT PRIMARY KEY,\n    state TEXT NOT NULL,\n    update_time REAL NOT NULL\n)",
        "user_states":
            "CREATE TABLE user_states (\n    app_name TEXT NOT NULL,\n    user_id TEXT NOT NULL,\n    state TEXT NOT NULL,\n    update_time REAL NOT NULL,\n    PRIMARY KEY (app_name, user_id)\n)",
        "sessions":
            "CREATE TABLE sessions (\n    app_name TEXT NOT NULL,\n    user_id TEXT NOT NULL,\n    id TEXT NOT NULL,\n    state TEXT NOT NULL,\n    create_time REAL NOT NULL,\n    update_time REAL NOT NULL,\n    PRIMARY KEY (app_name, user_id, id)\n)",
        "events":
            "CREATE TABLE events (\n    id TEXT NOT NULL,\n    app_name TEXT NOT NULL,\n    user_id TEXT NOT NULL,\n    session_id TEXT NOT NULL,\n    invocation_id TEXT NOT NULL,\n    timestamp REAL NOT NULL,\n    event_data TEXT NOT NULL,\n    PRIMARY KEY (app_name, user_id, session_id, id),\n    FOREIGN KEY (app_name, user_id, session_id) REFERENCES sessions(app_name, user_id, id) ON DELETE CASCADE\n)",
    ]
}

@Suite struct AdkSchemaTextTests {
    @Test(arguments: [
        (SQLiteSessionStore.NewFileLayout.databaseV1, AdkSchemaText.databaseV1),
        (.sqliteSessionService, AdkSchemaText.sqliteSessionService),
    ])
    func newFilesHaveAdksExactSchema(layout: SQLiteSessionStore.NewFileLayout, expected: [String: String]) throws {
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { _ in }
            let schema = try withConnection(path, mode: .readOnly) { db in
                let statement = try db.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
                var schema: [String: String] = [:]
                while try statement.step() { schema[statement.text(at: 0)] = statement.text(at: 1) }
                return schema
            }
            #expect(schema == expected)
        }
    }
}
