import DriverCore
import Foundation
import SQLiteDriver
import SessMigrateTestSupport
import SessionModel
import Testing

/// DatabaseSessionService schema v0 (ADK ≤ 1.21) in SQLite files, checked against what the real
/// ADK 1.21 wrote and ADK 2.13 read (V0Fixtures), and against the live ADKs when installed.
@Suite struct SQLiteDatabaseV0Tests {
    /// A file with ADK 1.21's v0 DDL and, with `rows`, the rows ADK 1.21 wrote.
    static func makeFile(_ path: String, rows: Bool = true, then extra: [String] = []) throws {
        try withConnection(path) { db in
            for statement in V0Fixtures.ddl + (rows ? V0Fixtures.rows : []) + extra { try db.execute(statement) }
        }
    }

    static func open(_ path: String) throws -> SQLiteSessionStore {
        try SQLiteSessionStore.open(path: path, forWriting: true, createLayout: false, requiring: .databaseV1)
    }

    static var expected: [ADKRead] { get throws { try ADKRead.list(V0Fixtures.expected) } }

    /// Fields of the fixture the pre-1.19 tables below have no column for.
    static let pre119Dropped: Set<String> = [
        "input_transcription", "output_transcription", "usage_metadata", "citation_metadata", "custom_metadata",
    ]

    @Test func readsWhatADK121WroteAsADK213Does() throws {
        try withTemporaryPath { path in
            try Self.makeFile(path)
            try withStore(Self.open(path)) { store in
                #expect(store.layout == StoreLayout(kind: "sqlite", name: "database-v0", schemaVersion: "0"))
                for batchSize in [1, 2, 100] { expectSame(try scanAll(store, batchSize: batchSize), try Self.expected) }
                let keys = try Self.expected.map(\.key)
                let fetched = try store.fetchSessions(keys)
                expectSame(keys.compactMap { fetched[$0] }, try Self.expected)
                let stats = try store.fetchStats()
                #expect(stats.sessions == 3 && stats.events == 6 && stats.appStates == 2 && stats.userStates == 3)
            }
        }
    }

    @Test func writesColumnsAsADK121Does() throws {
        try withTemporaryPath("ours.db") { ours in
            try withTemporaryPath("adk.db") { adk in
                try Self.makeFile(adk)
                try Self.makeFile(ours, rows: false)
                try withStore(Self.open(ours)) { try $0.writeSessions(try Self.expected.map { try $0.session() }) }
                // Every column but the pickle (same meaning, other bytes) and the tool ids, which
                // ADK 1.21 wrote in set order or NULL and a 2.13 read gives back sorted or `[]`.
                let columns = DatabaseV0Codec.allEventColumns.filter { $0 != "actions" && $0 != "long_running_tool_ids_json" }
                func rows(_ path: String) throws -> [String] {
                    try withConnection(path, mode: .readOnly) { db in
                        let select = try db.prepare("SELECT \(columns.joined(separator: ", ")) FROM events ORDER BY id")
                        var rows: [String] = []
                        while try select.step() { rows.append((0..<select.columnCount).map { "\(select.value(at: $0))" }.joined(separator: " | ")) }
                        return rows
                    }
                }
                #expect(try rows(ours) == rows(adk))
            }
        }
    }

    @Test func writesWhatBothADKsReadBack() throws {
        try withTemporaryPath { path in
            try Self.makeFile(path, rows: false)
            try withStore(Self.open(path)) { store in
                try store.writeSessions(try Self.expected.map { try $0.session() })
                expectSame(try scanAll(store), try Self.expected)
            }
            if let adk213 = RealADK.adk213 {
                // ADK 2.13 adds its index to the file it opens: read a copy.
                let copy = path + ".adk213"
                try FileManager.default.copyItem(atPath: path, toPath: copy)
                let reads = try RealADK.read(adk213, url: "sqlite:///" + copy)
                expectSame(try reads.map { try $0.session() }, try Self.expected)
            }
            if let adk121 = RealADK.adk121 {
                expectSameIgnoringADK121Quirks(try RealADK.read(adk121, url: "sqlite:///" + path), try Self.expected)
            }
        }
    }

