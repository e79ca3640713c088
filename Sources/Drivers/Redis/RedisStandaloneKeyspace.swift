import DriverCore

/// The keyspace of one standalone Redis server (one node, one connection).
///
/// Everything goes through one pipeline per call; every transaction group becomes
/// `MULTI`, its commands, `EXEC`, all groups in the same pipeline.
public final class RedisStandaloneKeyspace: RedisKeyspace {
    private let connection: RedisConnection

    /// Takes ownership of `connection`; ``close()`` closes it.
    public init(connection: RedisConnection) {
        self.connection = connection
    }

    public var nodeCount: Int { 1 }

    public func scan(node: Int, cursor: String, match pattern: String, count: Int) throws -> (cursor: String, keys: [[UInt8]]) {
        let reply = try connection.command(RedisCommand.scanWords(cursor: cursor, match: pattern, count: count))
        if case .error(let message) = reply { throw connection.error(for: message, context: "SCAN") }
        guard let step = reply.scanStep else { throw RedisError(code: .query, message: "unexpected SCAN reply \(reply.kind)", context: "SCAN") }
        return step
    }

    public func execute(_ commands: [RedisCommand]) throws -> [RedisReply] {
        try connection.pipeline(commands.map { $0.arguments })
    }

    public func executeTransactions(_ groups: [[RedisCommand]]) throws -> [[RedisReply]] {
        var pipeline: [[[UInt8]]] = []
        pipeline.reserveCapacity(groups.reduce(0) { $0 + $1.count + 2 })
        for group in groups {
            pipeline.append([Array("MULTI".utf8)])
            pipeline.append(contentsOf: group.map(\.arguments))
            pipeline.append([Array("EXEC".utf8)])
        }
        let replies = try connection.pipeline(pipeline)
        var results: [[RedisReply]] = []
        results.reserveCapacity(groups.count)
        var index = 0
        for group in groups {
            try connection.expectOK(replies[index], context: "MULTI")
            for (offset, command) in group.enumerated() {
                let queued = replies[index + 1 + offset]
                if case .error(let message) = queued {
                    throw connection.error(for: message, context: RedisConnection.commandName(command.arguments) + " in MULTI")
                }
            }
            index += group.count + 1
            switch replies[index] {
            case .array(let execReplies) where execReplies.count == group.count:
                results.append(execReplies)
            case .error(let message):
                throw connection.error(for: message, context: "EXEC")
            default:
                throw RedisError(code: .query, message: "transaction aborted (EXEC replied \(replies[index].kind))", context: "EXEC")
            }
            index += 1
        }
        return results
    }

    public func fetchServerVersion() throws -> RedisServerVersion {
        let reply = try connection.command(["INFO", "server"])
        if case .error(let message) = reply { throw connection.error(for: message, context: "INFO") }
        guard let text = reply.text, let version = RedisServerVersion(info: text) else {
            throw RedisError(code: .query, message: "INFO server has no redis_version", context: "INFO")
        }
        return version
    }

    public func executeOnEveryNode(_ arguments: [[UInt8]]) throws -> [RedisReply] {
        [try connection.command(arguments)]
    }

    public func close() {
        connection.close()
    }

    /// How the connection is protected, for `inspect` (see ``RedisConnection/securityDescription``).
    public var connectionSecurity: String { connection.securityDescription }
}

@available(*, unavailable)
extension RedisStandaloneKeyspace: Sendable {}
