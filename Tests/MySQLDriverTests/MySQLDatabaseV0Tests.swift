import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import MySQLDriver

/// DatabaseSessionService schema v0 (ADK ≤ 1.21) in MySQL, checked against what the real ADK 1.21
/// wrote and ADK 2.13 read (V0Fixtures), and against the live ADKs when their virtualenvs exist.
@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLDatabaseV0Tests {
    /// Creates `smt_v0_<name>_<pid>_<random>` with ADK 1.21's v0 DDL and, with `rows`, the rows ADK 1.21
    /// wrote; runs `extra`, then `body`; drops the database afterwards.
    static func withV0Database<R>(
        _ name: String, rows: Bool = true, then extra: [String] = [],
        _ body: (MySQLStoreConfig, MySQLConnection) throws -> R
    ) throws -> R {
        let base = try #require(MySQLTestServer.base)
        // Parameterized cases run in parallel: each gets its own database.
        let database = "smt_v0_\(name)_\(getpid())_\(UUID().uuidString.prefix(8))"
        let admin = try MySQLTestServer.connect(base)
        defer { admin.close() }
        try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        try admin.execute("CREATE DATABASE `\(database)`")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS `\(database)`") }
        var config = base
        config.database = database
        let connection = try MySQLTestServer.connect(config)
        defer { connection.close() }
        for statement in V0Fixtures.ddl + (rows ? V0Fixtures.rows : []) + extra { try connection.execute(statement) }
        return try body(config, connection)
    }

    /// The database as a `mysql://` address for v0_adk.py.
    static func url(_ config: MySQLStoreConfig) -> String {
        "mysql://\(config.user):\(config.password)@\(config.host):\(config.port)/\(config.database)"
    }

    /// Every row of the four v0 tables, `actions` as hex, for byte-for-byte comparisons.
    static func dump(_ connection: MySQLConnection) throws -> [[String?]] {
        var rows: [[String?]] = []
        for (table, select) in [
            ("app_states", "app_states.*"), ("user_states", "user_states.*"), ("sessions", "sessions.*"),
            ("events", DatabaseV0Codec.allEventColumns.map { $0 == "actions" ? "HEX(actions)" : $0 }.joined(separator: ", ")),
        ] {
            rows += try connection.query("SELECT '\(table)', \(select) FROM \(table) ORDER BY 2, 3, 4", buffered: true).collect()
        }
        return rows
    }

    static var expected: [ADKRead] { get throws { try ADKRead.list(V0Fixtures.expected) } }

    static let pre119Dropped: Set<String> = [
        "input_transcription", "output_transcription", "usage_metadata", "citation_metadata", "custom_metadata",
    ]

    @Test func readsWhatADK121WroteAsADK213Does() throws {
        try Self.withV0Database("read") { config, _ throws in
            try MySQLTestServer.withStore(config, forWriting: false) { store throws in
                #expect(store.layout == StoreLayout(kind: "mysql", name: "database-v0", schemaVersion: "0"))
                for batchSize in [1, 2, 100] { expectSame(try MySQLTestServer.all(store, batchSize: batchSize), try Self.expected) }
                let keys = try Self.expected.map(\.key)
                let fetched = try store.fetchSessions(keys)
                expectSame(keys.compactMap { fetched[$0] }, try Self.expected)
            }
        }
    }

    @Test func writesWhatBothADKsReadBack() throws {
        try Self.withV0Database("write", rows: false) { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(try Self.expected.map { try $0.session() })
                expectSame(try MySQLTestServer.all(store), try Self.expected)
            }
            // `pickle.dumps` default protocol, as DynamicPickleType writes on MySQL.
            let prefixes = try connection.query("SELECT DISTINCT HEX(LEFT(actions, 2)) FROM events", buffered: true).collect()
            #expect(prefixes == [["8004"]])
            if let adk121 = RealADK.adk121 {
                expectSameIgnoringADK121Quirks(try RealADK.read(adk121, url: Self.url(config)), try Self.expected)
            }
            if let adk213 = RealADK.adk213 {
                expectSame(try RealADK.read(adk213, url: Self.url(config)).map { try $0.session() }, try Self.expected)
            }
        }
    }

    @Test(.enabled(if: RealADK.adk121 != nil && RealADK.adk213 != nil))
    func liveADK121DatabaseReadsAsADK213ReadsIt() throws {
        try Self.withV0Database("live", rows: false, then: ["DROP TABLE events, sessions, app_states, user_states"]) {
            config, _ throws in
            _ = try RealADK.run(try #require(RealADK.adk121), ["write", "--url", Self.url(config)])
            let reads = try RealADK.read(try #require(RealADK.adk213), url: Self.url(config))
            try MySQLTestServer.withStore(config, forWriting: false) { expectSame(try MySQLTestServer.all($0), reads) }
        }
    }

    @Test func secondWriteLeavesIdenticalRows() throws {
        try Self.withV0Database("twice") { config, connection throws in
            let sessions = try Self.expected.map { try $0.session() }
            try MySQLTestServer.withStore(config) { try $0.writeSessions(sessions) }
            let first = try Self.dump(connection)
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(sessions)
                try store.writeSessions(sessions.reversed())
                expectSame(try MySQLTestServer.all(store), try Self.expected)
            }
            #expect(try Self.dump(connection) == first)
        }
    }

    @Test func readBackPredictsWhatIsRead() throws {
        let sessions = try MySQLSessionStoreTests.sample()
        try Self.withV0Database("readback", rows: false) { config, _ throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(sessions)
                let read = try store.fetchSessions(sessions.map(\.key))
                for session in sessions {
                    let predicted = try store.readBack(session)
                    #expect(read[session.key]?.events == predicted.events)
                    #expect(read[session.key]?.state == predicted.state)
                }
            }
        }
    }

    @Test func pre119TableIsReadAndWrittenWithItsColumns() throws {
        // ADK ≤ 1.11 also had `actions` as a plain BLOB.
        let alter =
            ["ALTER TABLE events MODIFY actions BLOB NOT NULL"]
            + Self.pre119Dropped.sorted().map { "ALTER TABLE events DROP COLUMN \($0)" }
        try Self.withV0Database("pre119", then: alter) { config, _ throws in
            let narrowed = try Self.expected.map { $0.dropping(Self.pre119Dropped) }
            try MySQLTestServer.withStore(config) { store throws in
                expectSame(try MySQLTestServer.all(store), narrowed)
                let full = try Self.expected.map { try $0.session() }
                #expect(
                    full.flatMap { store.unrepresentableFields(in: $0) }.sorted() == [
                        "event.citation_metadata", "event.custom_metadata", "event.input_transcription",
                        "event.output_transcription", "event.usage_metadata",
                    ])
                try store.writeSessions(full)
                expectSame(try MySQLTestServer.all(store), narrowed)
            }
        }
    }

    /// `error_message` of the session `s1`'s third event replaced by `message`.
    static func session(withErrorMessage message: String) throws -> Session {
        var session = try #require(try expected.first { $0.key.sessionId == "s1" }).session()
        var data = session.events[2].data
        data["error_message"] = .string(message)
        session.events[2] = try Event(data: data)
        return session
    }

    @Test(arguments: [
        // ADK ≤ 1.21's VARCHAR(1024) counts characters.
        ("VARCHAR(1024)", "é", 1024, false, 1024),
        ("VARCHAR(1024)", "é", 1025, true, 1024),
        // TEXT (the type ADK ≥ 1.22 declares) holds 65535 bytes.
        ("TEXT", "x", 65535, false, 65535),
        ("TEXT", "é", 40000, true, 32774),
        ("LONGTEXT", "é", 40000, false, 40000),
    ])
    func errorMessageFitsItsColumn(type: String, character: String, count: Int, truncated: Bool, characters: Int) throws {
        let message = String(repeating: character, count: count)
        try Self.withV0Database("errmsg", rows: false, then: ["ALTER TABLE events MODIFY error_message \(type)"]) {
            config, _ throws in
            let session = try Self.session(withErrorMessage: message)
            try MySQLTestServer.withStore(config) { store throws in
                #expect(store.unrepresentableFields(in: session) == (truncated ? ["event.error_message (truncated)"] : []))
                try store.writeSessions([session])
                let read = try #require(try store.fetchSessions([session.key])[session.key])
                let stored = try #require(read.events[2].data["error_message"]?.stringValue)
                #expect(stored.unicodeScalars.count == characters)
                #expect(stored.hasSuffix(DatabaseV0Codec.truncationSuffix) == truncated)
                #expect(stored.hasPrefix(String(message.unicodeScalars.prefix(characters - (truncated ? 14 : 0)))))
            }
        }
    }

    @Test(arguments: BadPickles.all.map(\.name))
    func badPickleIsASessionDataErrorNamingTheRow(name: String) throws {
        let bytes = try #require(BadPickles.all.first { $0.name == name }).bytes
        let insert =
            "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, author, actions, timestamp)"
            + " VALUES ('bad', 'v0app', 'u1', 's1', 'i', 'user', \(BadPickles.hex(bytes)), '2023-11-14 22:13:30')"
        try Self.withV0Database("badpickle", then: [insert]) { config, _ throws in
            try MySQLTestServer.withStore(config, forWriting: false) { store throws in
                let key = SessionKey(appName: "v0app", userId: "u1", sessionId: "s1")
                for error in [
                    #expect(throws: SessionDataError.self) { try MySQLTestServer.all(store) },
                    #expect(throws: SessionDataError.self) { try store.fetchSessions([key]) },
                ] {
                    #expect(error?.location == "events row id='bad' of v0app/u1/s1")
                    #expect(error?.message.contains("actions") == true)
                }
            }
        }
    }
}
