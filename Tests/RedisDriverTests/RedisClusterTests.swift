import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import RedisDriver

/// Topology replies parsed without a server (shapes of Redis 7.0's `CLUSTER SHARDS` and `SLOTS`).
private func text(_ value: String) -> RedisReply { .string(Array(value.utf8)) }

@Suite struct RedisClusterTopologyTests {

    static func node(_ id: String, port: Int64, role: String, tlsPort: Int64? = nil, endpoint: String = "127.0.0.1") -> RedisReply {
        var flat: [RedisReply] = [text("id"), text(id), text("port"), .integer(port)]
        if let tlsPort { flat += [text("tls-port"), .integer(tlsPort)] }
        flat += [text("ip"), text("10.0.0.9"), text("endpoint"), text(endpoint), text("role"), text(role), text("health"), text("online")]
        return .array(flat)
    }

    @Test func shardsReplyGivesPrimariesInSlotOrder() throws {
        let reply = RedisReply.array([
            .array([
                text("slots"), .array([.integer(10923), .integer(16383)]), text("nodes"),
                .array([
                    Self.node("c" + String(repeating: "0", count: 39), port: 7002, role: "master"),
                    Self.node("f" + String(repeating: "0", count: 39), port: 7005, role: "replica"),
                ]),
            ]),
            .array([
                text("slots"), .array([.integer(0), .integer(5460), .integer(6000), .integer(6000)]), text("nodes"),
                .array([
                    Self.node("a" + String(repeating: "0", count: 39), port: 7000, role: "master", tlsPort: 8000, endpoint: "?")
                ]),
            ]),
            .array([
                text("slots"), .array([.integer(5461), .integer(5999), .integer(6001), .integer(10922)]), text("nodes"),
                .array([
                    Self.node("b" + String(repeating: "0", count: 39), port: 7001, role: "master")
                ]),
            ]),
        ])
        let topology = try RedisClusterTopology.parse(shards: reply, seedHost: "seed", tls: false)
        #expect(topology.shards.map(\.port) == [7000, 7001, 7002])
        #expect(topology.shards[0].host == "10.0.0.9", "endpoint ? falls back to the ip")
        #expect(topology.shards[0].slots == [0...5460, 6000...6000])
        #expect(topology.shard(forSlot: 6000) == 0)
        #expect(topology.shard(forSlot: 6001) == 1)
        #expect(topology.shard(forSlot: 16383) == 2)
        #expect(topology.unassignedSlots == 0)
        let tls = try RedisClusterTopology.parse(shards: reply, seedHost: "seed", tls: true)
        #expect(tls.shards[0].port == 8000, "a TLS address uses the node's tls-port")
        // The digest names the slot map, not the nodes: a failover (another primary id) keeps it.
        var failedOver = topology.shards
        failedOver[1].nodeID = "d" + String(repeating: "0", count: 39)
        #expect(RedisClusterTopology(shards: failedOver).digest == topology.digest)
        var resharded = topology.shards
        resharded[0].slots = [0...5459]
        resharded[1].slots.insert(5460...5460, at: 0)
        #expect(RedisClusterTopology(shards: resharded).digest != topology.digest)
    }

    @Test func slotsReplyForOlderServers() throws {
        let reply = RedisReply.array([
            .array([.integer(0), .integer(100), .array([text(""), .integer(7000), text("aaa")]), .array([text("127.0.0.1"), .integer(7003), text("ddd")])]),
            .array([.integer(101), .integer(199), .array([text("127.0.0.2"), .integer(7001), text("bbb")])]),
            .array([.integer(301), .integer(16383), .array([text("127.0.0.2"), .integer(7001), text("bbb")])]),
            .array([.integer(200), .integer(300), .array([text("127.0.0.1"), .integer(7000), text("aaa")])]),
        ])
        let topology = try RedisClusterTopology.parse(slots: reply, seedHost: "seed")
        #expect(topology.shards.map(\.address) == ["seed:7000", "127.0.0.2:7001"])
        #expect(topology.shards[0].slots == [0...100, 200...300])
        #expect(topology.shard(forSlot: 250) == 0)
    }

