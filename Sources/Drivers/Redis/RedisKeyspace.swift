import DriverCore

/// One command and the key it touches, so a cluster router can send it to the right node.
public struct RedisCommand: Sendable, Hashable {
    /// The command and its arguments, binary safe.
    public var arguments: [[UInt8]]
    /// The key whose hash slot picks the node; `nil` for keyless commands (any node).
    public var key: [UInt8]?

    /// The words of `SCAN cursor MATCH pattern COUNT count`.
    static func scanWords(cursor: String, match pattern: String, count: Int) -> [String] {
        ["SCAN", cursor, "MATCH", pattern, "COUNT", String(count)]
    }

    /// A command touching `key`.
    public init(_ arguments: [[UInt8]], key: [UInt8]?) {
        self.arguments = arguments
        self.key = key
    }

    /// A command whose argument at `keyIndex` (if any) is its key.
    public init(_ arguments: [[UInt8]], keyIndex: Int?) {
        self.arguments = arguments
        self.key = keyIndex.flatMap { arguments.indices.contains($0) ? arguments[$0] : nil }
    }
}

/// A Redis server version such as 7.0.15.
public struct RedisServerVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// E.g. 7 in 7.0.15.
    public var major: Int
    /// E.g. 0 in 7.0.15.
    public var minor: Int
    /// E.g. 15 in 7.0.15.
    public var patch: Int

    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `redis_version:` out of `INFO server` text; `nil` when absent.
    public init?(info: String) {
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("redis_version:") })
        else { return nil }
        let numbers = line.dropFirst("redis_version:".count).split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
        self.init(major: numbers.first ?? 0, minor: numbers.dropFirst().first ?? 0, patch: numbers.dropFirst(2).first ?? 0)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

/// The keys of one Redis deployment, as the session store sees them.
///
/// The store never talks to a ``RedisConnection`` directly, so that a Redis Cluster router can
/// be added without touching it:
/// - **Scanning** walks `SCAN` on every node in turn (``nodeCount`` nodes, each with its own
///   cursor); a standalone server is one node. See ``RedisKeyScan``.
/// - **Commands** carry the key they touch (``RedisCommand/key``). A router groups them per
///   node by ``RedisHashSlot`` and pipelines each group; replies come back in command order.
/// - **Transactions**: on a standalone server every group is one `MULTI`/`EXEC`. Keys of one
///   community session (`session:{id}`, `app:{app}`, `user:{app}:{user}`, `app::{app}:{user}`)
///   hash to different slots, so on a cluster a group is split per slot, one `MULTI`/`EXEC` each,
///   run in the order the slots first appear in the group (``RedisClusterKeyspace``): the blob,
///   written first, is in place before the set that lists it. Each command is idempotent, so a
///   retry repairs a partial write.
///
/// Requirements are the per-node primitives; ``scanKeys(match:count:)`` is built on them.
public protocol RedisKeyspace: AnyObject {
    /// Number of nodes whose keys together form the keyspace (1 for a standalone server).
    var nodeCount: Int { get }
    /// One `SCAN cursor MATCH pattern COUNT count` step on one node; returns the next cursor
    /// (`"0"` when that node is done) and the keys found.
    func scan(node: Int, cursor: String, match pattern: String, count: Int) throws -> (cursor: String, keys: [[UInt8]])
    /// Runs the commands pipelined (per node) and returns one reply per command, in order.
    /// Error replies are returned in place.
    func execute(_ commands: [RedisCommand]) throws -> [RedisReply]
    /// Runs each group atomically where possible (see the type's documentation) and returns the
    /// replies of each group's commands. Throws if a transaction is aborted.
    func executeTransactions(_ groups: [[RedisCommand]]) throws -> [[RedisReply]]
    /// The oldest server version among the nodes.
    func fetchServerVersion() throws -> RedisServerVersion
    /// Runs one keyless command on every node (once each) and returns the replies in node order
    /// (`SCRIPT LOAD`, `INFO`, `DBSIZE`).
    func executeOnEveryNode(_ arguments: [[UInt8]]) throws -> [RedisReply]
    /// The cluster's slot map; `nil` for a standalone server.
    var clusterTopology: RedisClusterTopology? { get }
    /// For each node, the process its `SCAN` cursors belong to (16 hex digits of its `run_id`;
    /// `nil` when `INFO` is refused). Only a cluster keyspace needs them; a standalone server's
    /// tokens carry its epoch as a whole.
    func nodeEpochs() throws -> [String?]
    /// Closes every connection.
    func close()
}

