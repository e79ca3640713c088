import DriverCore
import SessionModel

/// The keyspace of a Redis Cluster: one connection per primary, every key routed by its hash slot.
///
/// - **Discovery**: `CLUSTER SHARDS` (Redis 7+), else `CLUSTER SLOTS`, asked of the node the
///   address names (any node, replica included). Connections to the other primaries open lazily
///   with the same TLS options and credentials; a password command (``passwordProvider``) runs
///   for each of them.
/// - **Pipelining per node**: a batch's commands are grouped by owner, each group is one pipeline,
///   replies go back in command order (``execute(_:)``, in `RedisClusterKeyspace+Execute.swift`).
/// - **Redirects**: `MOVED` refreshes the topology and sends the command to the new owner; `ASK`
///   sends `ASKING` and the command to the named node, once; at most ``maxRedirects`` rounds.
///   `CLUSTERDOWN` and `TRYAGAIN` are transient (``DriverErrorCode/serverNotReady``). A redirect
///   is never returned as a reply, so it can never be read as data.
/// - **Scans** walk the shards in slot order (``RedisClusterTopology``); once the topology changed
///   under this keyspace (a failover, a resharding seen through a `MOVED`), ``scan(node:cursor:match:count:)``
///   throws a transient error, so the copy resumes from its token, which restarts what it must.
///
/// Not `Sendable`: one thread at a time, like its connections.
public final class RedisClusterKeyspace: RedisKeyspace {
    /// Redirect rounds per call before giving up (transiently).
    static let maxRedirects = 5

    let seedHost: String
    let options: RedisConnectionOptions
    /// Runs for every connection opened after the first (`nil`: reuse ``options``' password).
    let passwordProvider: (() throws -> String?)?
    /// The topology in use; refreshed on `MOVED`.
    public internal(set) var topology: RedisClusterTopology
    /// The slot map digest and each shard's primary when this keyspace opened.
    let openedDigest: String
    let openedPrimaries: [String]
    /// True once a refresh found another slot map or another primary for a shard.
    public internal(set) var topologyChanged = false
    var connections: [String: RedisConnection] = [:]

    /// Takes ownership of `seed` (a connection to any node of the cluster) and discovers the topology.
    public init(seed: RedisConnection, host: String, options: RedisConnectionOptions, passwordProvider: (() throws -> String?)?) throws {
        self.seedHost = host
        self.options = options
        self.passwordProvider = passwordProvider
        let topology: RedisClusterTopology
        do {
            topology = try Self.discover(seed, seedHost: host, tls: options.tls != nil)
        } catch {
            seed.close()
            throw error
        }
        self.topology = topology
        self.openedDigest = topology.digest
        self.openedPrimaries = topology.shards.map(\.nodeID)
        if case .tcp(let seedHost, let port) = seed.endpoint, topology.shards.contains(where: { $0.address == "\(seedHost):\(port)" }) {
            connections["\(seedHost):\(port)"] = seed
        } else {
            seed.close()
        }
    }

    deinit { close() }

    /// True when `connection`'s server runs in cluster mode (`INFO cluster` says `cluster_enabled:1`).
    /// A server that refuses `INFO` is taken as standalone.
    public static func isCluster(_ connection: RedisConnection) throws -> Bool {
        let reply = try connection.command(["INFO", "cluster"])
        guard let text = reply.text else { return false }
        return text.split(whereSeparator: \.isNewline).contains { $0.hasPrefix("cluster_enabled:1") }
    }

    static func discover(_ connection: RedisConnection, seedHost: String, tls: Bool) throws -> RedisClusterTopology {
        let shards = try connection.command(["CLUSTER", "SHARDS"])
        let topology: RedisClusterTopology
        if case .error(let message) = shards {
            guard message.uppercased().contains("UNKNOWN") || message.uppercased().contains("SUBCOMMAND") else {
                throw connection.error(for: message, context: "CLUSTER SHARDS")
            }
            let slots = try connection.command(["CLUSTER", "SLOTS"])
            if case .error(let message) = slots { throw connection.error(for: message, context: "CLUSTER SLOTS") }
            topology = try RedisClusterTopology.parse(slots: slots, seedHost: seedHost)
        } else {
            topology = try RedisClusterTopology.parse(shards: shards, seedHost: seedHost, tls: tls)
        }
        guard !topology.shards.isEmpty else {
            throw RedisError(code: .serverNotReady, serverErrorPrefix: "CLUSTERDOWN", message: "the cluster serves no slots yet", context: "CLUSTER SHARDS")
        }
        return topology
    }

