import DriverCore
import SessionModel

/// Which primary serves which hash slots of a Redis Cluster, from `CLUSTER SHARDS` (Redis 7+) or
/// `CLUSTER SLOTS` (older servers).
///
/// Shards are ordered by their first slot, so the order survives a failover (a replica promoted
/// has another node id but serves the same slots); scans walk them in that order and resume tokens
/// name a shard by its index together with ``digest`` (the slot map, not the node ids).
///
/// Related Redis documentation: <https://redis.io/docs/latest/commands/cluster-shards/>
public struct RedisClusterTopology: Sendable, Hashable {
    /// One primary and the slot ranges it serves.
    public struct Shard: Sendable, Hashable {
        /// The primary's node id (40 hex digits).
        public var nodeID: String
        /// Where the primary listens (its announced IP or endpoint, and its port).
        public var host: String
        public var port: Int
        /// The slot ranges it serves, ascending.
        public var slots: [ClosedRange<Int>]

        /// `host:port`, the key of a node's connection.
        public var address: String { "\(host):\(port)" }
        /// Number of slots served.
        public var slotCount: Int { slots.reduce(0) { $0 + $1.count } }
    }

    /// The primaries, by first slot.
    public private(set) var shards: [Shard]
    /// Shard index of each slot (-1: not served).
    private var owners: [Int16]

    /// A topology of these shards; slots served by none stay unassigned.
    public init(shards: [Shard]) {
        self.shards = shards.filter { !$0.slots.isEmpty }.sorted { ($0.slots.first?.lowerBound ?? 0) < ($1.slots.first?.lowerBound ?? 0) }
        owners = Array(repeating: -1, count: RedisHashSlot.count)
        for (index, shard) in self.shards.enumerated() {
            for range in shard.slots {
                for slot in range where (0..<RedisHashSlot.count).contains(slot) { owners[slot] = Int16(index) }
            }
        }
    }

    /// The shard serving `slot`, `nil` when no primary serves it (the cluster is down for it).
    public func shard(forSlot slot: Int) -> Int? {
        guard (0..<RedisHashSlot.count).contains(slot), owners[slot] >= 0 else { return nil }
        return Int(owners[slot])
    }

    /// Number of slots no primary serves.
    public var unassignedSlots: Int { owners.filter { $0 < 0 }.count }