extension RedisKeyspace {
    public var clusterTopology: RedisClusterTopology? { nil }
    public func nodeEpochs() throws -> [String?] { Array(repeating: nil, count: nodeCount) }

    /// Starts a streaming `SCAN` over every node, at `position` (the beginning by default).
    /// Memory stays bounded by one `SCAN` reply.
    public func scanKeys(match pattern: String, count: Int, from position: RedisScanPosition = .start) -> RedisKeyScan {
        RedisKeyScan(keyspace: self, patterns: [pattern], count: count, from: position)
    }
}

/// Where a keyspace-wide scan stands: the node being scanned and that node's `SCAN` cursor.
/// A public value so a journal can store it and resume.
///
/// A scan of several patterns walks (pattern, node) units in order, pattern-major: `node` is then
/// the unit's index, `pattern × nodeCount + node`.
public struct RedisScanPosition: Sendable, Hashable {
    /// Index of the node (or pattern and node unit) being scanned.
    public var node: Int
    /// That node's `SCAN` cursor (`"0"` = start).
    public var cursor: String

    public init(node: Int, cursor: String) {
        self.node = node
        self.cursor = cursor
    }

    /// The beginning of a scan.
    public static let start = RedisScanPosition(node: 0, cursor: "0")
}

/// A single-pass, node-by-node `SCAN` (never `KEYS`).
///
/// `SCAN` guarantees every key present for the whole scan is returned at least once, but may
/// return a key more than once; callers de-duplicate within a batch and rely on idempotent
/// writes for the rare duplicate across batches.
public final class RedisKeyScan {
    private let keyspace: any RedisKeyspace
    private let patterns: [String]
    private let count: Int
    /// (pattern, node) units: patterns × nodes.
    public var unitCount: Int { patterns.count * keyspace.nodeCount }
    /// Where the next step starts; `nil` once every node is done.
    public private(set) var position: RedisScanPosition?
    /// Where the step that returned the keys of the last ``next()`` started: scanning again from
    /// there returns those keys again (and any others of the same step). `nil` before the first.
    public private(set) var stepPosition: RedisScanPosition?
    /// Steps fetched on a connection and thread of their own (``RedisScanAhead``), when given.
    private let ahead: RedisScanAhead?

    /// A scan starting at `position`; a unit index at or past ``unitCount`` means done.
    init(keyspace: any RedisKeyspace, patterns: [String], count: Int, from position: RedisScanPosition = .start, ahead: RedisScanAhead? = nil) {
        self.ahead = ahead
        self.keyspace = keyspace
        self.patterns = patterns
        self.count = max(1, count)
        self.position = position.node < patterns.count * keyspace.nodeCount ? position : nil
    }

    deinit { ahead?.stop() }

    /// The next non-empty batch of keys (one or more `SCAN` steps), or `nil` at the end.
    public func next() throws -> [[UInt8]]? {
        if let ahead {
            guard position != nil, let step = try ahead.take() else {
                position = nil
                return nil
            }
            (stepPosition, position) = (step.start, step.next)
            return step.keys
        }
        let nodes = keyspace.nodeCount
        while let current = position {
            let (cursor, keys) = try keyspace.scan(
                node: current.node % nodes, cursor: current.cursor, match: patterns[current.node / nodes], count: count)
            if cursor != "0" {
                position = RedisScanPosition(node: current.node, cursor: cursor)
            } else if current.node + 1 < unitCount {
                position = RedisScanPosition(node: current.node + 1, cursor: "0")
            } else {
                position = nil
            }
            if !keys.isEmpty {
                stepPosition = current
                return keys
            }
        }
        return nil
    }
}

@available(*, unavailable)
extension RedisKeyScan: Sendable {}
