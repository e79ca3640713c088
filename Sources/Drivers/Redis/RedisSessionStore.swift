import DriverCore
import SessionModel

/// ADK sessions in a Redis database, in the google-adk-community or google-adk-redis layout.
///
/// - **Layout.** Given in ``RedisStoreConfig/layout`` or detected at ``open(_:)`` from up to 16
///   `session:*` blobs: key `session:{id}` → community, `session:{app}:{user}:{id}` →
///   adk-redis (compared with the blob's own `id`/`app_name`/`user_id`; the key's colons are never
///   parsed). Both → "mixed layouts" error. No session keys → layout `empty`: reads yield
///   nothing and writes are refused until a layout is given.
/// - **Reading** streams `SCAN MATCH session:* COUNT batchSize` (never `KEYS`), see
///   ``RedisSessionLoader``. Redis keeps no creation time (`createTime` is `nil`); `PTTL` gives
///   `expiry`.
/// - **Writing** pipelines one `MULTI`/`EXEC` per session, see `writeSessions(_:)`.
///
/// Not `Sendable`: use a store from one thread at a time.
public final class RedisSessionStore: SessionStore {
    let keyspace: any RedisKeyspace
    let config: RedisStoreConfig
    let layoutState: RedisLayoutState
    var serverVersion: RedisServerVersion?
    /// The server's `proto-max-bulk-len`, asked on the first write (see `maxBulkLength()`).
    var cachedMaxBulkLength: Int?
    private var closed = false

    init(keyspace: any RedisKeyspace, config: RedisStoreConfig, layoutState: RedisLayoutState) {
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
    /// first 50,000 keys scanned). Targets are checked further by ``checkRecognisedForWriting(sampleSize:maxScanSteps:)``.
    public static func open(_ config: RedisStoreConfig) throws -> RedisSessionStore {
        let connection = try RedisConnection.open(config.endpoint, options: config.connectionOptions)
        let keyspace = RedisStandaloneKeyspace(connection: connection)
        do {
            let state: RedisLayoutState
            if let given = config.layout {
                // Mixed layouts are left to the reads, which name each foreign key (and to the target check).
                if case .known(let found)? = try? detectLayout(keyspace, maxScanSteps: 500, unknownIsError: false), found != given {
                    throw RedisError(
                        code: .unsupported,
                        message: "layout=\(given.rawValue) was given, but the database holds \(found.rawValue) sessions; refusing to mix layouts",
                        context: "layout check")
                }
                state = .known(given)
            } else {
                state = try detectLayout(keyspace)
            }
            return RedisSessionStore(keyspace: keyspace, config: config, layoutState: state)
        } catch {
            keyspace.close()
            throw error
        }
    }

    /// Number of blobs sampled by layout detection.
    static let detectionSampleSize = 16

    /// Looks at the first `session:*` blobs to tell the layouts apart, scanning at most
    /// `maxScanSteps` `SCAN` steps of 100 keys when given (all of them otherwise). Blobs that cannot
    /// be read are left to the scan; when no sampled blob fits a layout and one fits neither, the
    /// layout is unknown: an error unless `unknownIsError` is false (a layout was given).
    static func detectLayout(_ keyspace: any RedisKeyspace, maxScanSteps: Int = .max, unknownIsError: Bool = true) throws -> RedisLayoutState {
        var sample: [[UInt8]] = []
        var position: RedisScanPosition? = .start
        var steps = 0
        while sample.count < detectionSampleSize, steps < maxScanSteps, let current = position {
            let (cursor, keys) = try keyspace.scan(node: current.node, cursor: current.cursor, match: RedisKeys.sessionPattern, count: 100)
            sample += keys
            steps += 1
            if cursor != "0" {
                position = RedisScanPosition(node: current.node, cursor: cursor)
            } else {
                position = current.node + 1 < keyspace.nodeCount ? RedisScanPosition(node: current.node + 1, cursor: "0") : nil
            }
        }
        sample = Array(sample.prefix(detectionSampleSize))
        let replies = try keyspace.execute(sample.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        var found: [RedisLayout: String] = [:]
        var unknown: (name: String, key: SessionKey)?
        for (key, reply) in zip(sample, replies) {
            let name = String(decoding: key, as: UTF8.self)
            // A blob that cannot be read is no evidence of a layout; the scan reports it (stop or --skip-bad).
            guard let bytes = try? RedisSessionLoader.blobBytes(reply, storageKey: name),
                let sessionKey = try? SessionBlobCodec.decodeKey(bytes, storageKey: name)
            else { continue }
            // A blob of neither layout is reported by the scan, unless no blob fits a layout (below).
            guard let layout = RedisLayout.matching(storageKey: name, key: sessionKey) else {
                unknown = unknown ?? (name, sessionKey)
                continue
            }
            found[layout] = found[layout] ?? name
        }
        if let community = found[.community], let adkRedis = found[.adkRedis] {
            throw RedisError(
                code: .unsupported,
                message: "mixed layouts: \(community) is google-adk-community (session:{id}) but \(adkRedis) is google-adk-redis (session:{app}:{user}:{id})",
                context: "layout detection")
        }
        if found.isEmpty, unknownIsError, let unknown {
            throw SessionDataError(
                store: "redis", location: unknown.name,
                message: "unknown layout: the key matches neither layout for the blob's app_name/user_id/id (\(unknown.key))")
        }
        return found.keys.first.map(RedisLayoutState.known) ?? .empty
    }

    /// `redis community`, `redis adk-redis`, or `redis empty` when nothing was there to detect.
    public var layout: StoreLayout { layoutState.storeLayout }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: false, keepsExpiry: true) }

    /// `query.resumeAfter` is a `SCAN` position token (``RedisResumePoint``); see
    /// `RedisSessionCursor` for what a resumed scan repeats.
    ///
    /// A `SCAN` cursor means nothing to another server process: Redis seeds its key hashing at
    /// random on every start, so after a restart the same cursor covers other keys. Tokens carry
    /// the server's epoch (its `run_id`); a token from another epoch starts the scan over, which
    /// repeats sessions (harmless: writes are idempotent) but never skips one.
    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        let nodes = keyspace.nodeCount
        let epoch = try fetchScanEpoch()
        var start = try query.resumeAfter.map { try RedisResumePoint(token: $0, nodeCount: nodes) }
        var startToken = query.resumeAfter
        if let point = start, point.epoch != nil, point.epoch != epoch {
            start = nil
            startToken = nil
        }
        guard case .known(let layout) = layoutState else {
            return RedisSessionCursor(
                scan: nil, loader: nil, batchSize: query.batchSize, nodeCount: nodes, start: start, startToken: startToken, epoch: epoch)
        }
        return RedisSessionCursor(
            scan: keyspace.scanKeys(match: RedisKeys.sessionPattern, count: query.batchSize, from: start?.position ?? .start),
            loader: RedisSessionLoader(keyspace: keyspace, layout: layout),
            batchSize: query.batchSize, nodeCount: nodes, start: start, startToken: startToken, epoch: epoch, skipBad: query.skipBad)
    }

    /// Community keys are `session:{id}`; a blob whose app or user differs from the requested key
    /// is another session and is not returned.
    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        guard case .known(let layout) = layoutState else { return [:] }
        let loader = RedisSessionLoader(keyspace: keyspace, layout: layout)
        let wanted = Set(keys)
        var result: [SessionKey: Session] = [:]
        var seen = Set<String>()
        let storageKeys = keys.map { layout.sessionKey($0) }.filter { seen.insert($0).inserted }
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
