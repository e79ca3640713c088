import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// The copy engine against real SQLite files in both ADK layouts (no servers needed).
@Suite struct CopyEngineTests {
    @Test(arguments: [SQLiteLayoutName.sqliteSessionService, .database], [SQLiteLayoutName.sqliteSessionService, .database])
    func copyIsCompleteAndIdempotent(from sourceLayout: SQLiteLayoutName, to targetLayout: SQLiteLayoutName) throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: sourceLayout))
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst.db", newFileLayout: targetLayout))
            let sessions = try sampleSessions()
            try write(sessions, to: source)

            let job = CopyJob(source: source, target: target, options: CopyRequest(batchSize: 3))
            let first = try job.run()
            #expect(first.total.read == sessions.count)
            #expect(first.total.written == sessions.count)
            #expect(first.total.eventsWritten == sessions.reduce(0) { $0 + $1.events.count })

            let copied = try readAll(target)
            #expect(copied.count == sessions.count)
            for original in sessions {
                let copy = try #require(copied[original.key])
                #expect(copy.mergedState.isEquivalent(to: original.mergedState))
                #expect(copy.events.map(\.id) == original.events.map(\.id))
                #expect(zip(copy.events, original.events).allSatisfy { $0.data.isEquivalent(to: $1.data) })
            }

            let second = try job.run()
            #expect(second.total.written == 0)
            #expect(second.total.unchanged == sessions.count)
        }
    }

    @Test func copyingAStoreOntoItselfIsRefused() throws {
        let address = StoreAddress.sqlite(SQLiteAddress(path: "/tmp/same.db", newFileLayout: .sqliteSessionService))
        #expect(throws: AddressError.self) { _ = try CopyJob(source: address, target: address, options: CopyRequest()).run() }
    }

    @Test func aChangedSourceSessionIsRewrittenAndOnlyIt() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst.db", newFileLayout: .database))
            var sessions = try sampleSessions()
            try write(sessions, to: source)
            let job = CopyJob(source: source, target: target, options: CopyRequest(batchSize: 2))
            _ = try job.run()

            sessions[1].state["added"] = .string("later")
            try write([sessions[1]], to: source)
            let again = try job.run()
            #expect(again.total.written == 1)
            #expect(again.total.unchanged == sessions.count - 1)
            #expect(try readAll(target)[sessions[1].key]?.state["added"] == .string("later"))
        }
    }
}

func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessmigrate-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory.path)
}

func write(_ sessions: [Session], to address: StoreAddress) throws {
    let store = try StoreOpener().open(address, forWriting: true)
    defer { try? store.close() }
    try store.writeSessions(sessions)
}

func readAll(_ address: StoreAddress) throws -> [SessionKey: Session] {
    let store = try StoreOpener().open(address, forWriting: false)
    defer { try? store.close() }
    let cursor = try store.scanSessions(SessionQuery(batchSize: 2))
    var result: [SessionKey: Session] = [:]
    while let session = try cursor.next() { result[session.key] = session }
    return result
}

/// Sessions with odd ids, exact numbers, tied timestamps, an empty session and a long one.
func sampleSessions() throws -> [Session] {
    func event(_ id: String, _ timestamp: String, _ delta: String = "{}") throws -> Event {
        try Event(
            data: JSONValue.parseObject(
                #"{"content": {"parts": [{"text": "h\u00e9llo \ud83e\udd86"}, {"inline_data": {"data": "-__-", "mime_type": "application/octet-stream"}}], "role": "user"}, "#
                    + #""invocation_id": "inv", "author": "user", "actions": {"state_delta": \#(delta), "artifact_delta": {}, "#
                    + #""requested_auth_configs": {}, "requested_tool_confirmations": {}}, "id": "\#(id)", "timestamp": \#(timestamp)}"#))
    }
    let app: JSONObject = ["theme": .string("dark"), "big": try JSONValue.parse("9007199254740993")]
    var sessions: [Session] = []
    sessions.append(
        Session(
            key: SessionKey(appName: "app one", userId: "u:1", sessionId: "sess: ünï 🦆"),
            state: try JSONValue.parseObject(#"{"nested": {"a": [1.0, 1e-07, null]}, "n": 1}"#), appState: app,
            userState: ["name": .string("Zoë")],
            events: [try event("e1", "1700000000.123456", #"{"n": 1}"#), try event("e2", "1700000000.123456"), try event("e3", "1700000001.5")],
            createTime: 1_699_999_999.5, lastUpdateTime: 1_700_000_001.5))
    sessions.append(
        Session(
            key: SessionKey(appName: "app one", userId: "u:1", sessionId: "empty"), appState: app, userState: ["name": .string("Zoë")],
            lastUpdateTime: 1_700_000_002))
    var long: [Event] = []
    for index in 0..<250 { long.append(try event(String(format: "ev-%04d", index), "\(1_700_000_100 + index).25")) }
    sessions.append(Session(key: SessionKey(appName: "app two", userId: "u2", sessionId: "a:b:c"), events: long, lastUpdateTime: 1_700_000_349.25))
    for index in 0..<4 {
        sessions.append(
            Session(
                key: SessionKey(appName: "app two", userId: "u\(index)", sessionId: "s\(index)"), state: ["i": .number(JSONNumber(index))],
                lastUpdateTime: 1_700_000_000))
    }
    return sessions
}
