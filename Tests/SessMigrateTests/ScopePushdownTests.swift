import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Scopes are pushed down to every store: a scan returns exactly the sessions in scope (names with
/// `:`, `{`, `}`, glob characters and non-ASCII included), resumes within a scope, and shards
/// partition a store the same way everywhere.
@Suite(.enabled(if: TestStores.serversAvailable)) struct ScopePushdownTests {
    static let base = 1_800_000_000.0

    /// 36 sessions over 3 apps × 3 users, ids unique across apps and users (the community layout's
    /// key holds only the id), last updated one minute apart.
    static func sessions() throws -> [Session] {
        let apps = ["app one", "app:x", "a*b[1]"]
        let users = ["u1", "u:2", "ü{3}"]
        var result: [Session] = []
        var n = 0
        for app in apps {
            for user in users {
                for suffix in ["", ":c", "{t}", "?"] {
                    let id = "s\(n)\(suffix)"
                    let time = base + Double(n) * 60
                    let event = try Event(data: ["id": .string("e\(n)"), "timestamp": .number(JSONNumber(time)), "author": .string("user")])
                    result.append(Session(key: SessionKey(appName: app, userId: user, sessionId: id), events: [event], lastUpdateTime: time))
                    n += 1
                }
            }
        }
        return result
    }

    static func scopes() throws -> [SessionScope] {
        [
            SessionScope(),
            SessionScope(apps: ["app:x"]),
            SessionScope(apps: ["a*b[1]"], users: ["ü{3}"]),
            SessionScope(apps: ["app one", "app:x"], users: ["u:2"]),
            SessionScope(users: ["u1"]),
            SessionScope(sessionIds: ["s5:c", "s17", "nope"]),
            SessionScope(apps: ["app:x"], users: ["u:2"], sessionIds: ["s17", "s18:c", "s0"]),
            SessionScope(updatedSince: base + 20 * 60),
            SessionScope(updatedSince: base + 10 * 60, updatedBefore: base + 12 * 60),
            SessionScope(apps: ["app one"], updatedBefore: base + 3 * 60 + 0.5),
            SessionScope(shard: try Shard(index: 1, count: 3)),
            SessionScope(users: ["ü{3}"], updatedSince: base, shard: try Shard(index: 0, count: 2)),
        ]
    }

    static func scan(_ store: any SessionStore, _ scope: SessionScope, batchSize: Int = 4, resumeAfter: String? = nil) throws
        -> (keys: [SessionKey], tokens: [String?])
    {
        let cursor = try store.scanSessions(SessionQuery(scope: scope, batchSize: batchSize, resumeAfter: resumeAfter))
        var keys: [SessionKey] = []
        var tokens: [String?] = []
        while let session = try cursor.next() {
            keys.append(session.key)
            tokens.append(cursor.resumeToken)
        }
        return (keys, tokens)
    }

    @Test(arguments: TestStores.Kind.allCases)
    func everyStoreReturnsExactlyTheScope(kind: TestStores.Kind) throws {
        let slot = 12 + TestStores.Kind.allCases.firstIndex(of: kind)!  // Redis databases 76-80
        defer { TestStores.dropMySQL(slots: slot..<(slot + 1)) }
        try withTemporaryDirectory { directory in
            let address = try TestStores.make(kind, slot: slot, directory: directory)
            let sessions = try Self.sessions()
            try write(sessions, to: address)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            for scope in try Self.scopes() {
                let expected = Set(sessions.filter(scope.matches).map(\.key))
                let (keys, tokens) = try Self.scan(store, scope)
                #expect(Set(keys) == expected, "\(kind) \(scope)")
                // Resumed from the middle, the rest of the scope comes back; nothing is skipped.
                if keys.count >= 2 {
                    let cut = keys.count / 2
                    let rest = try Self.scan(store, scope, resumeAfter: tokens[cut - 1]).keys
                    #expect(Set(keys.prefix(cut)).union(rest) == expected, "\(kind) resumed \(scope)")
                }
            }
            for count in [1, 3, 7] {
                var seen: [SessionKey] = []
                for index in 0..<count {
                    let shard = try Shard(index: index, count: count)
                    let keys = try Self.scan(store, SessionScope(shard: shard)).keys
                    #expect(keys.allSatisfy { shard.contains($0) }, "\(kind) shard \(shard)")
                    seen += keys
                }
                #expect(seen.count == sessions.count && Set(seen) == Set(sessions.map(\.key)), "\(kind) shards of \(count)")
            }
        }
    }
}

/// The shard function, without stores.
@Suite struct ShardTests {
    @Test func crc32IsZlibs() {
        #expect(CRC32.checksum(Array("".utf8)) == 0)
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func shardsPartitionRandomIds() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab:{}[]*?\\ ü🦆é-_.0123456789")
        let ids = (0..<2000).map { _ in String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        for count in [1, 2, 3, 7, 16] {
            let shards = try (0..<count).map { try Shard(index: $0, count: count) }
            for id in ids {
                #expect(shards.filter { $0.contains(sessionId: id) == true }.count == 1, "id \(id) in \(count) shards")
            }
        }
    }

    @Test func shardSpecifications() throws {
        #expect(try Shard(parsing: "2/5") == Shard(index: 2, count: 5))
        for bad in ["5/5", "-1/3", "1", "a/b", "1/0", ""] { #expect(throws: ShardError.self) { try Shard(parsing: bad) } }
        #expect(try ShardSpec.resolve("auto", environment: ["CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "10"]) == Shard(index: 3, count: 10))
        #expect(try ShardSpec.resolve("auto/4", environment: ["JOB_COMPLETION_INDEX": "1"]) == Shard(index: 1, count: 4))
        #expect(throws: ShardError.self) { try ShardSpec.resolve("auto", environment: [:]) }
        #expect(throws: ShardError.self) { try ShardSpec.resolve("auto/4", environment: ["JOB_COMPLETION_INDEX": "4"]) }
    }
}
