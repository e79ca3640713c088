import DriverCore
import SessionModel

/// The key layouts of the two Redis session services ADK users run.
public enum RedisLayout: String, Sendable, Hashable, CaseIterable {
    /// google-adk-community `RedisSessionService`: `session:{id}` blobs (orjson, python-mode
    /// dump), index sets `app::{app}:{user}`, state hashes `app:{app}` and `user:{app}:{user}`.
    case community
    /// google-adk-redis `RedisMemorySessionService`: `session:{app}:{user}:{id}` blobs (Python
    /// `json.dumps`, json-mode dump without nulls), the same state hashes, no index set.
    case adkRedis = "adk-redis"

    /// The key of a session's blob.
    func sessionKey(_ key: SessionKey) -> String {
        switch self {
        case .community: "session:\(key.sessionId)"
        case .adkRedis: "session:\(key.appName):\(key.userId):\(key.sessionId)"
        }
    }

    /// The layout whose blob key for `key` is `storageKey`, if any.
    static func matching(storageKey: String, key: SessionKey) -> RedisLayout? {
        if storageKey == RedisLayout.adkRedis.sessionKey(key) { return .adkRedis }
        if storageKey == RedisLayout.community.sessionKey(key) { return .community }
        return nil
    }
}

/// Key names shared by both layouts.
enum RedisKeys {
    /// Pattern matching every session blob of both layouts.
    static let sessionPattern = "session:*"
    /// The app state hash.
    static func appHash(_ app: String) -> String { "app:\(app)" }
    /// The user state hash.
    static func userHash(_ app: String, _ user: String) -> String { "user:\(app):\(user)" }
    /// The community layout's set of a user's session ids (`f"{APP_PREFIX}:{app}:{user}"`).
    static func userSessionSet(_ app: String, _ user: String) -> String { "app::\(app):\(user)" }
}

/// Where a Redis store's data stands: a layout, or nothing yet to tell.
enum RedisLayoutState: Equatable {
    case known(RedisLayout)
    /// An empty database and no layout given: reads yield nothing, writes are refused.
    case empty

    /// The layout as ``DriverCore/StoreLayout`` reports it (`redis community`, `redis empty`).
    var storeLayout: StoreLayout {
        switch self {
        case .known(let layout): StoreLayout(kind: "redis", name: layout.rawValue)
        case .empty: StoreLayout(kind: "redis", name: "empty")
        }
    }
}
