import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import RedisDriver
@testable import SessMigrate

/// `copy --shard i/N` from the test Redis Cluster (`SESSMIGRATE_REDIS_CLUSTER_URL`), where `auto`
/// shards by slots: N tasks give the same target as one unsharded copy, each shard holds the
/// sessions MySQL, SQLite and a standalone Redis select for the same `slots` shard, and a shard
/// killed mid-way resumes from its slot token. Uses slots 56–57 (Redis databases 120–121).
@Suite(
    .serialized,
    .enabled(
        if: TestStores.environment["SESSMIGRATE_REDIS_CLUSTER_URL"] != nil && TestStores.serversAvailable && CLI.binary != nil,
        "needs the test cluster, the servers and the built binary"), .exclusiveCluster)
struct SlotShardClusterTests {
    static func address() throws -> RedisAddress {
        let url = try #require(TestStores.environment["SESSMIGRATE_REDIS_CLUSTER_URL"])
        guard case .redis(let address) = try StoreAddress.parse(url, environment: BotEnvironment(variables: [:])) else {
            throw AddressError("SESSMIGRATE_REDIS_CLUSTER_URL is not redis://")
        }
        return address
    }

    /// Deletes every session, app and user key of the cluster.
    static func clear() throws {
        let address = try address()
        let keyspace = try RedisSessionStore.openKeyspace(RedisStoreConfig(host: address.host, port: address.port), passwordProvider: nil)
        defer { keyspace.close() }
        for pattern in ["session:*", "app:*", "user:*"] {
            let scan = keyspace.scanKeys(match: pattern, count: 500)
            while let keys = try scan.next() { _ = try keyspace.execute(keys.map { RedisCommand([Array("DEL".utf8), $0], key: $0) }) }
        }
    }

    /// The cluster's address with `layout`, holding only `sessions` (every session, app and user key deleted first).
    static func cluster(_ layout: String, _ sessions: [Session]) throws -> (argument: String, address: StoreAddress) {
        try clear()
        var address = try address()
        address.layout = RedisLayoutName(rawValue: layout)
        try write(sessions, to: .redis(address))
        return ("redis://\(address.host):\(address.port)?layout=\(layout)", .redis(address))
    }

