import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// `verify --replay` semantics on a SQLite store (no servers needed); the real-ADK stores of every
/// kind are in Tests/Interop/generate_replay.py.
@Suite struct ReplayCheckTests {
    static let app = "bot"

    static func event(_ id: String, _ time: Double, _ delta: JSONObject) throws -> Event {
        try Event(data: [
            "invocation_id": .string("e-\(id)"), "author": .string("agent"),
            "actions": .object(["state_delta": .object(delta)]), "id": .string(id), "timestamp": .number(JSONNumber(time)),
        ])
    }

    /// Two sessions of one user as ADK leaves them: `s1` was created with `topic` (and `app:theme`,
    /// `user:name`), its events set `count`, `user:lang` and `user:name`; `s2` was created later with
    /// `mood`, `user:name` "Annie" and `user:lang` "de", which overwrote the shared user state; `plan`
    /// was set by a session deleted since.
    static func sessions(
        s1State: JSONObject = ["count": .number(JSONNumber(2)), "topic": .string("start")],
        userState: JSONObject = ["name": .string("Annie"), "lang": .string("de"), "plan": .string("pro")]
    ) throws -> [Session] {
        let key1 = SessionKey(appName: app, userId: "u1", sessionId: "s1")
        let key2 = SessionKey(appName: app, userId: "u1", sessionId: "s2")
        let events = [
            try event("e1", 100, ["count": .number(JSONNumber(1)), "user:lang": .string("en"), "temp:x": .number(JSONNumber(1))]),
            try event("e2", 101, ["count": .number(JSONNumber(2)), "user:name": .string("Anna")]),
        ]
        return [
            Session(key: key1, state: s1State, appState: ["theme": .string("dark")], userState: userState, events: events, lastUpdateTime: 101),
            Session(key: key2, state: ["mood": .string("ok")], appState: ["theme": .string("dark")], userState: userState, lastUpdateTime: 150),
        ]
    }

    func replay(_ sessions: [Session]) throws -> ReplayCheck.Summary {
        try withTemporaryDirectory { directory in
            let address = StoreAddress.sqlite(SQLiteAddress(path: directory + "/r.db", newFileLayout: .sqliteSessionService))
            try write(sessions, to: address)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            return try ReplayCheck(batchSize: 1).run(store)
        }
    }

    @Test func initialStateAndSharedWritesOfOtherSessionsReplayClean() throws {
        let summary = try replay(try Self.sessions())
        #expect(summary.mismatches.isEmpty)
        #expect(summary.sessions == 2 && summary.events == 2)
        #expect(summary.initialKeys == 2, "topic and mood")
        #expect(summary.sharedKeysNotFromEvents == 2, "app theme and user plan")
        #expect(summary.sharedValuesNotFromLatestEvent == 2, "user name and lang")
    }

    @Test func anEditedSessionValueIsReported() throws {
        let summary = try replay(try Self.sessions(s1State: ["count": .number(JSONNumber(99)), "topic": .string("start")]))
        #expect(summary.mismatches == [ReplayCheck.Mismatch(scope: "session bot/u1/s1", keys: ["count"], reason: "not the value the session's last event set")])
    }

    @Test func aSessionKeyAnEventSetIsReportedWhenMissing() throws {
        let summary = try replay(try Self.sessions(s1State: ["topic": .string("start")]))
        #expect(summary.mismatches.map(\.keys) == [["count"]])
    }

    @Test func aUserKeyAnEventSetIsReportedWhenMissing() throws {
        let summary = try replay(try Self.sessions(userState: ["name": .string("Annie")]))
        #expect(
            summary.mismatches == [ReplayCheck.Mismatch(scope: "user bot/u1", keys: ["lang"], reason: "set by an event, missing from the stored user state")])
    }

    /// ADK stores `bytes` as UTF-8 text (event_data: base64), and SqliteSessionService cuts a
    /// top-level string at NUL; nothing else differs.
    @Test func storedValuesMatchWhatADKStoresForTheEventValue() throws {
        let matches = { (stored: String, event: String) in
            StoredStateValue.matches(try JSONValue.parse(stored), replayed: try JSONValue.parse(event))
        }
        #expect(try matches(#""xy""#, #""eHk=""#))
        #expect(try matches(#"{"b": "\u00e9", "n": 1}"#, #"{"n": 1, "b": "w6k="}"#))
        #expect(try matches(#"["xy"]"#, #"["eHk="]"#))
        #expect(try matches(#""ab""#, #""ab\u0000cd""#))
        #expect(try !matches(#"{"k": "ab"}"#, #"{"k": "ab\u0000cd"}"#), "SQLite cuts top-level strings only")
        #expect(try !matches(#""xz""#, #""eHk=""#))
        #expect(try !matches(#""ab""#, #""abcd""#))
        #expect(try !matches(#"{"b": "x"}"#, #"{"b": "x", "c": 1}"#))
        #expect(try !matches("1", "1.0"))
    }
}
