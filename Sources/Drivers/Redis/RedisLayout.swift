import DriverCore
import SessionModel

/// The key layouts of the Redis session services ADK users run.
///
/// | layout | session data | index of a user's sessions |
/// |---|---|---|
/// | `community` | string `session:{id}` (orjson, python-mode dump) | set `app::{app}:{user}` |
/// | `community-set1` | the same | set `app:{app}:{user}` (the community's fix of its double colon) |
/// | `adk-redis` (google-adk-redis ≥ 0.1.5) | string `session:{app}:{user}:{id}` (`json.dumps`, json mode) | none |
/// | `adk-redis-014` (google-adk-redis ≤ 0.1.4) | one string per user, `app:{app}:{user}`: `{id: session, …}` | the string itself |
///
/// All four keep app and user state in the hashes `app:{app}` and `user:{app}:{user}`. The names
/// `app:{app}:{user}` of `community-set1` and `adk-redis-014` are the same: the key's type (set
/// or string) tells them apart.
public enum RedisLayout: String, Sendable, Hashable, CaseIterable {
    /// google-adk-community `RedisSessionService`: `session:{id}` blobs (orjson, python-mode
    /// dump), index sets `app::{app}:{user}`, state hashes `app:{app}` and `user:{app}:{user}`.
    case community
    /// google-adk-community with the index set at `app:{app}:{user}` (single colon).
    case communitySet1 = "community-set1"
    /// google-adk-redis `RedisMemorySessionService` ≥ 0.1.5: `session:{app}:{user}:{id}` blobs (Python
    /// `json.dumps`, json-mode dump without nulls), the same state hashes, no index set.
    case adkRedis = "adk-redis"
    /// google-adk-redis ≤ 0.1.4: one `json.dumps` string per user at `app:{app}:{user}` holding
    /// `{session_id: session}` (each session as 0.1.5 dumps it), the same state hashes.
    case adkRedis014 = "adk-redis-014"

    /// True for the two community variants (community blob encoding, merged state in the blob).
    var isCommunity: Bool { self == .community || self == .communitySet1 }

    /// The encoding of a session's JSON: community's, or google-adk-redis' (both versions).
    var blobEncoding: RedisLayout { isCommunity ? .community : .adkRedis }

    /// True when several sessions share one key (the user's string).
    var sharesKeys: Bool { self == .adkRedis014 }

    /// The key of a session's data: its blob, or for `adk-redis-014` its user's string.
    func sessionKey(_ key: SessionKey) -> String { shardKeyForm.key(key) }

    /// The form of ``sessionKey(_:)``, which the `slots` shard function hashes.
    public var shardKeyForm: ShardKeyForm {
        switch self {
        case .community, .communitySet1: .sessionId
        case .adkRedis: .appUserSessionId
        case .adkRedis014: .appUser
        }
    }

    /// The set listing a user's session ids (community variants), `nil` for the others.
    func userSessionSet(_ app: String, _ user: String) -> String? {
        switch self {
        case .community: RedisKeys.userSessionSet(app, user)
        case .communitySet1: "app:\(app):\(user)"
        case .adkRedis, .adkRedis014: nil
        }
    }

    /// The pattern a scan of every session's data uses.
    var dataPattern: String { self == .adkRedis014 ? "app:*" : RedisKeys.sessionPattern }

    /// The start of every key ``dataPattern`` matches.
    var dataPrefix: [UInt8] { Array(dataPattern.dropLast().utf8) }

    /// The layout whose blob key for `key` is `storageKey`, if any (`session:` blobs only: the
    /// community variants answer `community`).
    static func matching(storageKey: String, key: SessionKey) -> RedisLayout? {
        if storageKey.isExactly(RedisLayout.adkRedis.sessionKey(key)) { return .adkRedis }
        if storageKey.isExactly(RedisLayout.community.sessionKey(key)) { return .community }
        return nil
    }

    /// True when a blob at `storageKey` belongs where this layout keeps `key`.
    func holds(storageKey: String, key: SessionKey) -> Bool {
        storageKey.isExactly(sessionKey(key))
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