    @Test func malformedRepliesAreErrors() {
        #expect(throws: RedisError.self) { try RedisClusterTopology.parse(shards: .integer(1), seedHost: "s", tls: false) }
        #expect(throws: RedisError.self) { try RedisClusterTopology.parse(slots: .array([.array([.integer(5)])]), seedHost: "s") }
    }

    @Test func redirectsAreParsed() {
        let moved = RedisRedirect(RedisReply.error("MOVED 3999 127.0.0.1:6381"), seedHost: "h")
        #expect(moved?.kind == .moved && moved?.slot == 3999 && moved?.address == "127.0.0.1:6381")
        let ask = RedisRedirect(RedisReply.error("ASK 12 :6390"), seedHost: "h")
        #expect(ask?.kind == .ask && ask?.slot == 12 && ask?.address == "h:6390")
        #expect(RedisRedirect(.error("ERR unknown"), seedHost: "h") == nil)
        #expect(RedisRedirect(.string([]), seedHost: "h") == nil)
    }

    @Test func clusterTokensRoundTripAndDecideWhatStartsOver() throws {
        let point = RedisResumePoint(position: RedisScanPosition(node: 2, cursor: "17"), epoch: "0123456789abcdef", nodeEpoch: "fedcba9876543210")
        #expect(point.token == "c1:0123456789abcdef:fedcba9876543210:2:17")
        let parsed = try RedisResumePoint(token: point.token, nodeCount: 3)
        #expect(parsed == point)
        #expect(throws: ResumeTokenError.self) { try RedisResumePoint(token: "c1:0123456789abcdef:xyz:2:17", nodeCount: 3) }
        let epochs: [String?] = ["1111111111111111", "2222222222222222", "fedcba9876543210"]
        #expect(!RedisSessionStore.startsOver(parsed, epoch: "0123456789abcdef", nodeEpochs: epochs))
        #expect(RedisSessionStore.startsOver(parsed, epoch: "aaaaaaaaaaaaaaaa", nodeEpochs: epochs), "another slot map")
        #expect(
            RedisSessionStore.startsOver(try RedisResumePoint(token: "s2:0123456789abcdef:0:5", nodeCount: 3), epoch: "0123456789abcdef", nodeEpochs: epochs))
        #expect(RedisSessionStore.startsOver(parsed, epoch: "0123456789abcdef", nodeEpochs: nil), "a cluster token on a standalone server")
    }
}

/// Against the real 3-primary cluster; serialized, as some tests move slots.
@Suite(.serialized, .enabled(if: TestCluster.isAvailable), .exclusiveCluster)
struct RedisClusterTests {
    @Test func detectedAndUsedAsOneStore() throws {
        try TestCluster.deleteKeys(prefix: "session:cl-")
        let store = try RedisSessionStore.open(TestCluster.config(layout: .community))
        defer { try? store.close() }
        let topology = try #require(store.keyspace.clusterTopology)
        #expect(topology.shards.count == 3)
        #expect(topology.unassignedSlots == 0)
        let sessions = try (0..<60).map { try Samples.richSession(id: "cl-\($0)", user: "u\($0 % 7)", expiry: Samples.fromNow(600)) }
        try store.writeSessions(Array(sessions.prefix(30)))
        _ = try store.writeSessions(fenced: sessions.suffix(30).map { FencedWrite(session: $0, expected: nil) })
        let read = try store.fetchSessions(sessions.map(\.key))
        #expect(read.count == 60)
        for index in [0, 59] {
            var session = try #require(read[sessions[index].key])
            guard case .at(let at)? = session.expiry, case .at(let wanted)? = sessions[index].expiry else {
                Issue.record("expiry lost")
                continue
            }
            #expect(abs(at - wanted) < 0.01)
            session.expiry = sessions[index].expiry
            #expect(session == sessions[index])
        }
        // Every primary holds some of them.
        let sizes = try store.keyspace.executeOnEveryNode([Array("DBSIZE".utf8)]).compactMap(\.integer)
        #expect(sizes.count == 3 && sizes.allSatisfy { $0 > 0 })
        // Scans resume with cluster tokens.
        let cursor = try store.scanSessions(SessionQuery(batchSize: 7))
        var seen = Set<SessionKey>()
        while let session = try cursor.next() {
            if session.key.sessionId.hasPrefix("cl-") { seen.insert(session.key) }
        }
        #expect(seen.count == 60)
        #expect(cursor.resumeToken?.hasPrefix("c1:") == true)
        let scoped = try store.scanSessions(SessionQuery(scope: SessionScope(apps: ["app1"], users: ["u3"]), batchSize: 4))
        var inScope = 0
        while try scoped.next() != nil { inScope += 1 }
        #expect(inScope == sessions.filter { $0.key.userId == "u3" }.count)
        #expect(store.connectionSecurity?.hasPrefix("Redis Cluster, 3 primaries") == true)
        #expect(try store.fetchIdentity()?.keys.count == 3)
    }

