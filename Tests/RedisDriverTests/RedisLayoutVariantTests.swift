import DriverCore
import Foundation
import SessionModel
import Testing

@testable import RedisDriver

/// google-adk-redis ≤ 0.1.4's per-user strings and the community index set with one colon
/// (databases 1, 4, 9 and 18 belong to these tests; docs/TESTING.md lists every suite's).
@Suite(.serialized, .enabled(if: TestRedis.isAvailable))
struct RedisLayoutVariantTests {
    @Test func userStringsHoldEverySessionOfAUserAsJsonDumps() throws {
        try TestRedis.withEmptyDatabase(1) { connection in
            try TestRedis.withStore(1, layout: .adkRedis014) { store in
                let first = try Samples.richSession(id: "s1", expiry: Samples.fromNow(600))
                let second = try Samples.richSession(id: "s2", expiry: Samples.fromNow(900))
                let other = try Samples.richSession(id: "s3", user: "u2", expiry: .never)
                try store.writeSessions([first, other])
                try store.writeSessions([second])
                let raw = try #require(try connection.run(["GET", "app:app1:u1"]).text)
                // The user's string is json.dumps({id: session}); each member is the 0.1.5 blob.
                let blob1 = String(decoding: SessionBlobCodec.encode(first, layout: .adkRedis), as: UTF8.self)
                let blob2 = String(decoding: SessionBlobCodec.encode(second, layout: .adkRedis), as: UTF8.self)
                #expect(raw == "{\"s1\": \(blob1), \"s2\": \(blob2)}")
                #expect(try connection.run(["TYPE", "app:app1:u2"]) == .status("string"))
                #expect(try connection.run(["PTTL", "app:app1:u2"]) == .integer(-1))
                let pttl = try #require(try connection.run(["PTTL", "app:app1:u1"]).integer)
                #expect(pttl > 600_000, "the string outlives every session written into it")
                let read = try store.fetchSessions([first.key, second.key, other.key])
                // The user's string holds the TTL (as PEXPIREAT, read back as PTTL from now: it may drift by a millisecond).
                var readSecond = try #require(read[second.key])
                guard case .at(let readAt)? = readSecond.expiry, case .at(let wroteAt)? = second.expiry else {
                    Issue.record("expiry: \(String(describing: readSecond.expiry))")
                    return
                }
                #expect(abs(readAt - wroteAt) < 0.01)
                readSecond.expiry = second.expiry
                #expect(readSecond == second)
                #expect(read[other.key] == other)
                #expect(read[first.key]?.events == first.events)
                let cursor = try store.scanSessions(SessionQuery(batchSize: 1))
                var scanned: [SessionKey] = []
                while let session = try cursor.next() { scanned.append(session.key) }
                #expect(Set(scanned) == [first.key, second.key, other.key])
                #expect(try store.fetchStats().sessions == 3)
                #expect(try RedisSessionStore.detectLayout(store.keyspace) == .known(.adkRedis014))
            }
        }
    }

    @Test func userStringWritesMergeAndAreFenced() throws {
        try TestRedis.withEmptyDatabase(4) { connection in
            try TestRedis.withStore(4, layout: .adkRedis014) { store in
                let first = try Samples.richSession(id: "s1", expiry: .never)
                try store.writeSessions([first])
                let version = try #require(try store.fetchVersionedSessions([first.key])[first.key]).version
                // The bot (0.1.4) adds another session of the same user meanwhile.
                let raw = try #require(try connection.run(["GET", "app:app1:u1"]).text)
                let botBlob = String(decoding: SessionBlobCodec.encode(try Samples.richSession(id: "bot", expiry: .never), layout: .adkRedis), as: UTF8.self)
                let withBot = String(raw.dropLast()) + ", \"bot\": \(botBlob)}"
                try connection.run(["SET", "app:app1:u1", withBot])
                let changed = try RedisFenceTests.adding("ours", at: 1_700_000_050, to: first)
                #expect(try store.writeSessions(fenced: [FencedWrite(session: changed, expected: version)]) == [first.key], "the string changed: refused")
                #expect(try connection.run(["GET", "app:app1:u1"]).text == withBot)
                #expect(try store.writeSessions(fenced: [FencedWrite(session: changed, expected: nil)]) == [first.key], "s1 exists")
                let fresh = try #require(try store.fetchVersionedSessions([first.key])[first.key]).version
                #expect(try store.writeSessions(fenced: [FencedWrite(session: changed, expected: fresh)]).isEmpty)
                let after = try #require(try connection.run(["GET", "app:app1:u1"]).text)
                #expect(after.contains("\"bot\": \(botBlob)"), "another session of the same user is kept byte for byte")
                #expect(try store.fetchSessions([changed.key])[changed.key]?.events == changed.events)
                let third = try Samples.richSession(id: "s3", expiry: .never)
                #expect(try store.writeSessions(fenced: [FencedWrite(session: third, expected: nil)]).isEmpty)
                try store.deleteSessions([first.key])
                let keys = try store.fetchSessions([first.key, third.key, SessionKey(appName: "app1", userId: "u1", sessionId: "bot")]).keys
                #expect(Set(keys.map(\.sessionId)) == ["s3", "bot"])
            }
        }
    }

