import DriverCore

/// Steps of keys a ``RedisSessionCursor`` walks: `SCAN` steps (``RedisKeyScan``) or a cluster's
/// hash slots (``RedisSlotScan``). A step that started at ``stepPosition`` is read again whole when
/// scanning again from there; ``position`` is where the next one starts (`nil` once done).
protocol RedisKeySteps: AnyObject {
    /// The next non-empty step's keys, or `nil` at the end.
    func next() throws -> [[UInt8]]?
    var position: RedisScanPosition? { get }
    var stepPosition: RedisScanPosition? { get }
}

extension RedisKeyScan: RedisKeySteps {}

/// The keys of a range of hash slots of a Redis Cluster (a `slots` shard, ``DriverCore/Shard/slotRange``),
/// slot by slot in slot order, each read on its primary: `CLUSTER COUNTKEYSINSLOT` for a window of
/// slots (one pipeline per primary, all at once), then `CLUSTER GETKEYSINSLOT slot count` for as
/// many consecutive slots as fit in the budget. Only keys starting with the layout's data prefix
/// are kept (`session:`, or `app:` for adk-redis-014); no `SCAN` runs.
///
/// **Positions** are slots (``RedisScanPosition/node``, cursor `0`): a step is the keys of the
/// slots from its start to the slot before the next step's. **Memory** holds one step: at most
/// `budget` key names, or one slot's when a slot alone has more.
///
/// **Routing**: each slot command is sent to the slot's primary in the topology, right after an
/// `EXISTS` of a key of that slot on the same connection (``probeKeys``): a node that does not
/// serve the slot (the topology is stale) or is moving it answers that with `MOVED` or `ASK` instead
/// of silently counting no keys. A redirect, `CLUSTERDOWN`, or a slot without a primary is a
/// transient error: the engine reopens (a fresh topology) and resumes from the last token, whose
/// slot map digest decides whether the position still holds.
final class RedisSlotScan: RedisKeySteps {
    /// Slots counted per round trip.
    static let countWindow = 512

    private let keyspace: RedisClusterKeyspace
    private let end: Int
    private let prefix: [UInt8]
    private let budget: Int
    private(set) var position: RedisScanPosition?
    private(set) var stepPosition: RedisScanPosition?
    /// Slots counted ahead of the next step, in order, with their key counts.
    private var counted: [(slot: Int, count: Int)] = []

    /// Scans `slots` from `slot` on (clamped to the range; past its end: nothing to read).
    init(keyspace: RedisClusterKeyspace, slots: Range<Int>, from slot: Int, prefix: [UInt8], budget: Int) {
        self.keyspace = keyspace
        self.end = slots.upperBound
        self.prefix = prefix
        self.budget = max(1, budget)
        let start = max(slot, slots.lowerBound)
        position = start < slots.upperBound ? RedisScanPosition(node: start, cursor: "0") : nil
    }

    func next() throws -> [[UInt8]]? {
        while let start = position?.node {
            if counted.isEmpty { counted = try count(start..<min(start + Self.countWindow, end)) }
            var take = 0
            var total = 0
            while take < counted.count, take == 0 || total + counted[take].count <= budget {
                total += counted[take].count
                take += 1
            }
            let group = counted.prefix(take)
            counted.removeFirst(take)
            let last = group.last?.slot ?? start
            let keys = try fetch(group.filter { $0.count > 0 })
            position = last + 1 < end ? RedisScanPosition(node: last + 1, cursor: "0") : nil
            if !keys.isEmpty {
                stepPosition = RedisScanPosition(node: start, cursor: "0")
                return keys
            }
        }
        return nil
    }

    /// The number of keys in each slot of `slots`.
    private func count(_ slots: Range<Int>) throws -> [(slot: Int, count: Int)] {
        let commands = slots.map { slot in (slot, ["CLUSTER", "COUNTKEYSINSLOT", String(slot)].map { Array($0.utf8) }) }
        return try zip(slots, roundTrip(commands, context: "CLUSTER COUNTKEYSINSLOT")).map { slot, reply in
            guard case .integer(let count) = reply, count >= 0 else {
                throw RedisError(code: .query, message: "unexpected CLUSTER COUNTKEYSINSLOT reply \(reply.kind)", context: "CLUSTER COUNTKEYSINSLOT")
            }
            return (slot, Int(count))
        }
    }