    @Test func clusterNoRefusesAndDatabasesAreRefused() throws {
        var config = try TestCluster.config()
        config.cluster = .no
        #expect { try RedisSessionStore.open(config) } throws: { "\($0)".contains("cluster=no") }
        config.cluster = .auto
        config.database = 3
        #expect { try RedisSessionStore.open(config) } throws: { "\($0)".contains("only database 0") }
    }

    /// A slot moved after the keyspace read the topology: the old owner answers MOVED, which is
    /// followed (never data), the topology refreshed, and a scan then stops as transient.
    @Test func movedIsFollowedAndStopsTheScan() throws {
        let keyspace = try #require(try RedisSessionStore.open(TestCluster.config(layout: .community)).keyspace as? RedisClusterKeyspace)
        defer { keyspace.close() }
        let shards = keyspace.topology.shards
        let key = TestCluster.key(prefix: "session:moved-", onShard: 0, of: keyspace.topology)
        let slot = RedisHashSlot.slot(of: key)
        _ = try keyspace.execute([RedisCommand(["SET", key, "v1"].map { Array($0.utf8) }, keyIndex: 1)])
        try TestCluster.moveSlot(slot, from: shards[0], to: shards[1], all: shards)
        defer { try? TestCluster.moveSlot(slot, from: shards[1], to: shards[0], all: shards) }
        let replies = try keyspace.execute([RedisCommand(["GET", key].map { Array($0.utf8) }, keyIndex: 1)])
        #expect(replies == [.string(Array("v1".utf8))])
        #expect(keyspace.topology.shard(forSlot: slot) == 1)
        #expect(keyspace.topologyChanged)
        #expect { try keyspace.scan(node: 0, cursor: "0", match: "*", count: 10) } throws: { ($0 as? RedisError)?.isTransient == true }
        // Transactions follow too (per slot, MULTI/EXEC on the new owner).
        let groups = [[RedisCommand(["SET", key, "v2"].map { Array($0.utf8) }, keyIndex: 1)]]
        #expect(try keyspace.executeTransactions(groups) == [[.status("OK")]])
        _ = try keyspace.execute([RedisCommand(["DEL", key].map { Array($0.utf8) }, keyIndex: 1)])
    }