    static func copy(_ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["copy"] + arguments + ["--ttl-from", "now", "--batch-size", "4"], environment: environment)
    }

    @Test(arguments: ["community", "adk-redis"])
    func shardedCopiesFromTheClusterGiveTheSameTargetAsOneCopy(layout: String) throws {
        defer {
            TestStores.dropMySQL(slots: 56..<57)
            try? Self.clear()
        }
        try withTemporaryDirectory { directory in
            let sessions = try SlotShardServerTests.sessions()
            let (source, _) = try Self.cluster(layout, sessions)
            let whole = WorkerPoolTests.sqlite(directory, "whole")
            #expect(try Self.copy([source, directory + "/whole.db", "--workers", "1"]).status == 0)
            let expected = try ScaleData.dump(whole)
            #expect(expected.count > sessions.count)
            for count in [1, 3, 7] {
                for index in 0..<count {
                    let task = try Self.copy([source, directory + "/n\(count).db", "--shard", "\(index)/\(count)", "--workers", "2"])
                    #expect(task.status == 0, "\(layout) shard \(index)/\(count): \(task.stderr)")
                }
                #expect(try ScaleData.dump(WorkerPoolTests.sqlite(directory, "n\(count)")) == expected, "\(layout): \(count) shards")
            }
            // The other stores select each cluster shard's sessions for the same slots shard.
            let form = try #require(RedisLayout(rawValue: layout)).shardKeyForm
            let mysql = try TestStores.make(.mysql, slot: 56, directory: directory)
            let standalone = try TestStores.make(layout == "community" ? .redisCommunity : .redisADK, slot: 57, directory: directory)
            for store in [mysql, standalone] { try write(sessions, to: store) }
            for index in 0..<3 {
                #expect(try Self.copy([source, directory + "/s\(index).db", "--shard", "\(index)/3", "--shard-by", "slots"]).status == 0)
                let onCluster = Set(try readAll(WorkerPoolTests.sqlite(directory, "s\(index)")).keys)
                let shard = try Shard(index: index, count: 3, function: .slots(form))
                #expect(onCluster == Set(sessions.filter { shard.contains($0.key) }.map(\.key)))
                for address in [mysql, standalone, whole] {
                    let store = try StoreOpener().open(address, forWriting: false)
                    defer { try? store.close() }
                    let keys = try ScopePushdownTests.scan(store, SessionScope(shard: shard), batchSize: 8).keys
                    #expect(Set(keys) == onCluster && keys.count == onCluster.count, "\(address) \(shard)")
                }
            }
        }
    }

    /// A shard killed after some batches resumes from its slot token (the counts go on from the
    /// checkpoint); its checkpoint file names the function, so a run shard by id refuses it.
    @Test func aKilledShardResumesFromItsSlotToken() throws {
        try withTemporaryDirectory { directory in
            let sessions = try SlotShardServerTests.sessions()
            let (source, _) = try Self.cluster("community", sessions)
            let target = directory + "/target.db"
            let checkpoint = directory + "/copy.json"
            let arguments = [source, target, "--shard", "1/3", "--workers", "1", "--checkpoint", checkpoint]
            let killed = try Self.copy(arguments, environment: ["SESSMIGRATE_TEST_KILL_AFTER_BATCHES": "3"])
            #expect(killed.status == SIGKILL, "\(killed.stderr)")
            let saved = try String(contentsOfFile: checkpoint, encoding: .utf8)
            #expect(saved.contains(#""cursor": "k1:"#) && saved.contains(#""shard_by": "slots:session:{id}""#), "\(saved)")
            let byId = try Self.copy([source, target, "--shard", "1/3", "--shard-by", "id", "--workers", "1", "--checkpoint", checkpoint])
            #expect(byId.status == 2 && byId.stderr.contains("belongs to another copy (it differs in scope)"), "\(byId.stderr)")
            let again = try Self.copy(arguments + ["--format", "json"])
            #expect(again.status == 0 && again.stderr.contains("resuming from the checkpoint"), "\(again.stderr)")
            let shard = try Shard(index: 1, count: 3, function: .slots(.sessionId))
            let inShard = sessions.filter { shard.contains($0.key) }
            #expect(again.stdout.contains("\"sessions_read\": \(inShard.count)"), "the counts go on from the checkpoint: \(again.stdout)")
            #expect(Set(try readAll(WorkerPoolTests.sqlite(directory, "target")).keys) == Set(inShard.map(\.key)))
        }
    }

    /// `--mirror` sharded by slots: each task deletes only the target's extra sessions of its own slot
    /// range (the target's listing uses the same function); once every shard ran, the target equals the source.
    @Test func mirrorDeletesOnlyInItsSlots() throws {
        defer { try? Self.clear() }
        try withTemporaryDirectory { directory in
            let sessions = try SlotShardServerTests.sessions()
            let (source, _) = try Self.cluster("community", sessions)
            let target = WorkerPoolTests.sqlite(directory, "target", .database)
            let extra = try ScaleData.extraSessions(40, seed: 9)
            try write(extra, to: target)
            let mirror = [source, directory + "/target.db", "--mirror", "--yes", "--workers", "2"]
            #expect(try Self.copy(mirror + ["--shard", "0/3"]).status == 0)
            let shard = try Shard(index: 0, count: 3, function: .slots(.sessionId))
            let left = Set(try readAll(target).keys.filter { $0.sessionId.hasPrefix("extra-") })
            #expect(left == Set(extra.map(\.key).filter { !shard.contains($0) }) && !left.isEmpty && left.count < extra.count)
            for index in [1, 2] { #expect(try Self.copy(mirror + ["--shard", "\(index)/3"]).status == 0) }
            #expect(try CLI.run(["verify", source, directory + "/target.db"]).status == 0)
        }
    }
}
