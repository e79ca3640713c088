import DriverCore
import Foundation
import SessionModel
import Testing

@testable import RedisDriver

/// Databases 20–23, 44–46 and 49 belong to these tests (docs/TESTING.md lists every suite's).
@Suite(.enabled(if: TestRedis.isAvailable))
struct RedisStoreTests {
    /// Reads all sessions through `scanSessions` with a tiny batch size.
    private func scanAll(_ store: RedisSessionStore, batchSize: Int = 2) throws -> [SessionKey: Session] {
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
        var result: [SessionKey: Session] = [:]
        while let session = try cursor.next() { result[session.key] = session }
        return result
    }

    private func expectSameExceptExpiry(_ read: Session?, _ written: Session, sourceLocation: SourceLocation = #_sourceLocation) {
        guard var read else {
            Issue.record("session \(written.key) not found", sourceLocation: sourceLocation)
            return
        }
        read.expiry = written.expiry
        #expect(read == written, sourceLocation: sourceLocation)
    }

    private func expectExpiry(_ expiry: SessionExpiry?, near seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .at(let at)? = expiry else {
            Issue.record("expected an expiry, got \(String(describing: expiry))", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(at - seconds) < 2, sourceLocation: sourceLocation)
    }

    @Test(arguments: [(RedisLayout.community, 20), (.adkRedis, 21)])
    func roundTrip(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            let persistent = try Samples.richSession(id: "s-never", expiry: .never)
            let timedAt = ((Date().timeIntervalSince1970 + 600) * 1000).rounded() / 1000
            let timed = try Samples.richSession(id: "s-timed", user: "u2", expiry: .at(timedAt))
            let defaulted = try Samples.richSession(id: "s-default", app: "app2", expiry: nil)
            try TestRedis.withStore(database, layout: layout) { store in
                #expect(store.layout == StoreLayout(kind: "redis", name: layout.rawValue))
                try store.writeSessions([persistent, timed, defaulted])
                let all = try scanAll(store)
                #expect(all.count == 3)
                expectSameExceptExpiry(all[persistent.key], persistent)
                expectSameExceptExpiry(all[timed.key], timed)
                #expect(all[persistent.key]?.expiry == .never)
                expectExpiry(all[timed.key]?.expiry, near: timedAt)
                expectExpiry(all[defaulted.key]?.expiry, near: Date().timeIntervalSince1970 + 3600)
                var expected = defaulted
                expected.expiry = all[defaulted.key]?.expiry
                #expect(all[defaulted.key] == expected)

                let missing = SessionKey(appName: "app1", userId: "other-user", sessionId: "s-never")
                let fetched = try store.fetchSessions([persistent.key, timed.key, missing])
                #expect(Set(fetched.keys) == [persistent.key, timed.key])
                expectSameExceptExpiry(fetched[timed.key], timed)

                let stats = try store.fetchStats()
                #expect(stats.sessions == 3 && stats.events == 9)
                #expect(stats.appStates == 2 && stats.userStates == 3)
                #expect(stats.oldestUpdateTime == 1700000002.0 && stats.newestUpdateTime == 1700000002.0)
            }
            let blob = try connection.run(["GET", layout.sessionKey(persistent.key)]).text ?? ""
            switch layout {
            case .community:
                #expect(
                    blob.hasPrefix(
                        #"{"id":"s-never","app_name":"app1","user_id":"u1","state":{"count":1,"nul":null,"f":1e-7,"user:orphan":"kept","app:theme":"light","user:lang":"de","user:name":"Zoë"},"events":[{"content":"#
                    ))
                #expect(blob.contains(#""data":"+//+AA==""#) && blob.hasSuffix(#""last_update_time":1700000002.0}"#))
                #expect(try connection.run(["SMEMBERS", "app::app1:u1"]) == .array([.string(Array("s-never".utf8))]))
                #expect(try connection.run(["PTTL", "app::app1:u1"]) == .integer(-1))
                #expect(try connection.run(["PEXPIRETIME", "app::app1:u2"]).integer.map { abs(Double($0) / 1000 - timedAt) < 0.01 } == true)
                #expect(try connection.run(["HGET", "user:app1:u1", "name"]).text == #""Zoë""#)
            case .adkRedis:
                #expect(
                    blob.hasPrefix(
                        #"{"id": "s-never", "app_name": "app1", "user_id": "u1", "state": {"count": 1, "nul": null, "f": 1e-07, "user:orphan": "kept"}, "events": [{"content": "#
                    ))
                #expect(blob.contains(#""data": "-__-AA==""#) && blob.hasSuffix(#""last_update_time": 1700000002.0}"#))
                #expect(try connection.run(["EXISTS", "app::app1:u1"]) == .integer(0))
                #expect(try connection.run(["HGET", "user:app1:u1", "name"]).text == #""Zo\u00eb""#)
            case .communitySet1, .adkRedis014:
                Issue.record("not among this test's layouts (RedisLayoutVariantTests)")
            }
            #expect(try connection.run(["PTTL", layout.sessionKey(persistent.key)]) == .integer(-1))
        }
    }

    @Test(arguments: [(RedisLayout.community, 22), (.adkRedis, 23)])
    func writingTwiceLeavesIdenticalBytes(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            let sessions = [
                try Samples.richSession(id: "a", expiry: .never),
                try Samples.richSession(id: "b", expiry: Samples.fromNow(900)),
                try Samples.richSession(id: "c", user: "u2", expiry: Samples.fromNow(300)),
                try Samples.richSession(id: "d", user: "u2", expiry: Samples.fromNow(1200)),
            ]
            try TestRedis.withStore(database, layout: layout) { try $0.writeSessions(sessions) }
            let first = try connection.snapshot()
            try TestRedis.withStore(database, layout: layout) { try $0.writeSessions(sessions) }
            #expect(try connection.snapshot() == first)
            // Read back and write again: still identical.
            let read = try TestRedis.withStore(database) { store in try scanAll(store, batchSize: 3) }
            try TestRedis.withStore(database) { try $0.writeSessions(sessions.compactMap { read[$0.key] }) }
            let again = try connection.snapshot()
            #expect(again.count == first.count)
            for (key, value) in first {
                // Read-back expiries are exact to the millisecond except for PTTL rounding.
                let old = value.split(separator: " ", maxSplits: 2), new = (again[key] ?? "").split(separator: " ", maxSplits: 2)
                #expect(old.count == 3 && new.count == 3 && old[0] == new[0] && old[2] == new[2], "\(key)")
                if let a = Int(old[1]), let b = Int(new[1]) { #expect(abs(a - b) < 50, "\(key)") }
            }
            if layout == .community {
                #expect(first["app::app1:u2"]?.contains(" s") == false)
            }
        }
    }

    @Test func detectsTheLayout() throws {
        try TestRedis.withEmptyDatabase(44) { connection in
            try TestRedis.withStore(44) { store in
                #expect(store.layout.name == "empty")
                #expect(try scanAll(store).isEmpty)
                #expect(try store.fetchSessions([SessionKey(appName: "a", userId: "u", sessionId: "s")]).isEmpty)
                let error = try #require(throws: RedisError.self) {
                    try store.writeSessions([try Samples.richSession(id: "x", expiry: nil)])
                }
                #expect(error.code == .unsupported && error.description.contains("?layout=community"))
            }
            try connection.run(["SET", "session:s1", ADKFixtures.communityBlob])
            try TestRedis.withStore(44) { #expect($0.layout.name == "community") }
            try connection.run(["DEL", "session:s1"])
            try connection.run(["SET", "session:app1:u1:s1", ADKFixtures.adkRedisBlob])
            try TestRedis.withStore(44) { #expect($0.layout.name == "adk-redis") }
            try connection.run(["SET", "session:s1", ADKFixtures.communityBlob])
            let mixed = try #require(throws: RedisError.self) { try RedisSessionStore.open(TestRedis.config(database: 44)) }
            #expect(mixed.description.contains("mixed layouts"))
            // An explicit layout reads, and names the foreign key when it meets it.
            try TestRedis.withStore(44, layout: .community) { store in
                let error = try #require(throws: SessionDataError.self) { try scanAll(store) }
                #expect(error.location == "session:app1:u1:s1" && error.message.contains("mixed layouts"))
            }
        }
    }

    @Test(arguments: [(RedisLayout.community, 45), (.adkRedis, 46)])
    func readsWhatTheRealServicesWrote(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            switch layout {
            case .community:
                try connection.run(["SET", "session:s1", ADKFixtures.communityBlob, "EX", "3600"])
                try connection.run(["SADD", "app::app1:u1", "s1"])
                try connection.run(["HSET", "app:app1", "theme", #""light""#])
                try connection.run(["HSET", "user:app1:u1", "lang", #""de""#])
            case .adkRedis:
                try connection.run(["SET", "session:app1:u1:s1", ADKFixtures.adkRedisBlob, "EX", "3600"])
                try connection.run(["HSET", "app:app1", "theme", #""light""#])
                try connection.run(["HSET", "user:app1:u1", "name", #""Zo\u00eb""#, "lang", #""de""#])
            case .communitySet1, .adkRedis014:
                Issue.record("not among this test's layouts (RedisLayoutVariantTests)")
            }
            try TestRedis.withStore(database) { store in
                #expect(store.layout.name == layout.rawValue)
                let sessions = try scanAll(store)
                let session = try #require(sessions[SessionKey(appName: "app1", userId: "u1", sessionId: "s1")])
                #expect(
                    session.events.map { $0.data.serialized(.python) }
                        == [ADKFixtures.expectedEvent1, ADKFixtures.expectedEvent2, ADKFixtures.expectedEvent3])
                // Community keeps user:name in the session: create_session never wrote it to the hash.
                let state =
                    layout == .community
                    ? #"{"user:name": "Zo\u00eb", "count": 1, "nul": null, "f": 1e-07, "g": 2.5e-05}"#
                    : #"{"count": 1, "nul": null, "f": 1e-07, "g": 2.5e-05}"#
                #expect(JSONValue.object(session.state).serialized(.python) == state)
                #expect(session.appState == ["theme": .string("light")])
                #expect(session.userState["lang"] == .string("de"))
                #expect(session.createTime == nil && session.lastUpdateTime == 1700000002.0)
                expectExpiry(session.expiry, near: Date().timeIntervalSince1970 + 3600)
                // What ADK's get_session returns, up to key order.
                let adk = try JSONValue.parseObject(
                    #"{"app:theme": "light", "user:name": "Zo\u00eb", "count": 1, "user:lang": "de", "nul": null, "f": 1e-07, "g": 2.5e-05}"#)
                #expect(session.mergedState.isEquivalent(to: adk))
            }
        }
    }

    @Test func badBlobsNameTheirKey() throws {
        try TestRedis.withEmptyDatabase(49) { connection in
            for (key, value, hint) in [
                ("session:bad", "not json", "not JSON"),
                ("session:bad", #"{"id": "bad", "app_name": "a", "user_id": "u", "state": {}, "last_update_time": 1.0}"#, "events"),
                ("session:bad", #"{"id":"bad","app_name":"a","user_id":"u","state":{},"events":[{"timestamp":1.0}],"last_update_time":1.0}"#, "event #0"),
                ("session:bad", #"{"id":"other","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":1.0}"#, "neither layout"),
            ] {
                try connection.run(["DEL", key])
                try connection.run(["SET", key, value])
                try TestRedis.withStore(49, layout: .community) { store in
                    let error = try #require(throws: SessionDataError.self) { try scanAll(store) }
                    #expect(error.location == key && error.message.contains(hint), "\(error)")
                    #expect(!error.description.contains("not json"))
                }
            }
            try connection.run(["DEL", "session:bad"])
            try connection.run(["RPUSH", "session:list", "x"])
            try TestRedis.withStore(49, layout: .community) { store in
                let error = try #require(throws: SessionDataError.self) { try scanAll(store) }
                #expect(error.location == "session:list" && error.message.contains("expected a string (a session blob), found a list"), "\(error)")
            }
        }
    }
}