    @Test(.enabled(if: RealADK.adk121 != nil && RealADK.adk213 != nil))
    func liveADK121FileReadsAsADK213ReadsIt() throws {
        try withTemporaryPath { path in
            _ = try RealADK.run(try #require(RealADK.adk121), ["write", "--url", "sqlite:///" + path])
            let copy = path + ".adk213"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            let reads = try RealADK.read(try #require(RealADK.adk213), url: "sqlite:///" + copy)
            try withStore(Self.open(path)) { expectSame(try scanAll($0), reads) }
        }
    }

    @Test func secondWriteLeavesIdenticalRows() throws {
        try withTemporaryPath { path in
            try Self.makeFile(path)
            let sessions = try Self.expected.map { try $0.session() }
            try withStore(Self.open(path)) { try $0.writeSessions(sessions) }
            let first = try dump(path)
            try withStore(Self.open(path)) { store in
                try store.writeSessions(sessions)
                try store.writeSessions(sessions.reversed())
                expectSame(try scanAll(store), try Self.expected)
            }
            #expect(try dump(path) == first)
        }
    }

    @Test func pre119TableIsReadAndWrittenWithItsColumns() throws {
        let drops = Self.pre119Dropped.sorted().map { "ALTER TABLE events DROP COLUMN \($0)" }
        let narrowed = try Self.expected.map { $0.dropping(Self.pre119Dropped) }
        try withTemporaryPath { path in
            try Self.makeFile(path, then: drops)
            try withStore(Self.open(path)) { store in
                expectSame(try scanAll(store), narrowed)
                let full = try Self.expected.map { try $0.session() }
                let lost = full.flatMap { store.unrepresentableFields(in: $0) }
                #expect(
                    lost.sorted() == [
                        "event.citation_metadata", "event.custom_metadata", "event.input_transcription",
                        "event.output_transcription", "event.usage_metadata",
                    ])
                try store.writeSessions(full)
                expectSame(try scanAll(store), narrowed)
            }
        }
    }

    @Test func longErrorMessageIsKeptWholeInSQLite() throws {
        try withTemporaryPath { path in
            try Self.makeFile(path, rows: false)
            var session = try #require(try Self.expected.first { $0.key.sessionId == "s1" }).session()
            var data = session.events[2].data
            let message = String(repeating: "é", count: 5000)
            data["error_message"] = .string(message)
            session.events[2] = try Event(data: data)
            try withStore(Self.open(path)) { store in
                #expect(store.unrepresentableFields(in: session).isEmpty)
                try store.writeSessions([session])
                let read = try #require(try store.fetchSessions([session.key])[session.key])
                #expect(read.events[2].data["error_message"] == .string(message))
            }
        }
    }

    @Test func fieldsWithoutAColumnAreReported() throws {
        try withTemporaryPath { path in
            try Self.makeFile(path, rows: false)
            let event = try Event(
                data: object(
                    #"{"model_version": "gemini-x", "content": {"parts": [{"text": "a"}], "role": "model"}, "#
                        + #""finish_reason": "STOP", "avg_logprobs": -0.5, "interaction_id": "i1", "invocation_id": "inv", "#
                        + #""author": "agent", "actions": {"state_delta": {}, "artifact_delta": {}, "#
                        + #""requested_auth_configs": {}, "requested_tool_confirmations": {}, "route": "left"}, "#
                        + #""output": {"x": 1}, "node_info": {"path": "a/b"}, "isolation_scope": "s", "id": "e1", "timestamp": 1.5}"#))
            let plain = try Event(
                data: object(
                    #"{"invocation_id": "inv", "author": "user", "actions": {}, "node_info": {"path": ""}, "id": "e2", "timestamp": 2.5}"#))
            let session = Session(
                key: SessionKey(appName: "a", userId: "u", sessionId: "s"), events: [event, plain], lastUpdateTime: 2.5)
            try withStore(Self.open(path)) { store in
                #expect(
                    store.unrepresentableFields(in: session) == [
                        "event.model_version", "event.finish_reason", "event.avg_logprobs", "event.interaction_id",
                        "event.output", "event.node_info", "event.isolation_scope", "event.actions.route",
                    ])
                try store.writeSessions([session])
                let read = try #require(try store.fetchSessions([session.key])[session.key])
                #expect(read.events.map(\.id) == ["e1", "e2"])
                #expect(read.events[0].data["model_version"] == nil)
                #expect(read.events[0].data["content"] == event.data["content"])
            }
        }
    }

    @Test func readBackPredictsWhatIsRead() throws {
        var sessions = try nastySessions()
        // A timestamp finer than the DATETIME column, and fields without a column.
        var data = sessions[0].events[0].data
        data["timestamp"] = .number(JSONNumber(1_700_000_000.1234567))
        data["model_version"] = .string("m")
        sessions[0].events[0] = try Event(data: data)
        try withTemporaryPath { path in
            try Self.makeFile(path, rows: false)
            try withStore(Self.open(path)) { store in
                #expect(
                    store.unrepresentableFields(in: sessions[0]) == [
                        "event.model_version", "event.timestamp (rounded to microseconds)",
                    ])
                try store.writeSessions(sessions)
                let read = try store.fetchSessions(sessions.map(\.key))
                for session in sessions {
                    let predicted = try store.readBack(session)
                    #expect(read[session.key] == predicted)
                    #expect(predicted.events.allSatisfy { $0.data["node_info"] == .object(["path": .string("")]) })
                }
                #expect(read[sessions[0].key]?.events[0].timestamp == 1_700_000_000.123457)
            }
        }
    }

    @Test(arguments: BadPickles.all.map(\.name))
    func badPickleIsASessionDataErrorNamingTheRow(name: String) throws {
        let bytes = try #require(BadPickles.all.first { $0.name == name }).bytes
        try withTemporaryPath { path in
            try Self.makeFile(
                path,
                then: [
                    "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, author, actions, timestamp)"
                        + " VALUES ('bad', 'v0app', 'u1', 's1', 'i', 'user', \(BadPickles.hex(bytes)), '2023-11-14 22:13:30.000000')"
                ])
            try withStore(Self.open(path)) { store in
                for error in [
                    thrownError { try scanAll(store) },
                    thrownError { try store.fetchSessions([SessionKey(appName: "v0app", userId: "u1", sessionId: "s1")]) },
                ] {
                    let dataError = try #require(error as? SessionDataError)
                    #expect(dataError.location == "events row id='bad' of v0app/u1/s1")
                    #expect(dataError.message.contains("actions"))
                    #expect(dataError.code == .corrupt)
                }
            }
        }
    }
}
