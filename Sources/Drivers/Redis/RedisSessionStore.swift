import DriverCore
import SessionModel

/// ADK sessions in a Redis database or Redis Cluster, in one of the ``RedisLayout``s.
///
/// - **Layout.** Given in ``RedisStoreConfig/layout`` or detected at ``open(_:passwordProvider:)``
///   from a sample of `session:*` blobs and `app:*` keys (see `detectLayout`, in
///   `RedisLayoutDetection.swift`). Two layouts → "mixed layouts" error naming a key of each. No
///   session keys → layout `empty`: reads yield nothing and writes are refused until a layout is given.
/// - **Cluster.** A cluster node's address is used as the whole cluster (``RedisClusterKeyspace``).
/// - **Reading** streams `SCAN MATCH session:* COUNT batchSize` (never `KEYS`), see
///   ``RedisSessionLoader``. Redis keeps no creation time (`createTime` is `nil`); `PTTL` gives
///   `expiry`.
/// - **Writing** pipelines one `MULTI`/`EXEC` per session, see `writeSessions(_:)`.
///
/// Not `Sendable`: use a store from one thread at a time.
public final class RedisSessionStore: SessionStore {
    let keyspace: any RedisKeyspace
    let config: RedisStoreConfig
    /// The password of each further connection (a password command runs for each).
    let passwordProvider: (() throws -> String?)?
    let layoutState: RedisLayoutState
    var serverVersion: RedisServerVersion?
    /// The server's `proto-max-bulk-len`, asked on the first write (see `maxBulkLength()`).
    var cachedMaxBulkLength: Int?
    /// Keys listed by a scan whose blob was gone when loaded (see ``listedSessionsMissing``).
    let missingKeys = RedisMissingKeyCounter()
    /// The fenced-write script was loaded on this connection (`SCRIPT LOAD`).
    var fenceScriptLoaded = false
    private var closed = false

    init(keyspace: any RedisKeyspace, config: RedisStoreConfig, layoutState: RedisLayoutState, passwordProvider: (() throws -> String?)? = nil) {
        self.passwordProvider = passwordProvider
        self.keyspace = keyspace
        self.config = config
        self.layoutState = layoutState
    }

    deinit {
        // Last resort: callers are expected to call close().
        if !closed { keyspace.close() }
    }

    /// Connects, authenticates, selects the database and settles the layout.
    ///
    /// A layout given in the configuration is checked against the data too: a database whose
    /// sampled blobs are all of the other layout is refused (a sample, as for detection, within the
    /// first 50,000 keys scanned), unless ``RedisStoreConfig/layoutConfirmed`` says an earlier open
    /// of the same run made that check. Targets are checked further by ``checkRecognisedForWriting(sampleSize:maxScanSteps:)``.
    ///
    /// A cluster node (`INFO cluster` says `cluster_enabled:1`) is used as the whole cluster
    /// (``RedisClusterKeyspace``) unless ``RedisStoreConfig/cluster`` is `.no`; `passwordProvider`
    /// gives the password of each further connection (a password command runs for each).
    public static func open(_ config: RedisStoreConfig, passwordProvider: (() throws -> String?)? = nil) throws -> RedisSessionStore {
        let keyspace = try openKeyspace(config, passwordProvider: passwordProvider)
        do {
            let state: RedisLayoutState
            if let given = config.layout {
                // Mixed layouts are left to the reads, which name each foreign key (and to the target check).
                if !config.layoutConfirmed, let evidence = try? detectEvidence(keyspace, maxScanSteps: 50, indexKeys: 1), !evidence.allows(given),
                    case .known(let found)? = try? evidence.conclusion(unknownIsError: false)
                {
                    throw RedisError(
                        code: .unsupported,
                        message: "layout=\(given.rawValue) was given, but the database holds \(found.rawValue) sessions; refusing to mix layouts",
                        context: "layout check")
                }
                state = .known(given)
            } else {
                state = try detectLayout(keyspace)
            }
            return RedisSessionStore(keyspace: keyspace, config: config, layoutState: state, passwordProvider: passwordProvider)
        } catch {
            keyspace.close()
            throw error
        }
    }

