import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

/// A fresh path in a new temporary directory, removed after `body` (on success and on error).
func withTemporaryPath<R>(_ name: String = "test.db", _ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory.appendingPathComponent(name).path)
}

/// Opens (creating) `path`, runs `body`, and closes the connection on both paths.
func withConnection<R>(_ path: String, mode: SQLiteConnection.Mode = .create, _ body: (SQLiteConnection) throws -> R) throws -> R {
    let connection = try SQLiteConnection.open(path: path, mode: mode)
    defer { try? connection.close() }
    return try body(connection)
}

/// Runs `body` with a store and closes it on both paths.
func withStore<S: SessionStore, R>(_ store: S, _ body: (S) throws -> R) throws -> R {
    defer { try? store.close() }
    return try body(store)
}

/// Every row of every table (with rowid), sorted, plus `sqlite_master`: equal dumps mean equal files
/// as far as ADK can tell.
func dump(_ path: String) throws -> [String] {
    try withConnection(path, mode: .readOnly) { connection in
        var lines: [String] = []
        let master = try connection.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        while try master.step() { lines.append("master \(master.value(at: 0)) \(master.value(at: 1)) \(master.value(at: 2))") }
        for table in try connection.tableNames() {
            let width = try connection.columns(of: table).count
            let order = (1...width + 1).map(String.init).joined(separator: ", ")
            let rows = try connection.prepare("SELECT rowid, * FROM \"\(table)\" ORDER BY \(order)")
            while try rows.step() {
                lines.append(table + " " + (0..<rows.columnCount).map { "\(rows.value(at: $0))" }.joined(separator: " | "))
            }
        }
        return lines
    }
}

/// Parses a JSON object literal written in a test.
func object(_ text: String) -> JSONObject {
    (try? JSONValue.parseObject(text)) ?? ["unparsable test literal": .string(text)]
}

/// An event with this id and time; `extra` members are appended.
func makeEvent(_ id: String, at timestamp: String, invocation: String = "inv-1", text: String = "hello") throws -> Event {
    try Event(
        data: object(
            #"{"content": {"parts": [{"text": "\#(text)"}], "role": "user"}, "invocation_id": "\#(invocation)", "author": "user", "#
                + #""actions": {"state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}}, "#
                + #""id": "\#(id)", "timestamp": \#(timestamp)}"#))
}

/// Sessions that exercise every corner: odd ids, nested state, exact big integers, float
/// literals, tied timestamps (ids increasing with insertion order), an empty session and a
/// 300-event session.
func nastySessions() throws -> [Session] {
    let state = object(
        #"{"nested": {"list": [1, 2.5, {"deep": null}], "flag": true}, "big": 9007199254740993, "one": 1.0, "#
            + #""tiny": 1e-07, "text": "Zo\u00eb \ud83d\ude00 \u2028 \"quoted\" \\ /", "empty": {}}"#)
    let app = "app one: 😀"
    let user = "user:1 é"
    let tied = [
        try makeEvent("e1 😀", at: "1700000000.5", text: "first \\u00e9"),
        try makeEvent("e2:x", at: "1700000001.25"),
        try makeEvent("e3", at: "1700000001.25", invocation: "inv-2"),
        try makeEvent("e4", at: "1700000002.0", text: "caf\\u00e9 \\ud83d\\ude00"),
    ]
    var long: [Event] = []
    for index in 0..<300 {
        long.append(try makeEvent("long-\(1000 + index)", at: "\(1_700_000_100 + index / 3).5"))
    }
    return [
        Session(
            key: SessionKey(appName: app, userId: user, sessionId: "s 1:2/3 😀"), state: state,
            appState: object(#"{"theme": "dark", "n": 1.0}"#), userState: object(#"{"name": "Zo\u00eb"}"#),
            events: tied, createTime: 1_699_999_999.25, lastUpdateTime: 1_700_000_002.0),
        Session(
            key: SessionKey(appName: app, userId: user, sessionId: "empty"), state: [:],
            appState: object(#"{"theme": "dark", "n": 1.0}"#), userState: object(#"{"name": "Zo\u00eb"}"#),
            events: [], createTime: 1_600_000_000.0, lastUpdateTime: 1_600_000_000.0),
        Session(
            key: SessionKey(appName: "app2", userId: "u", sessionId: "long"), state: object(#"{"k": 1}"#),
            events: long, createTime: 1_700_000_000.0, lastUpdateTime: 1_700_000_199.5),
    ]
}

/// All sessions a store yields, scanning `batchSize` at a time.
func scanAll(_ store: some SessionStore, batchSize: Int = 2) throws -> [Session] {
    let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
    var sessions: [Session] = []
    while let session = try cursor.next() { sessions.append(session) }
    return sessions
}
