import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import RedisDriver

/// `slots` shards of the test cluster (``RedisSlotScan``): a shard reads only the keys of its slots
/// (the servers' own command counts: no `SCAN`, one `GET` per session of the shard), resumes from
/// its slot token, and starts over on a token of another slot map or form, or after a resharding.
/// Every test empties the cluster's session, app and user keys before and after.
@Suite(.serialized, .enabled(if: TestCluster.isAvailable), .exclusiveCluster)
struct RedisClusterSlotShardTests {
    /// A store of `layout` on the cluster holding only `count` sessions (every session, app and user
    /// key of other tests deleted first).
    static func store(_ layout: RedisLayout, count: Int) throws -> (RedisSessionStore, [Session]) {
        try clear()
        let store = try RedisSessionStore.open(TestCluster.config(layout: layout))
        let sessions = try (0..<count).map { n in
            try Samples.richSession(id: "slot-\(n)\(n % 4 == 0 ? "{t\(n % 3)}" : "")", app: "app\(n % 2)", user: "u\(n % 5)", expiry: .never)
        }
        try store.writeSessions(sessions)
        return (store, sessions)
    }

    /// Deletes every session, app and user key of the cluster, whatever its layout.
    static func clear() throws {
        let keyspace = try RedisSessionStore.openKeyspace(TestCluster.config(), passwordProvider: nil)
        defer { keyspace.close() }
        for pattern in ["session:*", "app:*", "user:*"] {
            let scan = keyspace.scanKeys(match: pattern, count: 500)
            while let keys = try scan.next() { _ = try keyspace.execute(keys.map { RedisCommand([Array("DEL".utf8), $0], key: $0) }) }
        }
    }

    /// Every session of `scope`, with the token after each.
    static func scan(
        _ store: RedisSessionStore, _ scope: SessionScope, batchSize: Int, from token: String? = nil
    ) throws -> (keys: [SessionKey], tokens: [String]) {
        let cursor = try store.scanSessions(SessionQuery(scope: scope, batchSize: batchSize, resumeAfter: token))
        var keys: [SessionKey] = []
        var tokens: [String] = []
        while let session = try cursor.next() {
            keys.append(session.key)
            tokens.append(cursor.resumeToken ?? "")
        }
        return (keys, tokens)
    }