    /// 16 hex digits of the SHA-256 of the slot map (each shard's ranges, in shard order): equal
    /// for two topologies whose shards serve the same slots, whichever nodes serve them.
    public var digest: String {
        let text = shards.map { $0.slots.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",") }.joined(separator: ";")
        return String(SHA256.hex(of: Array(text.utf8)).prefix(16))
    }

    /// `0-5460,6000-6100`.
    static func rangesText(_ slots: [ClosedRange<Int>]) -> String {
        slots.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    // MARK: - Parsing

    /// Parses a `CLUSTER SHARDS` reply (RESP2: each shard a flat `slots`/`nodes` map, each node a
    /// flat map with `id`, `port` or `tls-port`, `ip`, `endpoint`, `role`, `health`). The primary of
    /// each shard is its node with role `master`; `endpoint` is used unless it is `?` or empty.
    /// `tls`: take the node's `tls-port` when it announces one.
    public static func parse(shards reply: RedisReply, seedHost: String, tls: Bool) throws -> RedisClusterTopology {
        guard let items = reply.elements else { throw bad("CLUSTER SHARDS", "not an array (\(reply.kind))") }
        var shards: [Shard] = []
        for item in items {
            let shard = try flatMap(item, context: "CLUSTER SHARDS")
            guard let slotValues = shard["slots"]?.elements, slotValues.count % 2 == 0 else { throw bad("CLUSTER SHARDS", "a shard has no slot pairs") }
            var slots: [ClosedRange<Int>] = []
            for index in stride(from: 0, to: slotValues.count, by: 2) {
                guard let low = number(slotValues[index]), let high = number(slotValues[index + 1]), low <= high else {
                    throw bad("CLUSTER SHARDS", "a slot range is not two ascending numbers")
                }
                slots.append(low...high)
            }
            guard let nodes = shard["nodes"]?.elements else { throw bad("CLUSTER SHARDS", "a shard has no nodes") }
            var primary: Shard?
            for node in nodes {
                let fields = try flatMap(node, context: "CLUSTER SHARDS")
                guard fields["role"]?.text == "master" else { continue }
                guard let id = fields["id"]?.text else { throw bad("CLUSTER SHARDS", "a node has no id") }
                let port = (tls ? fields["tls-port"].flatMap(number) : nil) ?? fields["port"].flatMap(number)
                guard let port, port > 0 else { throw bad("CLUSTER SHARDS", "node \(id.prefix(12)) has no port") }
                let endpoint = fields["endpoint"]?.text ?? ""
                let ip = fields["ip"]?.text ?? ""
                let host = !endpoint.isEmpty && endpoint != "?" ? endpoint : (ip.isEmpty || ip == "?" ? seedHost : ip)
                primary = Shard(nodeID: id, host: host, port: port, slots: slots.sorted { $0.lowerBound < $1.lowerBound })
            }
            if let primary, !slots.isEmpty { shards.append(primary) }
        }
        return RedisClusterTopology(shards: merged(shards))
    }

    /// Parses a `CLUSTER SLOTS` reply: `[start, end, [ip, port, id, …], replicas…]` per range; the
    /// first node of a range is its primary. An empty ip means the seed's host.
    public static func parse(slots reply: RedisReply, seedHost: String) throws -> RedisClusterTopology {
        guard let items = reply.elements else { throw bad("CLUSTER SLOTS", "not an array (\(reply.kind))") }
        var shards: [Shard] = []
        for item in items {
            guard let parts = item.elements, parts.count >= 3, let low = number(parts[0]), let high = number(parts[1]), low <= high,
                let node = parts[2].elements, node.count >= 2, let port = number(node[1])
            else { throw bad("CLUSTER SLOTS", "a slot range entry is not [start, end, [ip, port, id]]") }
            let ip = node[0].text ?? ""
            let id = node.count >= 3 ? (node[2].text ?? "") : ""
            shards.append(Shard(nodeID: id.isEmpty ? "\(ip):\(port)" : id, host: ip.isEmpty || ip == "?" ? seedHost : ip, port: port, slots: [low...high]))
        }
        return RedisClusterTopology(shards: merged(shards))
    }

    /// One shard per primary, its ranges joined and sorted.
    private static func merged(_ shards: [Shard]) -> [Shard] {
        var byNode: [String: Shard] = [:]
        var order: [String] = []
        for shard in shards {
            if var existing = byNode[shard.nodeID] {
                existing.slots += shard.slots
                byNode[shard.nodeID] = existing
            } else {
                byNode[shard.nodeID] = shard
                order.append(shard.nodeID)
            }
        }
        return order.compactMap { id in
            byNode[id].map { shard in
                var shard = shard
                shard.slots.sort { $0.lowerBound < $1.lowerBound }
                return shard
            }
        }
    }

    private static func flatMap(_ reply: RedisReply, context: String) throws -> [String: RedisReply] {
        guard let flat = reply.elements, flat.count % 2 == 0 else { throw bad(context, "an entry is not a flat map") }
        var fields: [String: RedisReply] = [:]
        for index in stride(from: 0, to: flat.count, by: 2) {
            if let name = flat[index].text { fields[name] = flat[index + 1] }
        }
        return fields
    }

    private static func number(_ reply: RedisReply) -> Int? {
        switch reply {
        case .integer(let value): Int(value)
        case .string, .status: reply.text.flatMap { Int($0) }
        default: nil
        }
    }

    private static func bad(_ context: String, _ message: String) -> RedisError {
        RedisError(code: .query, message: "unexpected \(context) reply: \(message)", context: context)
    }
}