    /// A slot half-migrated (keys already on the importing node): the owner answers ASK, and the
    /// keyspace sends ASKING and the command to the importing node, once.
    @Test func askIsFollowedOnce() throws {
        let keyspace = try #require(try RedisSessionStore.open(TestCluster.config(layout: .community)).keyspace as? RedisClusterKeyspace)
        defer { keyspace.close() }
        let shards = keyspace.topology.shards
        let key = TestCluster.key(prefix: "session:ask-", onShard: 2, of: keyspace.topology)
        let slot = RedisHashSlot.slot(of: key)
        _ = try keyspace.execute([RedisCommand(["SET", key, "asked"].map { Array($0.utf8) }, keyIndex: 1)])
        try TestCluster.moveSlot(slot, from: shards[2], to: shards[0], all: shards, stopAfterMigrating: true)
        defer {
            try? TestCluster.finishMove(slot, to: shards[0], all: shards)
            try? TestCluster.moveSlot(slot, from: shards[0], to: shards[2], all: shards)
        }
        let direct = try TestCluster.connection(shards[2].address)
        defer { direct.close() }
        #expect(try direct.command(["GET", key]).isAsk, "the source answers ASK while the slot migrates")
        let replies = try keyspace.execute([
            RedisCommand(["GET", key].map { Array($0.utf8) }, keyIndex: 1), RedisCommand(["PTTL", key].map { Array($0.utf8) }, keyIndex: 1),
        ])
        #expect(replies == [.string(Array("asked".utf8)), .integer(-1)])
        #expect(!keyspace.topologyChanged, "ASK does not change the topology")
        // A session store reads through it: the redirect is never bad data.
        let store = try RedisSessionStore.open(TestCluster.config(layout: .community))
        defer { try? store.close() }
        let session = try Samples.richSession(id: String(key.dropFirst("session:".count)), expiry: .never)
        let blob = SessionBlobCodec.encode(session, layout: .community)
        _ = try store.keyspace.execute([RedisCommand([Array("SET".utf8), Array(key.utf8), blob], key: Array(key.utf8))])
        #expect(try store.fetchSessions([session.key]).count == 1)
        _ = try store.keyspace.execute([RedisCommand(["DEL", key].map { Array($0.utf8) }, keyIndex: 1)])
    }

    /// A group's first slot (the session blob) is written before any of its other slots: when the
    /// first wave fails, no group's other slots were written, not even those of a group whose own
    /// first slot succeeded; when it succeeds, every other slot is written.
    @Test func firstSlotOfEveryGroupIsWrittenFirst() throws {
        let keyspace = try #require(try RedisSessionStore.open(TestCluster.config(layout: .community)).keyspace as? RedisClusterKeyspace)
        defer { keyspace.close() }
        let topology = keyspace.topology
        let keys = (0..<5).map { TestCluster.key(prefix: "wave-\($0)-", onShard: [0, 1, 2, 1, 0][$0], of: topology) }
        func command(_ words: String...) -> RedisCommand { RedisCommand(words.map { Array($0.utf8) }, keyIndex: 1) }
        func exists() throws -> [Bool] { try keyspace.execute(keys.map { command("EXISTS", $0) }).map { $0 == .integer(1) } }
        _ = try keyspace.execute(keys.map { command("DEL", $0) })
        defer { _ = try? keyspace.execute(keys.map { command("DEL", $0) }) }
        let good = [command("SET", keys[0], "blob"), command("SADD", keys[1], "m"), command("HSET", keys[2], "f", "v")]
        let broken = [command("SET", keys[3]), command("SADD", keys[4], "m")]  // SET without a value: refused when queued
        #expect(throws: RedisError.self) { try keyspace.executeTransactions([good, broken]) }
        #expect(try exists() == [true, false, false, false, false])
        let fixed = [command("SET", keys[3], "blob"), command("SADD", keys[4], "m")]
        _ = try keyspace.execute([command("DEL", keys[0])])
        let replies = try keyspace.executeTransactions([good, fixed])
        #expect(replies == [[.status("OK"), .integer(1), .integer(1)], [.status("OK"), .integer(1)]])
        #expect(try exists() == [true, true, true, true, true])
    }
}

extension RedisReply {
    fileprivate var isAsk: Bool { if case .error(let message) = self { message.hasPrefix("ASK ") } else { false } }
}
