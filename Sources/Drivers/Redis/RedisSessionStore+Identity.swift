import DriverCore

extension RedisSessionStore {
    /// The server (`run_id`, and the replication id a primary shares with its replicas) and the
    /// database number, from `INFO`. `nil` when `INFO` is not allowed (an ACL user without
    /// `+info`): the engine then compares addresses only.
    public func fetchIdentity() throws -> StoreIdentity? {
        if let topology = keyspace.clusterTopology {
            // Any primary in common is the same cluster (node ids survive restarts; a failover
            // changes one, the others still match).
            return StoreIdentity(
                keys: Set(topology.shards.map { "redis-cluster-node:\($0.nodeID)" }),
                description: "Redis Cluster with primaries \(topology.shards.map { String($0.nodeID.prefix(12)) }.joined(separator: ", "))")
        }
        guard let fields = try fetchInfo(["server", "replication"]) else { return nil }
        guard let runID = fields["run_id"], !runID.isEmpty else { return nil }
        var keys: Set<String> = ["redis-run:\(runID)/\(config.database)"]
        if let replication = fields["master_replid"], !replication.isEmpty, !replication.allSatisfy({ $0 == "0" }) {
            keys.insert("redis-replication:\(replication)/\(config.database)")
        }
        let port = fields["tcp_port"].map { " port \($0)" } ?? ""
        return StoreIdentity(keys: keys, description: "Redis server run_id \(runID)\(port), database \(config.database)")
    }

    /// The first 16 hex digits of the server's `run_id` (new at every start): the epoch of `SCAN`
    /// resume tokens. `nil` when `INFO` is not allowed; tokens then carry no epoch and a restart
    /// between runs is not detected.
    func fetchScanEpoch() throws -> String? {
        try fetchScanEpochs().epoch
    }

    /// The epoch of scan tokens, and on a cluster each shard primary's epoch: there the epoch is
    /// the slot map's digest (``RedisClusterTopology/digest``) and each node's is its `run_id`.
    func fetchScanEpochs() throws -> (epoch: String?, nodeEpochs: [String?]?) {
        if let topology = keyspace.clusterTopology { return (topology.digest, try keyspace.nodeEpochs()) }
        return (try fetchStandaloneScanEpoch(), nil)
    }

    private func fetchStandaloneScanEpoch() throws -> String? {
        guard let id = try fetchInfo(["server"])?["run_id"]?.prefix(16) else { return nil }
        return id.count == 16 && id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) ? String(id) : nil
    }

    /// The `field:value` lines of these `INFO` sections, in one round trip; `nil` when a section
    /// is refused (an ACL user without `+info`).
    func fetchInfo(_ sections: [String]) throws -> [String: String]? {
        let commands = sections.map { RedisCommand([Array("INFO".utf8), Array($0.utf8)], key: nil) }
        var fields: [String: String] = [:]
        for reply in try keyspace.execute(commands) {
            guard case .string(let bytes) = reply else { return nil }
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
        }
        return fields
    }

    /// `plaintext`, or TLS with the protocol, cipher and what was verified (docs/SECURITY.md).
    public var connectionSecurity: String? {
        if let cluster = keyspace as? RedisClusterKeyspace {
            return "\(clusterSummary(cluster)); \(cluster.connectionSecurity ?? (config.tls == nil ? "plaintext" : "TLS"))"
        }
        return (keyspace as? RedisStandaloneKeyspace)?.connectionSecurity ?? (config.tls == nil ? "plaintext" : "TLS")
    }

    /// `Redis Cluster, 3 primaries: 127.0.0.1:7000 slots 0-5460 (120 keys), …`, for `inspect`;
    /// the key counts are each primary's `DBSIZE` (every key, sessions or not).
    func clusterSummary(_ cluster: RedisClusterKeyspace) -> String {
        let sizes = (try? cluster.executeOnEveryNode([Array("DBSIZE".utf8)]))?.map(\.integer) ?? []
        let nodes = cluster.topology.shards.enumerated().map { index, shard in
            let keys = sizes.indices.contains(index) ? sizes[index].map { " (\($0) keys)" } ?? "" : ""
            return "\(shard.address) [\(shard.nodeID.prefix(8))] slots \(RedisClusterTopology.rangesText(shard.slots))\(keys)"
        }
        let unassigned = cluster.topology.unassignedSlots
        return "Redis Cluster, \(nodes.count) primaries: " + nodes.joined(separator: ", ") + (unassigned > 0 ? ", \(unassigned) slots unserved" : "")
    }
}