    @Test func communityWithASingleColonSet() throws {
        try TestRedis.withEmptyDatabase(9) { connection in
            try TestRedis.withStore(9, layout: .communitySet1) { store in
                let first = try Samples.richSession(id: "s1", expiry: Samples.fromNow(600))
                try store.writeSessions([first])
                _ = try store.writeSessions(fenced: [FencedWrite(session: try Samples.richSession(id: "s2", expiry: .never), expected: nil)])
                #expect(try connection.run(["TYPE", "app:app1:u1"]) == .status("set"))
                #expect(try connection.run(["EXISTS", "app::app1:u1"]) == .integer(0))
                #expect(try connection.run(["PTTL", "app:app1:u1"]) == .integer(-1), "a persistent member keeps the set persistent")
                let scoped = try store.scanSessions(SessionQuery(scope: SessionScope(apps: ["app1"], users: ["u1"]), batchSize: 5))
                var ids: [String] = []
                while let session = try scoped.next() { ids.append(session.key.sessionId) }
                #expect(ids.sorted() == ["s1", "s2"])
                #expect(try RedisSessionStore.detectLayout(store.keyspace) == .known(.communitySet1))
                // Refused as the other community variant once its set exists.
                try connection.run(["SADD", "app::app1:u9", "s1"])
                #expect { try RedisSessionStore.detectLayout(store.keyspace) } throws: {
                    "\($0)".contains("mixed layouts") && "\($0)".contains("app::app1:u9") && "\($0)".contains("app:app1:u1")
                }
            }
        }
    }

    @Test func mixedLayoutsAndWrongTypesAreNamed() throws {
        try TestRedis.withEmptyDatabase(18) { connection in
            try TestRedis.withStore(18, layout: .adkRedis014) { store in
                try store.writeSessions([try Samples.richSession(id: "s1", expiry: .never)])
            }
            let communityBlob = SessionBlobCodec.encode(try Samples.richSession(id: "c1", user: "u5", expiry: .never), layout: .community)
            try connection.run(["SET", "session:c1", String(decoding: communityBlob, as: UTF8.self)])
            try TestRedis.withStore(18, layout: .adkRedis014) { store in
                #expect { try RedisSessionStore.detectLayout(store.keyspace) } throws: { error in
                    let text = "\(error)"
                    return text.contains("mixed layouts") && text.contains("app:app1:u1") && text.contains("0.1.4") && text.contains("session:c1")
                }
                // The community-set1 index name holds a 0.1.4 string: named with both types.
                let config = try TestRedis.config(database: 18, layout: .communitySet1)
                let set1 = try RedisSessionStore(
                    keyspace: RedisSessionStore.openKeyspace(config, passwordProvider: nil), config: config, layoutState: .known(.communitySet1))
                defer { try? set1.close() }
                #expect { try set1.scanSessions(SessionQuery(scope: SessionScope(apps: ["app1"], users: ["u1"]))) } throws: { error in
                    let text = "\(error)"
                    return text.contains("app:app1:u1") && text.contains("expected a set") && text.contains("found a string")
                }
                #expect { try set1.checkRecognisedForWriting() } throws: { "\($0)".contains("found a string") }
            }
            try connection.run(["FLUSHDB"])
            try connection.run(["HSET", "session:h1", "a", "b"])
            try connection.run([
                "SET", "session:s2",
                String(decoding: SessionBlobCodec.encode(try Samples.richSession(id: "s2", expiry: .never), layout: .community), as: UTF8.self),
            ])
            try TestRedis.withStore(18, layout: .community) { store in
                #expect { try store.fetchSessions([SessionKey(appName: "app1", userId: "u1", sessionId: "h1")]) } throws: { error in
                    let text = "\(error)"
                    return text.contains("session:h1") && text.contains("expected a string") && text.contains("found a hash")
                }
            }
        }
    }
}
