import DriverCore
import SessionModel
import Testing

@testable import MySQLDriver

@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLSessionStoreTests {
    /// Sessions covering the awkward cases; app state is split over two sessions of one app.
    static func sample() throws -> [Session] {
        let big = try Fixture.session(
            "app 1", "user:é", "s 1:😀",
            state: """
                {"nested": {"list": [1, 2.5, null, true, "x"], "deep": {"k": "v"}}, "big": 9223372036854775807, \
                "huge": 123456789012345678901234567890, "floats": [1.0, 1e-07, 0.30000000000000004, 1.5e+300], \
                "text": "Zo\\u00eb / \\ud83e\\udd86"}
                """,
            app: #"{"theme": "dark"}"#, user: #"{"lang": "fr"}"#,
            events: [
                try Fixture.event(
                    "e1", at: 1_700_000_000.123456, text: "héllo 😀", delta: #"{"count": 1, "app:theme": "dark"}"#),
                try Fixture.event("tie-a", at: 1_700_000_001.5),
                try Fixture.event("tie-b", at: 1_700_000_001.5),
                try Fixture.event("tie-c", at: 1_700_000_001.5),
            ])
        let empty = try Fixture.session(
            "app 1", "user:é", "no events", app: #"{"tier": 2}"#, created: nil, updated: 1_700_000_100.000001)
        let long = try Fixture.session(
            "app 2", "u'2", "long \\ session",
            events: try (0..<300).map {
                try Fixture.event("ev" + String(1000 + $0).dropFirst(), at: 1_700_001_000 + Double($0) / 8)
            })
        return [big, empty, long]
    }

    @Test func roundTripKeepsEverything() throws {
        try MySQLTestServer.withDatabase("roundtrip") { config, _ throws in
            try MySQLTestServer.withStore(config) { store throws in
                var sessions = try Self.sample()
                // Tied timestamps are stored in any order and read back ordered by id.
                let tied = sessions[0].events
                sessions[0].events = [tied[0], tied[2], tied[3], tied[1]]
                try store.writeSessions(sessions)
                let expected = try Self.sample()

                for batchSize in [1, 2, 200] {
                    let read = try MySQLTestServer.all(store, batchSize: batchSize)
                    #expect(
                        read.map(\.key)
                            == [expected[0].key, expected[1].key, expected[2].key].sorted { a, b in
                                (a.appName, a.userId, a.sessionId) < (b.appName, b.userId, b.sessionId)
                            })
                    let byKey = Dictionary(uniqueKeysWithValues: read.map { ($0.key, $0) })
                    for session in expected {
                        let got = try #require(byKey[session.key])
                        #expect(got.state == session.state)
                        #expect(got.events == session.events)
                        #expect(got.lastUpdateTime == session.lastUpdateTime)
                        #expect(got.createTime == DatabaseV1Codec.createTime(of: session))
                        #expect(got.expiry == nil)
                    }
                    let app1 = try #require(byKey[expected[0].key]).appState
                    #expect(app1 == (try Fixture.object(#"{"theme": "dark", "tier": 2}"#)))
                    #expect(try #require(byKey[expected[0].key]).userState == (try Fixture.object(#"{"lang": "fr"}"#)))
                    #expect(try #require(byKey[expected[2].key]).appState.isEmpty)
                }
                let missing = SessionKey(appName: "app 1", userId: "user:é", sessionId: "nope")
                let fetched = try store.fetchSessions([expected[2].key, missing, expected[0].key])
                #expect(Set(fetched.keys) == [expected[2].key, expected[0].key])
                #expect(fetched[expected[2].key]?.events.count == 300)
            }
        }
    }

    @Test func writingTwiceLeavesEveryRowIdentical() throws {
        try MySQLTestServer.withDatabase("twice") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let sessions = try Self.sample()
                try store.writeSessions(sessions)
                let once = try MySQLTestServer.dump(connection)
                try store.writeSessions(sessions)
                try store.writeSessions(Array(sessions.reversed()))
                #expect(try MySQLTestServer.dump(connection) == once)
                // The DSS text is Python's json.dumps.
                let state = try connection.query("SELECT state FROM app_states WHERE app_name = 'app 1'").collect()
                #expect(state == [[#"{"theme": "dark", "tier": 2}"#]])
                let data = try connection.query("SELECT event_data FROM events WHERE id = 'e1'").collect()
                #expect(data.first?.first??.contains(#""text": "h\u00e9llo \ud83d\ude00""#) == true)

                // Rewriting a session with fewer events deletes the others; state merges, never deletes.
                var changed = sessions[2]
                changed.events = Array(changed.events.prefix(10))
                changed.appState = try Fixture.object(#"{"new": true}"#)
                try store.writeSessions([changed])
                let stats = try store.fetchStats()
                #expect(stats.events == 4 + 10)
                let reread = try #require(try store.fetchSessions([changed.key])[changed.key])
                #expect(reread.events == changed.events)
                #expect(reread.appState == (try Fixture.object(#"{"new": true}"#)))
                let apps = try connection.query("SELECT app_name, state FROM app_states ORDER BY app_name").collect()
                #expect(apps == [["app 1", #"{"theme": "dark", "tier": 2}"#], ["app 2", #"{"new": true}"#]])
            }
        }
    }

    @Test func statsCountEveryTable() throws {
        try MySQLTestServer.withDatabase("stats") { config, _ throws in
            try MySQLTestServer.withStore(config) { store throws in
                let empty = try store.fetchStats()
                #expect(empty.sessions == 0 && empty.events == 0 && empty.oldestUpdateTime == nil)
                try store.writeSessions(try Self.sample())
                let stats = try store.fetchStats()
                #expect(stats.layout.name == "database-v1")
                #expect([stats.sessions, stats.events, stats.appStates, stats.userStates] == [3, 304, 2, 2])
                #expect(stats.oldestUpdateTime == 1_700_000_001.5)
                #expect(stats.newestUpdateTime == 1_700_001_000 + 299.0 / 8)
            }
        }
    }

    @Test func badRowsNameTheirLocation() throws {
        try MySQLTestServer.withDatabase("badrows") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let event = try Fixture.event("e1", at: 1_700_000_000)
                try store.writeSessions([try Fixture.session("a", "u", "s", events: [event])])
                try connection.execute("UPDATE events SET event_data = 'not json' WHERE id = 'e1'")
                let bad = try #require(throws: SessionDataError.self) { try MySQLTestServer.all(store) }
                #expect(bad.location.contains("e1") && bad.location.contains("a/u/s"))
                try connection.execute("UPDATE sessions SET state = '[1, 2]'")
                let state = try #require(throws: SessionDataError.self) {
                    try store.fetchSessions([SessionKey(appName: "a", userId: "u", sessionId: "s")])
                }
                #expect(state.location.contains("sessions row a/u/s"))
                #expect(!String(describing: state).contains("[1, 2]"))
            }
        }
    }

    @Test func collationTwinsAreRefusedNotMerged() throws {
        try MySQLTestServer.withDatabase("twins", collation: "utf8mb4_unicode_ci") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let first = try Fixture.session("a", "u", "s😀", state: #"{"n": 1}"#)
                try store.writeSessions([first])
                for twin in ["s🎉", "S😀", "s😀 "] {
                    let error = try #require(throws: MySQLError.self) {
                        try store.writeSessions([try Fixture.session("a", "u", twin, state: #"{"n": 2}"#)])
                    }
                    #expect(error.code == .constraint)
                }
                #expect(try connection.query("SELECT id, state FROM sessions").collect() == [["s😀", #"{"n": 1}"#]])
            }
        }
    }

    /// A rewrite whose event id is canonically equal to the stored one (`é` against `e` + U+0301) but
    /// other bytes replaces it: the stale check compared ids as Swift strings and kept the old row.
    @Test(arguments: ["utf8mb4_bin", "utf8mb4_unicode_ci"])
    func rewritingWithAnEquivalentButOtherEventIdReplacesIt(collation: String) throws {
        // A database per case: the cases run in parallel.
        try MySQLTestServer.withDatabase("eqids_\(collation.hasSuffix("_bin") ? "bin" : "ci")", collation: collation) { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let composed = try Fixture.session("a", "u", "s", events: [try Fixture.event("caf\u{E9}", at: 1_700_000_000)])
                var decomposed = composed
                decomposed.events = [try Fixture.event("cafe\u{301}", at: 1_700_000_000)]
                try store.writeSessions([composed])
                try store.writeSessions([decomposed])
                let ids = try connection.query("SELECT id FROM events").collect().map { $0[0] ?? "" }
                #expect(ids.count == 1 && ids.first?.isExactly("cafe\u{301}") == true)
            }
        }
    }

    @Test func bigSessionIsSplitAcrossStatements() throws {
        try MySQLTestServer.withDatabase("big") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let text = String(repeating: "é𝄞x", count: 4_000)  // ≈ 76 KB of event_data each, ≈ 6 MB in all
                let events = try (0..<80).map {
                    try Fixture.event("big\($0)", at: 1_700_000_000 + Double($0), text: text)
                }
                let session = try Fixture.session("a", "u", "big", events: events)
                try store.writeSessions([session])
                let once = try MySQLTestServer.dump(connection)
                try store.writeSessions([session])
                #expect(try MySQLTestServer.dump(connection) == once)
                let read = try #require(try store.fetchSessions([session.key])[session.key])
                #expect(read.events == events)
            }
        }
    }

    @Test func readOnlyStoreRefusesWrites() throws {
        try MySQLTestServer.withDatabase("readonly") { config, _ throws in
            try MySQLTestServer.withStore(config, forWriting: false) { store throws in
                let error = try #require(throws: MySQLError.self) { try store.writeSessions([]) }
                #expect(error.code == .unsupported)
            }
        }
    }
}
