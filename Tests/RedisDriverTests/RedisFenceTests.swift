import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import RedisDriver

@Suite struct RedisSHA1Tests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
        (String(repeating: "a", count: 1_000_000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
    ])
    func knownDigests(text: String, hex: String) {
        #expect(RedisSHA1.hex(of: Array(text.utf8)) == hex)
    }

    /// The version computed here must be what the script computes with `redis.sha1hex`.
    @Test(.enabled(if: TestRedis.isAvailable))
    func sameAsRedisSHA1Hex() throws {
        let config = try TestRedis.config(database: 10)
        let connection = try RedisConnection.open(config.endpoint, options: config.connectionOptions)
        defer { connection.close() }
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...130) + [1000, 65_536, 100_003] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let reply = try connection.pipeline([["EVAL", "return redis.sha1hex(ARGV[1])", "0"].map { Array($0.utf8) } + [bytes]])[0]
            #expect(reply.text == RedisSHA1.hex(of: bytes), "length \(length)")
        }
    }
}

/// Fenced writes in Redis (docs/DESIGN.md "Fencing"), both layouts; listed-but-missing sessions;
/// the race against the real google-adk-redis and google-adk-community services.
/// Redis databases 10–17 belong to these tests.
@Suite(.enabled(if: TestRedis.isAvailable))
struct RedisFenceTests {
    static func adding(_ id: String, at time: Double, to session: Session) throws -> Session {
        var copy = session
        copy.events.append(
            try Samples.event(
                #"{"content": {"parts": [{"text": "fenced"}], "role": "user"}, "invocation_id": "inv-f", "author": "user", "#
                    + #""actions": {"state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {}, "requested_tool_confirmations": {}}, "#
                    + #""id": "\#(id)", "timestamp": \#(JSONNumber(time).literal)}"#))
        copy.lastUpdateTime = time
        copy.appState = ["fenced": .string(id)]
        copy.userState = ["fenced": .string(id)]
        return copy
    }

    @Test(arguments: [(RedisLayout.community, 10), (.adkRedis, 11)])
    func staleWriteIsRefusedAndWritesNothing(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            try TestRedis.withStore(database, layout: layout) { store in
                let first = try Samples.richSession(id: "s1", expiry: .never)
                let second = try Samples.richSession(id: "s2", app: "app2", user: "u2", expiry: Samples.fromNow(600))
                try store.writeSessions([first, second])
                let read = try store.fetchVersionedSessions([first.key, second.key])
                let old = try #require(read[first.key])
                let blob = try #require(try connection.run(["GET", layout.sessionKey(first.key)]).bytes)
                #expect(old.version.token == RedisSHA1.hex(of: blob))
                #expect(old.session == (try store.fetchSessions([first.key]))[first.key])
                // The bot appends meanwhile.
                try store.writeSessions([try Self.adding("bot", at: 1_700_000_010, to: old.session)])
                let before = try connection.snapshot()

                let stale = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: old.session), expected: old.version)
                #expect(try store.writeSessions(fenced: [stale]) == [first.key])
                #expect(try connection.snapshot() == before, "a refused write changed a key")

                let current = try #require(read[second.key])
                let fresh = FencedWrite(session: try Self.adding("b2", at: 1_700_000_030, to: current.session), expected: current.version)
                #expect(try store.writeSessions(fenced: [stale, fresh]) == [first.key])
                let after = try store.fetchSessions([first.key, second.key])
                #expect(after[first.key]?.events.last?.id == "bot")
                #expect(after[second.key]?.events.last?.id == "b2")
                #expect(after[second.key]?.userState["fenced"] == .string("b2"))
                #expect(after[second.key]?.appState["fenced"] == .string("b2"))
                let ttl = try #require(try connection.run(["PEXPIRETIME", layout.sessionKey(second.key)]).integer)
                guard case .at(let expiry)? = second.expiry else { return }
                #expect(abs(Double(ttl) / 1000 - expiry) < 0.01, "the expiry was not written with the blob")

                let now = try #require(try store.fetchVersionedSessions([first.key])[first.key])
                let replanned = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: now.session), expected: now.version)
                #expect(try store.writeSessions(fenced: [replanned]).isEmpty)
                #expect(try store.fetchSessions([first.key])[first.key]?.events.suffix(2).map(\.id) == ["bot", "ours"])
                #expect(try connection.run(["PTTL", layout.sessionKey(first.key)]) == .integer(-1))
            }
        }
    }

    @Test(arguments: [(RedisLayout.community, 12), (.adkRedis, 13)])
    func expectingNoSessionCreatesOnlyMissingOnes(layout: RedisLayout, database: Int) throws {
        try TestRedis.withEmptyDatabase(database) { connection in
            try TestRedis.withStore(database, layout: layout) { store in
                let first = try Samples.richSession(id: "s1", expiry: .never)
                let second = try Samples.richSession(id: "s2", user: "u2", expiry: .never)
                try store.writeSessions([first])
                let before = try connection.snapshot()
                let existing = FencedWrite(session: try Self.adding("x", at: 1_700_000_040, to: first), expected: nil)
                #expect(try store.writeSessions(fenced: [existing]) == [first.key])
                #expect(try connection.snapshot() == before)
                #expect(try store.writeSessions(fenced: [existing, FencedWrite(session: second, expected: nil)]) == [first.key])
                #expect(try store.fetchSessions([second.key])[second.key] == second)
                if layout == .community {
                    #expect(try connection.run(["SMEMBERS", "app::app1:u2"]) == .array([.string(Array("s2".utf8))]))
                    // Community keys sessions by id alone: another user's session under the same id is
                    // never overwritten, and the write is rejected by name (it can never succeed).
                    let sameId = try Samples.richSession(id: "s2", user: "u3", expiry: .never)
                    let snapshot = try connection.snapshot()
                    let error = try #require(throws: SessionRejectedError.self) {
                        _ = try store.writeSessions(fenced: [FencedWrite(session: sameId, expected: nil)])
                    }
                    #expect(error.key == sameId.key && error.description.contains("same id"))
                    #expect(try connection.snapshot() == snapshot)
                }
                let version = try #require(try store.fetchVersionedSessions([second.key])[second.key]).version
                try store.deleteSessions([second.key])
                #expect(try store.writeSessions(fenced: [FencedWrite(session: second, expected: version)]) == [second.key])
                #expect(try store.fetchSessions([second.key]).isEmpty)
            }
        }
    }

    /// A server that forgot the script (`SCRIPT FLUSH`, a restart, a failover) answers `NOSCRIPT`:
    /// the scripts of that batch run again with `EVAL`.
    @Test func forgottenScriptIsSentAgain() throws {
        try TestRedis.withEmptyDatabase(14) { connection in
            try TestRedis.withStore(14, layout: .adkRedis) { store in
                let session = try Samples.richSession(id: "s1", expiry: .never)
                let other = try Samples.richSession(id: "s2", expiry: .never)
                #expect(try store.writeSessions(fenced: [session, other].map { FencedWrite(session: $0, expected: nil) }).isEmpty)
                try connection.expectOK(connection.command(["SCRIPT", "FLUSH"]), context: "SCRIPT FLUSH")
                let read = try #require(try store.fetchVersionedSessions([session.key])[session.key])
                let next = FencedWrite(session: try Self.adding("e", at: 1_700_000_050, to: read.session), expected: read.version)
                #expect(try store.writeSessions(fenced: [next, FencedWrite(session: other, expected: nil)]) == [other.key])
                #expect(try store.fetchSessions([session.key])[session.key]?.events.last?.id == "e")
                #expect(try connection.run(["SCRIPT", "EXISTS", RedisSessionStore.fenceScriptSHA]) == .array([.integer(1)]))
            }
        }
    }

    /// A community index set may list ids whose blob expired or was deleted: they are passed over
    /// and counted, never an error.
    @Test func listedButMissingSessionsArePassedOverAndCounted() throws {
        try TestRedis.withEmptyDatabase(15) { connection in
            try TestRedis.withStore(15, layout: .community) { store in
                let kept = try Samples.richSession(id: "kept", expiry: .never)
                let expiring = try Samples.richSession(id: "expiring", expiry: .never)
                try store.writeSessions([kept, expiring])
                try connection.run(["SADD", "app::app1:u1", "ghost"])
                try connection.run(["PEXPIRE", "session:expiring", "1"])
                Thread.sleep(forTimeInterval: 0.05)
                for batchSize in [1, 200] {
                    let cursor = try store.scanSessions(SessionQuery(scope: SessionScope(apps: ["app1"], users: ["u1"]), batchSize: batchSize))
                    var read: [SessionKey] = []
                    while let session = try cursor.next() { read.append(session.key) }
                    #expect(read == [kept.key])
                    #expect(cursor.takeSkipped().isEmpty)
                }
                #expect(store.listedSessionsMissing == 4)
            }
        }
    }

    /// The real google-adk-redis (its `append_event` WATCHes the blob) and google-adk-community
    /// (which overwrites the blob blindly: only the bot's events are checked) append in a loop
    /// while fenced writes go into the same sessions.
    @Test(
        .enabled(if: FenceRace.python(for: .redisADKRedis) != nil && FenceRace.python(for: .redisCommunity) != nil),
        arguments: [(FenceRace.Kind.redisADKRedis, 16), (.redisCommunity, 17)])
    func raceWithTheRealADK(kind: FenceRace.Kind, database: Int) throws {
        let config = try TestRedis.config(database: database)
        try TestRedis.withEmptyDatabase(database) { _ in
            var race = FenceRace(kind: kind, adkURL: "redis://\(config.host):\(config.port)/\(database)")
            race.seconds = 6
            race.checksReadConsistency = false  // a blob is the whole session: one GET reads it as of one moment
            race.keepsFencedEvents = kind == .redisADKRedis
            let layout: RedisLayout = kind == .redisADKRedis ? .adkRedis : .community
            let figures = try race.run { try RedisSessionStore.open(TestRedis.config(database: database, layout: layout)) }
            print("fence race (\(kind.rawValue)): \(figures)")
            #expect(figures.botEvents > 0)
            #expect(figures.written > 0)
        }
    }
}