    /// The calls of `command` on every primary since the last `CONFIG RESETSTAT` (`INFO commandstats`).
    static func calls(_ command: String, _ store: RedisSessionStore) throws -> Int {
        try store.keyspace.executeOnEveryNode(["INFO", "commandstats"].map { Array($0.utf8) }).reduce(0) { total, reply in
            let line = (reply.text ?? "").split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):calls=") }
            return total + (line.flatMap { Int($0.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) } ?? 0)
        }
    }

    @Test(arguments: [RedisLayout.community, .adkRedis])
    func aShardReadsOnlyItsSlots(layout: RedisLayout) throws {
        let (store, sessions) = try Self.store(layout, count: 90)
        defer { try? store.close(); try? Self.clear() }
        for (index, count) in [(0, 1), (1, 3), (2, 3), (6, 7)] {
            let shard = try Shard(index: index, count: count, function: .slots(layout.shardKeyForm))
            _ = try store.keyspace.executeOnEveryNode(["CONFIG", "RESETSTAT"].map { Array($0.utf8) })
            let (keys, tokens) = try Self.scan(store, SessionScope(shard: shard), batchSize: 7)
            let expected = sessions.filter { shard.contains($0.key) }.map(\.key)
            #expect(Set(keys) == Set(expected) && keys.count == expected.count, "\(layout) \(shard)")
            #expect(try Self.calls("scan", store) == 0, "no SCAN: only the shard's slots are read")
            #expect(try Self.calls("get", store) == expected.count, "one GET per session of the shard, none of other slots")
            let asked = try Self.calls("cluster|getkeysinslot", store)
            #expect(asked > 0 && asked <= shard.slotRange.count, "\(asked) slots asked")
            let digest = try #require(store.keyspace.clusterTopology).digest
            #expect(tokens.allSatisfy { $0.hasPrefix("k1:\(digest):") }, "\(tokens.prefix(2))")
        }
    }

    @Test func aShardResumesFromItsSlotAndStartsOverOnAnotherSlotMap() throws {
        let (store, sessions) = try Self.store(.community, count: 120)
        defer { try? store.close(); try? Self.clear() }
        let shard = try Shard(index: 1, count: 3, function: .slots(.sessionId))
        let scope = SessionScope(shard: shard)
        let (all, tokens) = try Self.scan(store, scope, batchSize: 6)
        #expect(Set(all) == Set(sessions.filter { shard.contains($0.key) }.map(\.key)))
        for position in [5, 17, all.count / 2] {
            let rest = try Self.scan(store, scope, batchSize: 6, from: tokens[position - 1]).keys
            #expect(rest == Array(all[position...]), "resumed after \(position) of \(all.count)")
        }
        #expect(try Self.scan(store, scope, batchSize: 6, from: tokens.last).keys.isEmpty, "the last token is the end")
        let digest = try #require(store.keyspace.clusterTopology).digest
        let foreign = tokens[9].replacingOccurrences(of: digest, with: "0123456789abcdef")
        #expect(try Self.scan(store, scope, batchSize: 6, from: foreign).keys == all, "another slot map: the shard starts over")
        #expect(try Self.scan(store, scope, batchSize: 6, from: "s1:0:0").keys == all, "a SCAN position: the shard starts over")
        let byId = SessionScope(shard: try Shard(index: 1, count: 3))
        let scanned = try Self.scan(store, byId, batchSize: 6, from: tokens[9])
        #expect(Set(scanned.keys) == Set(sessions.filter { byId.matches($0) }.map(\.key)), "a slot position on a SCAN: the scan starts over")
        #expect(scanned.tokens.first?.hasPrefix("c1:") == true)
        // A real resharding: one slot of the shard moves to another primary; the old token starts over.
        let keyspace = try #require(store.keyspace as? RedisClusterKeyspace)
        let shards = keyspace.topology.shards
        let slot = try #require(all.map { RedisHashSlot.slot(of: "session:\($0.sessionId)") }.first)
        let owner = try #require(keyspace.topology.shard(forSlot: slot))
        let other = (owner + 1) % shards.count
        try TestCluster.moveSlot(slot, from: shards[owner], to: shards[other], all: shards)
        defer { try? TestCluster.moveSlot(slot, from: shards[other], to: shards[owner], all: shards) }
        let moved = try RedisSessionStore.open(TestCluster.config(layout: .community))
        defer { try? moved.close() }
        let again = try Self.scan(moved, scope, batchSize: 6, from: tokens[30])
        #expect(Set(again.keys) == Set(all) && again.keys.count == all.count, "after a resharding the shard is read again whole")
        #expect(again.tokens.first?.hasPrefix("k1:\(digest)") == false, "tokens name the new slot map")
    }

    /// A store that still holds the old slot map meets the moved slot's `MOVED` as a transient error.
    @Test func aStaleSlotMapIsATransientError() throws {
        let (store, sessions) = try Self.store(.community, count: 30)
        defer { try? store.close(); try? Self.clear() }
        let keyspace = try #require(store.keyspace as? RedisClusterKeyspace)
        let shards = keyspace.topology.shards
        let slot = RedisHashSlot.slot(of: "session:\(sessions[0].key.sessionId)")
        let owner = try #require(keyspace.topology.shard(forSlot: slot))
        try TestCluster.moveSlot(slot, from: shards[owner], to: shards[(owner + 1) % shards.count], all: shards)
        defer { try? TestCluster.moveSlot(slot, from: shards[(owner + 1) % shards.count], to: shards[owner], all: shards) }
        let shard = try Shard(index: 0, count: 1, function: .slots(.sessionId))
        #expect { try Self.scan(store, SessionScope(shard: shard), batchSize: 50) } throws: { ($0 as? RedisError)?.isTransient == true }
    }

    /// A user who may not run the slot commands is told which to grant (or to shard by id).
    @Test func aUserWithoutTheSlotCommandsIsToldWhichToGrant() throws {
        let (store, _) = try Self.store(.community, count: 10)
        defer { try? store.close(); try? Self.clear() }
        let ports = (ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_CLUSTER_PORTS"] ?? "").split(separator: " ")
        let user = "smt_slots_\(getpid())"
        let password = "Pw-\(getpid())-slots"
        func everyNode(_ words: [String]) throws {
            for port in ports {
                let node = try TestCluster.connection("127.0.0.1:\(port)")
                defer { node.close() }
                _ = try node.command(words)
            }
        }
        try everyNode(["ACL", "SETUSER", user, "reset", "on", ">\(password)", "~*", "+@all", "-cluster|countkeysinslot"])
        defer { try? everyNode(["ACL", "DELUSER", user]) }
        var config = try TestCluster.config(layout: .community)
        (config.username, config.password) = (user, password)
        let limited = try RedisSessionStore.open(config)
        defer { try? limited.close() }
        let shard = try Shard(index: 0, count: 2, function: .slots(.sessionId))
        let error = try #require(throws: RedisError.self) { try Self.scan(limited, SessionScope(shard: shard), batchSize: 5) }
        #expect(error.serverErrorPrefix == "NOPERM" && error.description.contains("grant them, or shard by id"), "\(error)")
        #expect(!error.description.contains(password))
    }
}

/// The probe keys a slot scan asks with `EXISTS` (no server).
@Suite struct RedisSlotProbeTests {
    @Test func everySlotHasAProbeKeyInIt() {
        let keys = RedisSlotScan.probeKeys
        #expect(keys.count == RedisHashSlot.count)
        #expect(keys.indices.allSatisfy { !keys[$0].isEmpty && RedisHashSlot.slot(of: keys[$0]) == $0 })
        #expect(keys.allSatisfy { $0.starts(with: Array("sessmigrate:slot:{".utf8)) && $0.count == "sessmigrate:slot:{ab}".utf8.count })
    }
}
