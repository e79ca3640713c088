import DriverCore
import Foundation
import SQLiteDriver
import SessionModel
import Snapshot
import Testing

@Suite struct SessionRoundTripTests {
    static let layouts: [SQLiteSessionStore.NewFileLayout] = [.sqliteSessionService, .databaseV1]

    @Test(arguments: layouts)
    func nastySessionsRoundTrip(layout: SQLiteSessionStore.NewFileLayout) throws {
        let sessions = try nastySessions()
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { try $0.writeSessions(sessions) }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                #expect(store.layout.name == (layout == .databaseV1 ? "database-v1" : "sqlite-session-service"))
                for batchSize in [1, 2, 3, 200] {
                    let scanned = try scanAll(store, batchSize: batchSize)
                    #expect(scanned.map(\.key) == sessions.map(\.key).sorted())
                    for session in sessions {
                        #expect(scanned.first { $0.key == session.key } == session)
                    }
                }
                let missing = SessionKey(appName: "nope", userId: "u", sessionId: "s")
                let fetched = try store.fetchSessions(sessions.map(\.key) + [missing])
                #expect(fetched.count == sessions.count)
                for session in sessions { #expect(fetched[session.key] == session) }

                let stats = try store.fetchStats()
                #expect(stats.sessions == 3 && stats.events == 304)
                #expect(stats.appStates == (layout == .databaseV1 ? 2 : 1))
                #expect(stats.userStates == (layout == .databaseV1 ? 2 : 1))
                #expect(stats.oldestUpdateTime == 1_600_000_000.0 && stats.newestUpdateTime == 1_700_000_199.5)
            }
        }
    }

    @Test(arguments: layouts)
    func writingTwiceLeavesIdenticalTables(layout: SQLiteSessionStore.NewFileLayout) throws {
        let sessions = try nastySessions()
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { try $0.writeSessions(sessions) }
            let first = try dump(path)
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions(sessions)
                try store.writeSessions(sessions.reversed())
            }
            #expect(try dump(path) == first)
        }
    }

    /// Each SQLite layout names the style its `event_data` is written in (a snapshot's store, its file's), and
    /// events serialized ahead in that style (a copy's reading thread) make the same file as events that are not.
    @Test(arguments: layouts)
    func eventsSerializedAheadMakeTheSameFile(layout: SQLiteSessionStore.NewFileLayout) throws {
        let sessions = try nastySessions()
        try withTemporaryPath { path in
            let style = try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions(sessions)
                return store.eventDataStyle
            }
            #expect(style == (layout == .databaseV1 ? .python : .compact))
            // The events rows (the state rows carry the time of the write).
            func events() throws -> [String] { try dump(path).filter { $0.hasPrefix("events ") } }
            let plain = try events()
            #expect(plain.count == 304)
            try FileManager.default.removeItem(atPath: path)
            var prepared = sessions
            for session in prepared.indices {
                for event in prepared[session].events.indices { prepared[session].events[event].prepareSerialized(try #require(style)) }
            }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { try $0.writeSessions(prepared) }
            #expect(try events() == plain)
        }
        try withTemporaryPath { path in
            let writer = try SnapshotWriter(path: path, force: true, sourceKeepsExpiry: false)
            defer { writer.abandon(keepPartial: false) }
            #expect(writer.store.eventDataStyle == .compact)
        }
    }

    /// A rewrite whose event ids are canonically equivalent to the stored ones (`é` against `e` +
    /// U+0301) but other bytes replaces the events: updating them in place matched no row (SQLite
    /// compares bytes) and kept the old ids.
    @Test(arguments: layouts)
    func rewritingWithEquivalentButOtherEventIdsReplacesThem(layout: SQLiteSessionStore.NewFileLayout) throws {
        let key = SessionKey(appName: "a", userId: "u", sessionId: "s")
        let composed = Session(key: key, events: [try makeEvent("caf\u{E9}", at: "10.0")], createTime: 9, lastUpdateTime: 10)
        var decomposed = composed
        decomposed.events = [try makeEvent("cafe\u{301}", at: "10.0")]
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions([composed])
                try store.writeSessions([decomposed])
                let stored = try #require(try store.fetchSessions([key])[key])
                #expect(stored.events.count == 1)
                #expect(stored.events.first?.id.isExactly("cafe\u{301}") == true)
            }
        }
    }

    @Test(arguments: layouts)
    func rewritingReplacesEventsAndMergesScopes(layout: SQLiteSessionStore.NewFileLayout) throws {
        let key = SessionKey(appName: "a", userId: "u", sessionId: "s")
        let before = Session(
            key: key, state: object(#"{"x": 1}"#), appState: object(#"{"keep": 1, "over": 1}"#),
            userState: object(#"{"u": 1}"#),
            events: [try makeEvent("e1", at: "10.0"), try makeEvent("e2", at: "11.0"), try makeEvent("e3", at: "12.0")],
            createTime: 9, lastUpdateTime: 12)
        var after = before
        after.appState = object(#"{"over": 2, "new": true}"#)
        after.userState = [:]
        after.events = [try makeEvent("e3", at: "12.0", text: "edited"), try makeEvent("e1", at: "12.0")]
        after.lastUpdateTime = 13
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions([before])
                try store.writeSessions([after])
                let read = try #require(try store.fetchSessions([key])[key])
                #expect(read.appState == object(#"{"keep": 1, "over": 2, "new": true}"#))
                #expect(read.userState == object(#"{"u": 1}"#))
                #expect(read.lastUpdateTime == 13)
                // Tied timestamps: SqliteSessionService reads insertion order, DatabaseSessionService id order.
                #expect(read.events.map(\.id) == (layout == .databaseV1 ? ["e1", "e3"] : ["e3", "e1"]))
                #expect(read.events.first { $0.id == "e3" } == after.events[0])
                #expect(try store.fetchStats().events == 2)
            }
        }
    }

    @Test(arguments: layouts)
    func createTimeDefaultsToFirstEventOrLastUpdate(layout: SQLiteSessionStore.NewFileLayout) throws {
        let withEvents = Session(
            key: SessionKey(appName: "a", userId: "u", sessionId: "1"),
            events: [try makeEvent("e", at: "100.5")], lastUpdateTime: 200)
        let withoutEvents = Session(key: SessionKey(appName: "a", userId: "u", sessionId: "2"), lastUpdateTime: 300.25)
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions([withEvents, withoutEvents])
                let read = try store.fetchSessions([withEvents.key, withoutEvents.key])
                #expect(read[withEvents.key]?.createTime == 100.5)
                #expect(read[withoutEvents.key]?.createTime == 300.25)
                #expect(read[withoutEvents.key]?.expiry == nil)
            }
        }
    }

    @Test func sqliteSessionServiceColumnsMatchAdk() throws {
        let sessions = try nastySessions()
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true)) { try $0.writeSessions(sessions) }
            try withConnection(path, mode: .readOnly) { db in
                let row = try db.prepare("SELECT typeof(timestamp), event_data FROM events WHERE id = 'e1 😀'")
                #expect(try row.step())
                #expect(row.text(at: 0) == "real")
                #expect(row.text(at: 1).hasPrefix(#"{"content":{"parts":[{"text":"first é"}],"role":"user"},"invocation_id":"inv-1""#))
                let state = try db.prepare("SELECT state, typeof(update_time) FROM sessions WHERE id = 's 1:2/3 😀'")
                #expect(try state.step())
                #expect(
                    state.text(at: 0).hasPrefix(
                        #"{"nested": {"list": [1, 2.5, {"deep": null}], "flag": true}, "big": 9007199254740993, "one": 1.0, "tiny": 1e-07, "text": "Zo\u00eb \ud83d\ude00"#
                    ))
                #expect(state.text(at: 1) == "real")
                #expect(try db.tableNames() == ["app_states", "events", "sessions", "user_states"])
            }
        }
    }

    @Test func databaseV1ColumnsMatchAdk() throws {
        let sessions = try nastySessions()
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: .databaseV1)) { try $0.writeSessions(sessions) }
            try withConnection(path, mode: .readOnly) { db in
                let row = try db.prepare("SELECT timestamp, event_data FROM events WHERE id = 'e1 😀'")
                #expect(try row.step())
                #expect(row.text(at: 0) == "2023-11-14 22:13:20.500000")
                #expect(row.text(at: 1).hasPrefix(#"{"content": {"parts": [{"text": "first \u00e9"}], "role": "user"}, "invocation_id": "inv-1""#))
                let session = try db.prepare("SELECT create_time, update_time FROM sessions WHERE id = 'empty'")
                #expect(try session.step())
                #expect(session.text(at: 0) == "2020-09-13 12:26:40.000000")
                let empty = try db.prepare("SELECT state FROM user_states WHERE app_name = 'app2'")
                #expect(try empty.step())
                #expect(empty.text(at: 0) == "{}")
            }
        }
    }

    @Test func readingNeverCreatesAFile() throws {
        try withTemporaryPath { path in
            let error = try #require(thrownError { try SQLiteSessionStore.open(path: path, forWriting: false) } as? any DriverError)
            #expect(error.code == .notFound)
            #expect(!FileManager.default.fileExists(atPath: path))
            let direct = try #require(
                thrownError { try SQLiteSessionStore.open(path: path, forWriting: false, createLayout: false, requiring: .sqliteSessionService) }
                    as? any DriverError)
            #expect(direct.code == .notFound)
        }
    }

    @Test func emptyFileReadsAsNoSessions() throws {
        try withTemporaryPath { path in
            try withConnection(path) { _ in }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store throws in
                #expect(try scanAll(store).isEmpty)
                #expect(try store.fetchStats().sessions == 0)
                #expect(try store.fetchSessions([SessionKey(appName: "a", userId: "b", sessionId: "c")]).isEmpty)
            }
            #expect(try withConnection(path) { try $0.tableNames() }.isEmpty)
        }
    }

    @Test func notADatabaseIsCorrupt() throws {
        try withTemporaryPath { path in
            try Data("definitely not sqlite, just some text that is long enough".utf8).write(to: URL(fileURLWithPath: path))
            let error = try #require(thrownError { try SQLiteSessionStore.open(path: path, forWriting: false) } as? any DriverError)
            #expect(error.code == .corrupt)
        }
    }

    @Test func badRowsNameTheirTableAndKey() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute(SpecDDL.sqliteSessionService)
                try db.execute("INSERT INTO sessions VALUES ('a', 'u', 's', '{\"ok\": 1}', 1.0, 2.0)")
                try db.execute("INSERT INTO events VALUES ('e1', 'a', 'u', 's', 'i', 1.5, '{not json')")
            }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                let error = try #require(thrownError { try scanAll(store) } as? SessionDataError)
                #expect(error.location == "events row id='e1' of a/u/s")
                #expect(error.code == .corrupt)
            }
            try withConnection(path) { db in
                try db.execute("DELETE FROM events; UPDATE sessions SET state = '[1]'")
            }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                let error = try #require(thrownError { try store.fetchSessions([SessionKey(appName: "a", userId: "u", sessionId: "s")]) } as? SessionDataError)
                #expect(error.location == "sessions row a/u/s")
            }
        }
    }
}
