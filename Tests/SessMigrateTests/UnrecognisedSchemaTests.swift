import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Nothing writes into a store whose schema or key layout it does not recognise: copy, restore and
/// generate all refuse before writing, and the target stays byte for byte as it was.
enum ForeignTarget: String, CaseIterable, CustomStringConvertible {
    /// A `sessions` table of another program (Flask-style), no other ADK table.
    case sqliteForeignSessions = "sqlite-foreign-sessions"
    /// ADK's tables with `adk_internal_metadata.schema_version` '2' (a newer ADK).
    case sqliteNewerVersion = "sqlite-schema-version-2"
    /// ADK's v1 tables where `events` lacks `event_data` and has other columns.
    case sqliteOtherEventColumns = "sqlite-other-event-columns"
    case mysqlForeignSessions = "mysql-foreign-sessions"
    case mysqlNewerVersion = "mysql-schema-version-2"
    /// `session:*` keys that are hashes (another program's sessions).
    case redisForeignHashes = "redis-foreign-hashes"
    /// `session:*` strings that are not ADK session JSON.
    case redisForeignStrings = "redis-foreign-strings"
    /// google-adk-redis sessions in a database the address says is community.
    case redisOtherLayout = "redis-other-layout"

    var description: String { rawValue }
    var needsServers: Bool { !rawValue.hasPrefix("sqlite") }

    static let v1Tables = """
        CREATE TABLE sessions (app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, id VARCHAR(128) NOT NULL,
          state TEXT NOT NULL, create_time DATETIME(6) NOT NULL, update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name, user_id, id));
        CREATE TABLE events (id VARCHAR(128) NOT NULL, app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL,
          session_id VARCHAR(128) NOT NULL, invocation_id VARCHAR(256) NOT NULL, timestamp DATETIME(6) NOT NULL, event_data TEXT,
          PRIMARY KEY (id, app_name, user_id, session_id));
        CREATE TABLE app_states (app_name VARCHAR(128) NOT NULL PRIMARY KEY, state TEXT NOT NULL, update_time DATETIME(6) NOT NULL);
        CREATE TABLE user_states (app_name VARCHAR(128) NOT NULL, user_id VARCHAR(128) NOT NULL, state TEXT NOT NULL,
          update_time DATETIME(6) NOT NULL, PRIMARY KEY (app_name, user_id));
        CREATE TABLE adk_internal_metadata (`key` VARCHAR(128) NOT NULL PRIMARY KEY, value VARCHAR(256) NOT NULL);
        """

    /// Statements that build the foreign target (SQL for SQLite and MySQL, Redis commands otherwise).
    var setup: [String] {
        switch self {
        case .sqliteForeignSessions, .mysqlForeignSessions:
            [
                "CREATE TABLE sessions (id VARCHAR(64) PRIMARY KEY, data TEXT, expiry DATETIME)",
                "INSERT INTO sessions VALUES ('flask-1', 'cart=3', '2030-01-01 00:00:00')",
            ]
        case .sqliteNewerVersion, .mysqlNewerVersion:
            Self.v1Tables.split(separator: ";").map { String($0) }.filter { !$0.allSatisfy(\.isWhitespace) }
                + ["INSERT INTO adk_internal_metadata VALUES ('schema_version', '2')"]
        case .sqliteOtherEventColumns:
            Self.v1Tables.replacingOccurrences(of: "event_data TEXT", with: "payload BLOB").split(separator: ";").map { String($0) }
                .filter { !$0.allSatisfy(\.isWhitespace) }.filter { !$0.contains("adk_internal_metadata") }
        case .redisForeignHashes: ["HSET session:web-1 user 42 cart 3", "HSET session:web-2 user 43"]
        case .redisForeignStrings: ["SET session:web-1 a:2:{s:4:\"cart\";i:3;}", "SET session:web-2 x"]
        case .redisOtherLayout:
            [#"SET session:app:u:s1 {"app_name":"app","user_id":"u","id":"s1","state":{},"events":[],"last_update_time":1700000000.0}"#]
        }
    }
}

@Suite(.serialized) struct UnrecognisedSchemaTests {
    /// Builds the foreign target; Redis database 42 and MySQL database `smt_pairs_42_PID` belong to this suite.
    func make(_ kind: ForeignTarget, directory: String) throws -> StoreAddress {
        switch kind {
        case .sqliteForeignSessions, .sqliteNewerVersion, .sqliteOtherEventColumns:
            let path = directory + "/foreign.db"
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [path, kind.setup.map { $0.replacingOccurrences(of: "`", with: "\"") + ";" }.joined(separator: "\n")]
            try sqlite.run()
            sqlite.waitUntilExit()
            #expect(sqlite.terminationStatus == 0)
            return .sqlite(SQLiteAddress(path: path, newFileLayout: .database))
        case .mysqlForeignSessions, .mysqlNewerVersion:
            guard case .mysql(let address) = try TestStores.make(.mysql, slot: 42, directory: directory) else { throw AddressError("not mysql") }
            let connection = try MySQLConnection.open(
                host: address.host, port: address.port, user: address.user, password: address.password ?? "", database: address.database)
            defer { connection.close() }
            for statement in kind.setup { try connection.execute(statement) }
            return .mysql(address)
        case .redisForeignHashes, .redisForeignStrings, .redisOtherLayout:
            return try TestStores.redis(42, layout: .community, commands: kind.setup)
        }
    }

    @Test(arguments: ForeignTarget.allCases)
    func copyRestoreAndGenerateRefuseBeforeWriting(kind: ForeignTarget) throws {
        guard !kind.needsServers || TestStores.serversAvailable else { return }
        defer { if kind.needsServers { TestStores.dropMySQL(slots: 42..<43) } }
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/source.db", newFileLayout: .sqliteSessionService))
            var sessions = try sampleSessions()
            for index in sessions.indices { sessions[index].expiry = .never }
            try write(sessions, to: source)
            let snapshot = directory + "/snapshot.db"
            _ = try SnapshotJob(source: source, path: snapshot, force: false).run()
            let target = try make(kind, directory: directory)
            let before = try TestStores.rawDump(target)
            var options = CopyRequest()
            options.onConflict = .source
            let attempts: [(String, () throws -> Void)] = [
                ("copy", { _ = try CopyJob(source: source, target: target, options: options).run() }),
                ("restore", { _ = try RestoreJob(path: snapshot, target: target, options: options).run() }),
                ("generate", { _ = try GenerateJob(target: target, sessions: 3, eventsPerSession: 2, seed: 1).run() }),
            ]
            for (name, attempt) in attempts {
                var failure: (any Error)?
                do { try attempt() } catch { failure = error }
                let message = failure.map { String(describing: $0) } ?? "no error"
                #expect(failure != nil, "\(kind) \(name) was not refused")
                #expect(["unsupported", "bad data", "schema", "layout"].contains { message.contains($0) }, "\(kind) \(name): \(message)")
                #expect(try TestStores.rawDump(target) == before, "\(kind) \(name) changed the target")
            }
        }
    }
}
