import DriverCore
import SessionModel

/// A cluster redirect reply: `MOVED <slot> <host:port>` or `ASK <slot> <host:port>`.
struct RedisRedirect: Equatable {
    enum Kind { case moved, ask }
    var kind: Kind
    var slot: Int
    var address: String

    /// The redirect in `reply`, `nil` for any other reply. An empty host (`:6380`) is `seedHost`'s.
    init?(_ reply: RedisReply, seedHost: String) {
        guard case .error(let message) = reply else { return nil }
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]) else { return nil }
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        self.slot = slot
        address = parts[2].hasPrefix(":") ? seedHost + parts[2] : String(parts[2])
    }
}

extension RedisClusterKeyspace {
    /// Where one command goes in a round: the slot's owner, or (after `ASK`) a node, with `ASKING` first.
    private enum Route: Hashable {
        case owner
        case asking(String)
    }

    /// Runs the commands pipelined per node and returns one reply per command, in order (see the
    /// type's documentation for redirects). Keyless commands go to the first shard's primary.
    public func execute(_ commands: [RedisCommand]) throws -> [RedisReply] {
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var pending: [(index: Int, route: Route)] = commands.indices.map { ($0, .owner) }
        var round = 0
        while !pending.isEmpty {
            if round > Self.maxRedirects {
                throw RedisError(
                    code: .serverNotReady, message: "still redirected after \(Self.maxRedirects) rounds (slots are moving)",
                    context: RedisConnection.commandName(commands[pending[0].index].arguments))
            }
            round += 1
            var byNode: [String: [(index: Int, route: Route)]] = [:]
            var nodeOrder: [String] = []
            for item in pending {
                let address: String
                switch item.route {
                case .asking(let target): address = target
                case .owner: address = try owner(of: commands[item.index])
                }
                if byNode[address] == nil { nodeOrder.append(address) }
                byNode[address, default: []].append(item)
            }
            var next: [(index: Int, route: Route)] = []
            var moved = false
            let sent = try pipelines(
                nodeOrder.map { address in
                    var pipeline: [[[UInt8]]] = []
                    for item in byNode[address] ?? [] {
                        if case .asking = item.route { pipeline.append([Array("ASKING".utf8)]) }
                        pipeline.append(commands[item.index].arguments)
                    }
                    return (address, pipeline)
                })
            for (address, got) in zip(nodeOrder, sent) {
                let items = byNode[address] ?? []
                var position = 0
                for item in items {
                    if case .asking = item.route { position += 1 }  // ASKING's own +OK
                    let reply = got[position]
                    position += 1
                    try Self.checkClusterDown(reply, command: commands[item.index])
                    switch RedisRedirect(reply, seedHost: seedHost) {
                    case .some(let redirect) where redirect.kind == .moved:
                        moved = true
                        next.append((item.index, .owner))
                    case .some(let redirect):
                        // ASK: once, to that node; a second ASK there goes back to the owner.
                        if case .asking = item.route { next.append((item.index, .owner)) } else { next.append((item.index, .asking(redirect.address))) }
                    case .none:
                        replies[item.index] = reply
                    }
                }
            }
            if moved { try refreshTopology() }
            pending = next.sorted { $0.index < $1.index }
        }
        return replies.map { $0 ?? .null }
    }

    /// The address of the primary serving `command`'s key (keyless: the first shard's).
    func owner(of command: RedisCommand) throws -> String {
        guard let key = command.key else { return topology.shards[0].address }
        let slot = RedisHashSlot.slot(of: key)
        guard let shard = topology.shard(forSlot: slot) else {
            throw RedisError(
                code: .serverNotReady, serverErrorPrefix: "CLUSTERDOWN", message: "no primary serves hash slot \(slot)",
                context: RedisConnection.commandName(command.arguments))
        }
        return topology.shards[shard].address
    }

    /// `CLUSTERDOWN` (the cluster cannot serve the slot now, a failover in progress) is transient.
    static func checkClusterDown(_ reply: RedisReply, command: RedisCommand) throws {
        guard case .error(let message) = reply, message.hasPrefix("CLUSTERDOWN") else { return }
        throw RedisError(
            code: .serverNotReady, serverErrorPrefix: "CLUSTERDOWN", message: message,
            context: RedisConnection.commandName(command.arguments))
    }