    /// A standalone or cluster keyspace for `config` (see ``open(_:passwordProvider:)``).
    static func openKeyspace(_ config: RedisStoreConfig, passwordProvider: (() throws -> String?)?) throws -> any RedisKeyspace {
        var options = config.connectionOptions
        options.database = 0
        let connection = try RedisConnection.open(config.endpoint, options: options)
        do {
            if try RedisClusterKeyspace.isCluster(connection) {
                guard config.cluster != .no else {
                    throw RedisError(
                        code: .unsupported,
                        message: "\(config.endpoint) is a Redis Cluster node, and cluster=no was given; remove ?cluster=no to use the cluster",
                        context: "cluster detection")
                }
                guard config.database == 0 else {
                    throw RedisError(
                        code: .unsupported,
                        message: "\(config.endpoint) is a Redis Cluster node: a cluster has only database 0 (remove /\(config.database) from the address)",
                        context: "cluster detection")
                }
                let host = if case .tcp(let host, _) = config.endpoint { host } else { "127.0.0.1" }
                return try RedisClusterKeyspace(seed: connection, host: host, options: config.connectionOptions, passwordProvider: passwordProvider)
            }
            guard config.cluster != .yes else {
                throw RedisError(
                    code: .unsupported, message: "\(config.endpoint) is not a Redis Cluster node (cluster_enabled is not 1), and cluster=yes was given",
                    context: "cluster detection")
            }
            if config.database != 0 {
                try connection.expectOK(connection.command(["SELECT", String(config.database)]), context: "SELECT")
            }
            return RedisStandaloneKeyspace(connection: connection)
        } catch {
            connection.close()
            throw error
        }
    }

    /// `redis community`, `redis adk-redis`, or `redis empty` when nothing was there to detect.
    public var layout: StoreLayout { layoutState.storeLayout }

    /// The layout detected or given, once settled (`nil` for an empty database with none given).
    public var settledLayout: RedisLayout? {
        if case .known(let layout) = layoutState { layout } else { nil }
    }

