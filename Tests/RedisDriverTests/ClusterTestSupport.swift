import DriverCore
import Foundation
import SessionModel

@testable import RedisDriver

/// The throwaway 3+3 cluster of `scripts/lib/servers.sh` (`SESSMIGRATE_REDIS_CLUSTER_URL`).
enum TestCluster {
    static let url: String? = ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_CLUSTER_URL"]
    static var isAvailable: Bool { url != nil }

    static func config(layout: RedisLayout? = nil) throws -> RedisStoreConfig {
        guard let url, let parts = URLComponents(string: url), let host = parts.host else {
            throw TestFailure("SESSMIGRATE_REDIS_CLUSTER_URL is not a redis:// URL")
        }
        return RedisStoreConfig(host: host, port: parts.port ?? 6379, layout: layout)
    }

    static func connection(_ address: String) throws -> RedisConnection {
        let parts = address.split(separator: ":")
        return try RedisConnection.open(host: String(parts[0]), port: Int(parts[1]) ?? 0)
    }

    /// The cluster's keys whose name starts with `prefix` deleted on every primary.
    static func deleteKeys(prefix: String) throws {
        let store = try RedisSessionStore.open(config(layout: .community))
        defer { try? store.close() }
        let scan = store.keyspace.scanKeys(match: RedisKeyFilter.globEscapedPrefix(prefix) + "*", count: 500)
        while let keys = try scan.next() {
            _ = try store.keyspace.execute(keys.map { RedisCommand([Array("DEL".utf8), $0], key: $0) })
        }
    }

    /// A key `prefix<n>` whose slot is served by `shard` of `topology`.
    static func key(prefix: String, onShard shard: Int, of topology: RedisClusterTopology, skipping: Set<Int> = []) -> String {
        var n = 0
        while true {
            let key = "\(prefix)\(n)"
            let slot = RedisHashSlot.slot(of: key)
            if topology.shard(forSlot: slot) == shard, !skipping.contains(slot) { return key }
            n += 1
        }
    }

    /// Moves `slot` (and its keys) from one primary to another as `redis-cli --cluster reshard`
    /// does: IMPORTING on the target, MIGRATING on the source, MIGRATE of its keys, then
    /// `SETSLOT … NODE` on both and on the other primaries. With `stopAfterMigrating`, leaves the
    /// slot half-moved (keys on the target, slot still the source's: requests get `ASK`).
    static func moveSlot(
        _ slot: Int, from source: RedisClusterTopology.Shard, to target: RedisClusterTopology.Shard, all: [RedisClusterTopology.Shard],
        stopAfterMigrating: Bool = false
    ) throws {
        let from = try connection(source.address)
        let to = try connection(target.address)
        defer {
            from.close()
            to.close()
        }
        try to.run(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.nodeID])
        try from.run(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.nodeID])
        while true {
            let keys = (try from.run(["CLUSTER", "GETKEYSINSLOT", String(slot), "100"]).elements ?? []).compactMap(\.text)
            if keys.isEmpty { break }
            try from.run(["MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS"] + keys)
        }
        if stopAfterMigrating { return }
        try finishMove(slot, to: target, all: all)
    }

    /// `CLUSTER SETSLOT slot NODE target` on every primary (the target first).
    static func finishMove(_ slot: Int, to target: RedisClusterTopology.Shard, all: [RedisClusterTopology.Shard]) throws {
        for shard in [target] + all.filter({ $0.nodeID != target.nodeID }) {
            let connection = try connection(shard.address)
            defer { connection.close() }
            try connection.run(["CLUSTER", "SETSLOT", String(slot), "NODE", target.nodeID])
        }
        // Wait until every primary agrees (the bus spreads the new epoch).
        for _ in 0..<100 {
            var agreed = true
            for shard in all {
                let connection = try connection(shard.address)
                defer { connection.close() }
                let topology = try RedisClusterKeyspace.discover(connection, seedHost: shard.host, tls: false)
                if topology.shard(forSlot: slot).map({ topology.shards[$0].nodeID }) != target.nodeID { agreed = false }
            }
            if agreed { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestFailure("the primaries did not agree on slot \(slot)")
    }
}

extension RedisKeyFilter {
    /// `prefix` with glob characters escaped (for test clean-up patterns).
    static func globEscapedPrefix(_ prefix: String) -> String { RedisScopePlan.globEscaped(prefix) }
}