    /// Runs each group as transactions per hash slot: a group is split into subgroups of one slot
    /// each (`MULTI`/`EXEC` on that slot's primary), in the order their slots first appear in the
    /// group. Two waves: the first subgroup of every group, then, once all of those succeeded, all
    /// the other subgroups at once. So the first command's key (the session blob) is always written
    /// before the keys that list it, in two round trips per batch however many slots a group spans.
    /// A subgroup redirected while queued (`MOVED`/`ASK` inside `MULTI`, `EXECABORT`) runs again
    /// after a topology refresh, bounded; after `ASK` it runs as plain commands (each one
    /// idempotent) through ``execute(_:)``, which follows `ASK`.
    public func executeTransactions(_ groups: [[RedisCommand]]) throws -> [[RedisReply]] {
        var results: [[RedisReply?]] = groups.map { [RedisReply?](repeating: nil, count: $0.count) }
        let split: [[[Int]]] = groups.map { group in
            var bySlot: [Int: Int] = [:]
            var parts: [[Int]] = []
            for (index, command) in group.enumerated() {
                let slot = command.key.map { RedisHashSlot.slot(of: $0) } ?? -1
                if let part = bySlot[slot] {
                    parts[part].append(index)
                } else {
                    bySlot[slot] = parts.count
                    parts.append([index])
                }
            }
            return parts
        }
        let first = groups.indices.compactMap { g in split[g].first.map { (group: g, commands: $0) } }
        let rest = groups.indices.flatMap { g in split[g].dropFirst().map { (group: g, commands: $0) } }
        for wave in [first, rest] where !wave.isEmpty {
            var units = wave
            var round = 0
            while !units.isEmpty {
                if round > Self.maxRedirects {
                    throw RedisError(code: .serverNotReady, message: "transactions still redirected after \(Self.maxRedirects) rounds", context: "EXEC")
                }
                round += 1
                var again: [(group: Int, commands: [Int])] = []
                var plain: [(group: Int, commands: [Int])] = []
                var byNode: [String: [(group: Int, commands: [Int])]] = [:]
                var nodeOrder: [String] = []
                for unit in units {
                    let address = try owner(of: groups[unit.group][unit.commands[0]])
                    if byNode[address] == nil { nodeOrder.append(address) }
                    byNode[address, default: []].append(unit)
                }
                let sent = try pipelines(
                    nodeOrder.map { address in
                        var pipeline: [[[UInt8]]] = []
                        for unit in byNode[address] ?? [] {
                            pipeline.append([Array("MULTI".utf8)])
                            pipeline += unit.commands.map { groups[unit.group][$0].arguments }
                            pipeline.append([Array("EXEC".utf8)])
                        }
                        return (address, pipeline)
                    })
                for (address, got) in zip(nodeOrder, sent) {
                    let batch = byNode[address] ?? []
                    var position = 0
                    for unit in batch {
                        let queued = got[(position + 1)..<(position + 1 + unit.commands.count)]
                        let exec = got[position + 1 + unit.commands.count]
                        position += unit.commands.count + 2
                        let redirects = queued.compactMap { RedisRedirect($0, seedHost: seedHost) }
                        if let first = redirects.first {
                            if first.kind == .ask { plain.append(unit) } else { again.append(unit) }
                            continue
                        }
                        for (offset, reply) in zip(unit.commands, queued) {
                            try Self.checkClusterDown(reply, command: groups[unit.group][offset])
                            if case .error(let message) = reply {
                                throw RedisError.server(
                                    message, context: RedisConnection.commandName(groups[unit.group][offset].arguments) + " in MULTI", secret: options.password)
                            }
                        }
                        guard case .array(let execReplies) = exec, execReplies.count == unit.commands.count else {
                            if case .error(let message) = exec { throw RedisError.server(message, context: "EXEC", secret: options.password) }
                            throw RedisError(code: .query, message: "transaction aborted (EXEC replied \(exec.kind))", context: "EXEC")
                        }
                        for (offset, reply) in zip(unit.commands, execReplies) { results[unit.group][offset] = reply }
                    }
                }
                for unit in plain {
                    let replies = try execute(unit.commands.map { groups[unit.group][$0] })
                    for (offset, reply) in zip(unit.commands, replies) { results[unit.group][offset] = reply }
                }
                if !again.isEmpty { try refreshTopology() }
                units = again
            }
        }
        return results.map { $0.map { $0 ?? .null } }
    }
}