    public var nodeCount: Int { topology.shards.count }

    /// The connection to `address` (`host:port`), opened on first use.
    func connection(to address: String) throws -> RedisConnection {
        if let open = connections[address] { return open }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw RedisError(code: .query, message: "a cluster node address without a port: \(Printable.name(address))", context: "cluster routing")
        }
        var nodeOptions = options
        nodeOptions.database = 0
        if let passwordProvider { nodeOptions.password = try passwordProvider() }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let connection = try RedisConnection.open(.tcp(host: host, port: port), options: nodeOptions)
        connections[address] = connection
        return connection
    }

    /// Forgets a connection that failed (it is unusable after an I/O error).
    func drop(_ address: String) {
        connections.removeValue(forKey: address)?.close()
    }

    /// Asks the cluster for its topology again (any reachable primary, the seed host's first), and
    /// notes whether it changed since this keyspace opened.
    func refreshTopology() throws {
        var lastError: (any Error)?
        for shard in topology.shards {
            do {
                let fresh = try Self.discover(try connection(to: shard.address), seedHost: seedHost, tls: options.tls != nil)
                topology = fresh
                if fresh.digest != openedDigest || fresh.shards.map(\.nodeID) != openedPrimaries { topologyChanged = true }
                return
            } catch let error as RedisError where error.isTransient || error.code == .io {
                drop(shard.address)
                lastError = error
            }
        }
        throw lastError ?? RedisError(code: .connectionFailed, message: "no cluster node answered", context: "CLUSTER SHARDS")
    }

    public func scan(node: Int, cursor: String, match pattern: String, count: Int) throws -> (cursor: String, keys: [[UInt8]]) {
        if topologyChanged {
            throw RedisError(
                code: .serverNotReady, message: "the cluster topology changed during the scan (a failover or a resharding); resuming from the last position",
                context: "SCAN")
        }
        guard topology.shards.indices.contains(node) else {
            throw RedisError(code: .query, message: "no cluster shard #\(node)", context: "SCAN")
        }
        let address = topology.shards[node].address
        let reply = try withNode(address) { try $0.command(RedisCommand.scanWords(cursor: cursor, match: pattern, count: count)) }
        if case .error(let message) = reply { throw RedisError.server(message, context: "SCAN", secret: options.password) }
        guard let step = reply.scanStep else { throw RedisError(code: .query, message: "unexpected SCAN reply \(reply.kind)", context: "SCAN") }
        return step
    }

    /// Runs `body` on the connection to `address`, dropping the connection when it fails.
    func withNode<T>(_ address: String, _ body: (RedisConnection) throws -> T) throws -> T {
        let connection = try connection(to: address)
        do {
            return try body(connection)
        } catch {
            throw nodeFailure(address, error)
        }
    }

    public func executeOnEveryNode(_ arguments: [[UInt8]]) throws -> [RedisReply] {
        try topology.shards.map { shard in try withNode(shard.address) { try $0.command(arguments) } }
    }

    public func fetchServerVersion() throws -> RedisServerVersion {
        var oldest: RedisServerVersion?
        for reply in try executeOnEveryNode([Array("INFO".utf8), Array("server".utf8)]) {
            guard let text = reply.text, let version = RedisServerVersion(info: text) else {
                throw RedisError(code: .query, message: "INFO server has no redis_version", context: "INFO")
            }
            oldest = min(oldest ?? version, version)
        }
        guard let oldest else { throw RedisError(code: .query, message: "the cluster has no primaries", context: "INFO") }
        return oldest
    }

    /// The first 16 hex digits of each shard primary's `run_id`, in shard order (`nil` where `INFO`
    /// is refused): a `SCAN` cursor is valid only on the process that returned it.
    public func nodeEpochs() throws -> [String?] {
        try executeOnEveryNode([Array("INFO".utf8), Array("server".utf8)]).map { reply in
            guard let text = reply.text,
                let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("run_id:") })
            else { return nil }
            let id = line.dropFirst("run_id:".count).prefix(16)
            return id.count == 16 && id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) ? String(id) : nil
        }
    }

    public var clusterTopology: RedisClusterTopology? { topology }

    public func close() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
    }

    /// How the connections are protected, for `inspect` (see ``RedisConnection/securityDescription``).
    public var connectionSecurity: String? { connections.values.first?.securityDescription }
}

@available(*, unavailable)
extension RedisClusterKeyspace: Sendable {}
