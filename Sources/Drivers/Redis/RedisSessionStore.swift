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
    public static func open(_ config: RedisStoreConfig) throws -> RedisSessionStore {
        let connection = try RedisConnection.open(config.endpoint, options: config.connectionOptions)
        let keyspace = RedisStandaloneKeyspace(connection: connection)
        do {
            let state = try config.layout.map(RedisLayoutState.known) ?? detectLayout(keyspace)
            return RedisSessionStore(keyspace: keyspace, config: config, layoutState: state)
        } catch {
            keyspace.close()
            throw error
        }
    }

    /// Number of blobs sampled by layout detection.
    static let detectionSampleSize = 16

    /// Looks at the first `session:*` blobs to tell the layouts apart.
    static func detectLayout(_ keyspace: any RedisKeyspace) throws -> RedisLayoutState {
        let scan = keyspace.scanKeys(match: RedisKeys.sessionPattern, count: 100)
        var sample: [[UInt8]] = []
        while sample.count < detectionSampleSize, let keys = try scan.next() { sample += keys }
        sample = Array(sample.prefix(detectionSampleSize))
        let replies = try keyspace.execute(sample.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        var found: [RedisLayout: String] = [:]
        for (key, reply) in zip(sample, replies) {
            let name = String(decoding: key, as: UTF8.self)
            guard let bytes = try RedisSessionLoader.blobBytes(reply, storageKey: name) else { continue }
            let sessionKey = try SessionBlobCodec.decodeKey(bytes, storageKey: name)
            guard let layout = RedisLayout.matching(storageKey: name, key: sessionKey) else {
                throw SessionDataError(
                    store: "redis", location: name,
                    message: "key matches neither layout for the blob's app_name/user_id/id (\(sessionKey))")
            }
            found[layout] = found[layout] ?? name
        }
        if let community = found[.community], let adkRedis = found[.adkRedis] {
            throw RedisError(
                code: .unsupported,
                message: "mixed layouts: \(community) is google-adk-community (session:{id}) but \(adkRedis) is google-adk-redis (session:{app}:{user}:{id})",
                context: "layout detection")
        }
        return found.keys.first.map(RedisLayoutState.known) ?? .empty
    }

    /// `redis community`, `redis adk-redis`, or `redis empty` when nothing was there to detect.
    public var layout: StoreLayout { layoutState.storeLayout }

    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: false, keepsExpiry: true) }

    /// `query.resumeAfter` is a `SCAN` position token (``RedisResumePoint``); see
    /// `RedisSessionCursor` for what a resumed scan repeats.
    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        let nodes = keyspace.nodeCount
        let start = try query.resumeAfter.map { try RedisResumePoint(token: $0, nodeCount: nodes) }
        guard case .known(let layout) = layoutState else {
            return RedisSessionCursor(
                scan: nil, loader: nil, batchSize: query.batchSize, nodeCount: nodes, start: start, startToken: query.resumeAfter)
        }
        return RedisSessionCursor(
            scan: keyspace.scanKeys(match: RedisKeys.sessionPattern, count: query.batchSize, from: start?.position ?? .start),
            loader: RedisSessionLoader(keyspace: keyspace, layout: layout),
            batchSize: query.batchSize, nodeCount: nodes, start: start, startToken: query.resumeAfter)
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