    public var slotKeying: SlotKeying? { SlotKeying(form: settledLayout?.shardKeyForm, isCluster: keyspace is RedisClusterKeyspace) }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: false, keepsExpiry: true) }

    /// Reads the sessions of `query.scope` as ``RedisScopePlan`` compiles it for the layout: direct
    /// `GET`s of known keys (given session ids, community index sets) with a keyset resume token
    /// (``RedisKeyListCursor``), or `SCAN`s of one or more key patterns whose resume token is a
    /// `SCAN` position (``RedisResumePoint``, see `RedisSessionCursor` for what a resumed scan
    /// repeats). A token is valid for a scan of the same scope.
    ///
    /// A `SCAN` cursor means nothing to another server process: Redis seeds its key hashing at
    /// random on every start, so after a restart the same cursor covers other keys. Tokens carry
    /// the server's epoch (its `run_id`); a token from another epoch starts the scan over, which
    /// repeats sessions (harmless: writes are idempotent) but never skips one.
    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        guard case .known(let layout) = layoutState else {
            // Nothing to read; a token is still checked, as a scan of the whole keyspace would.
            _ = try query.resumeAfter.map { try RedisResumePoint(token: $0, nodeCount: keyspace.nodeCount) }
            return RedisSessionCursor(
                scan: nil, loader: nil, batchSize: query.batchSize, nodeCount: keyspace.nodeCount, start: nil,
                startToken: query.resumeAfter)
        }
        let plan = try RedisScopePlan(scope: query.scope, layout: layout, keyspace: keyspace)
        let loader = RedisSessionLoader(keyspace: keyspace, layout: layout, missing: missingKeys, eventStyle: query.eventStyle)
        switch plan.source {
        case .keys(let keys):
            return try RedisKeyListCursor(
                keys: keys, loader: loader, filter: plan.filter, batchSize: query.batchSize, resumeAfter: query.resumeAfter,
                skipBad: query.skipBad)
        case .scan(let patterns):
            if let cursor = slotCursor(query, layout: layout, filter: plan.filter, loader: loader) { return cursor }
            let units = patterns.count * keyspace.nodeCount
            let (epoch, nodeEpochs) = try fetchScanEpochs()
            // A cluster slot position (`k1:`, a `slots` shard read where it can no longer be) starts the scan over.
            let resumeAfter = query.resumeAfter.flatMap { (try? RedisResumePoint(slotToken: $0)) == nil ? $0 : nil }
            var start = try resumeAfter.map { try RedisResumePoint(token: $0, nodeCount: units) }
            var startToken = resumeAfter
            if let point = start, Self.startsOver(point, epoch: epoch, nodeEpochs: nodeEpochs) {
                start = nil
                startToken = nil
            } else if let point = start, let nodeEpochs, point.position.node < units,
                point.nodeEpoch != (nodeEpochs[point.position.node % nodeEpochs.count] ?? RedisResumePoint.unknownNodeEpoch)
            {
                // Same slot map, another process on this shard (a failover): that shard's scan starts over.
                start = RedisResumePoint(position: RedisScanPosition(node: point.position.node, cursor: "0"), epoch: epoch)
                startToken = nil
            }
            // A filtered scan keeps few of the keys it walks: larger SCAN steps mean fewer round trips.
            let count = query.scope.isEmpty ? query.batchSize : max(query.batchSize, 5000)
            let from = start?.position ?? .start
            let ahead = try scanAhead(for: query.scope, layout: layout, patterns: patterns, count: count, from: from)
            return RedisSessionCursor(
                scan: RedisKeyScan(keyspace: keyspace, patterns: patterns, count: count, from: from, ahead: ahead),
                loader: loader, batchSize: query.batchSize, nodeCount: units, start: start, startToken: startToken, epoch: epoch,
                nodeEpochs: nodeEpochs, skipBad: query.skipBad, filter: query.scope.isEmpty && !layout.sharesKeys ? nil : plan.filter)
        }
    }

    /// For a time-bounded scan of a standalone server (the one kind that reads a tail of every blob):
    /// its `SCAN` steps fetched ahead on a second connection (``RedisScanAhead``); `nil` otherwise.
    private func scanAhead(
        for scope: SessionScope, layout: RedisLayout, patterns: [String], count: Int, from position: RedisScanPosition
    ) throws -> RedisScanAhead? {
        guard !scope.isKeyOnly, !layout.sharesKeys, keyspace is RedisStandaloneKeyspace, position.node < patterns.count else { return nil }
        var fresh = config
        if let passwordProvider { fresh.password = try passwordProvider() }  // a password command runs for every connection
        let opened = try Self.openKeyspace(fresh, passwordProvider: passwordProvider)
        guard let second = opened as? RedisStandaloneKeyspace else {
            opened.close()  // the address now leads to a cluster: this scan reads on one connection
            return nil
        }
        return RedisScanAhead(keyspace: second, patterns: patterns, count: count, from: position)
    }

    /// True when a token cannot continue here: another server process (standalone), another slot
    /// map or a token of the other kind (a cluster token on a standalone server, or the reverse).
    static func startsOver(_ point: RedisResumePoint, epoch: String?, nodeEpochs: [String?]?) -> Bool {
        if nodeEpochs != nil { return point.nodeEpoch == nil || point.epoch != epoch }
        return point.nodeEpoch != nil || (point.epoch != nil && point.epoch != epoch)
    }

    /// Community keys are `session:{id}`; a blob whose app or user differs from the requested key
    /// is another session and is not returned.
    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        guard case .known(let layout) = layoutState else { return [:] }
        let loader = RedisSessionLoader(keyspace: keyspace, layout: layout)
        let wanted = Set(keys)
        var result: [SessionKey: Session] = [:]
        var seen = Set<ExactString>()
        let storageKeys = keys.map { layout.sessionKey($0) }.filter { seen.insert(ExactString($0)).inserted }
        for start in stride(from: 0, to: storageKeys.count, by: 500) {
            let chunk = storageKeys[start..<min(start + 500, storageKeys.count)].map { Array($0.utf8) }
            for session in try loader.load(chunk) where wanted.contains(session.key) {
                result[session.key] = session
            }
        }
        return result
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        keyspace.close()
    }
}

@available(*, unavailable)
extension RedisSessionStore: Sendable {}