    /// The data keys of these slots, in slot order. A slot asked for `n` keys that returns `n` (keys
    /// were added since it was counted) is asked again for twice as many, until it returns fewer.
    private func fetch(_ slots: [(slot: Int, count: Int)]) throws -> [[UInt8]] {
        var asked = slots.map { $0.count + max(16, $0.count / 8) }
        var found = [[[UInt8]]](repeating: [], count: slots.count)
        var pending = Array(slots.indices)
        while !pending.isEmpty {
            let commands = pending.map { index in
                (slots[index].slot, ["CLUSTER", "GETKEYSINSLOT", String(slots[index].slot), String(asked[index])].map { Array($0.utf8) })
            }
            let replies = try roundTrip(commands, context: "CLUSTER GETKEYSINSLOT")
            var again: [Int] = []
            for (index, reply) in zip(pending, replies) {
                guard let elements = reply.elements else {
                    throw RedisError(code: .query, message: "unexpected CLUSTER GETKEYSINSLOT reply \(reply.kind)", context: "CLUSTER GETKEYSINSLOT")
                }
                if elements.count >= asked[index] {
                    asked[index] *= 2
                    again.append(index)
                } else {
                    found[index] = elements.compactMap(\.bytes).filter { $0.starts(with: prefix) }
                }
            }
            pending = again
        }
        return found.flatMap { $0 }
    }

    /// Sends each command to its slot's primary after an `EXISTS` of a key of that slot (one pipeline
    /// per primary, all at once) and returns the commands' replies in order.
    private func roundTrip(_ commands: [(slot: Int, arguments: [[UInt8]])], context: String) throws -> [RedisReply] {
        var byNode: [String: [Int]] = [:]
        var order: [String] = []
        for (index, command) in commands.enumerated() {
            guard let shard = keyspace.topology.shard(forSlot: command.slot) else {
                throw RedisError(
                    code: .serverNotReady, serverErrorPrefix: "CLUSTERDOWN", message: "no primary serves hash slot \(command.slot)", context: context)
            }
            let address = keyspace.topology.shards[shard].address
            if byNode[address] == nil { order.append(address) }
            byNode[address, default: []].append(index)
        }
        let exists = Array("EXISTS".utf8)
        let sent = try keyspace.pipelines(
            order.map { address in
                (address, (byNode[address] ?? []).flatMap { [[exists, Self.probeKeys[commands[$0].slot]], commands[$0].arguments] })
            })
        var replies = [RedisReply](repeating: .null, count: commands.count)
        for (address, got) in zip(order, sent) {
            for (position, index) in (byNode[address] ?? []).enumerated() {
                let slot = commands[index].slot
                let (probe, reply) = (got[2 * position], got[2 * position + 1])
                try RedisClusterKeyspace.checkClusterDown(probe, command: RedisCommand([exists, Self.probeKeys[slot]], keyIndex: 1))
                if RedisRedirect(probe, seedHost: keyspace.seedHost) != nil {
                    throw RedisError(
                        code: .serverNotReady, message: "hash slot \(slot) moved or is moving (a resharding or a failover); resuming from the last position",
                        context: context)
                }
                if case .error(let message) = probe { throw failure(message, context: "EXISTS") }
                if case .error(let message) = reply { throw failure(message, context: context) }
                replies[index] = reply
            }
        }
        return replies
    }

    /// The error of a refused slot command; a user without the right to run it is told which.
    private func failure(_ message: String, context: String) -> RedisError {
        var error = RedisError.server(message, context: context, secret: keyspace.options.password)
        if error.serverErrorPrefix == "NOPERM" {
            error.message +=
                " (a shard by slots reads with EXISTS sessmigrate:slot:*, CLUSTER COUNTKEYSINSLOT and CLUSTER GETKEYSINSLOT: grant them, or shard by id)"
        }
        return error
    }

    /// For each hash slot, a key in it: `sessmigrate:slot:{ab}` whose hash tag is two bytes. CRC16 of
    /// two bytes (initial value 0) takes each 16-bit value exactly once, so every slot has four such
    /// tags; those holding `}` (which would end the tag) are passed over. Made once, on first use.
    static let probeKeys: [[UInt8]] = {
        var keys = [[UInt8]](repeating: [], count: RedisHashSlot.count)
        let close = UInt8(ascii: "}")
        for high in UInt8.min...UInt8.max where high != close {
            for low in UInt8.min...UInt8.max where low != close {
                let slot = Int(RedisHashSlot.crc16([high, low]) & 0x3FFF)
                if keys[slot].isEmpty { keys[slot] = Array("sessmigrate:slot:{".utf8) + [high, low, close] }
            }
        }
        return keys
    }()
}

@available(*, unavailable)
extension RedisSlotScan: Sendable {}
