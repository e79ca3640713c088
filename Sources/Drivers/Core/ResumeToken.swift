import SessionModel

/// The formats of ``SessionCursor/resumeToken``, shared by the stores.
///
/// Every token starts with a format tag and a version (`k1:`, `s1:`), so a token handed to the
/// wrong kind of store, or written by a future version, is refused instead of misread. Tokens are
/// printable ASCII: they go into a JSON journal and onto command lines unchanged.
///
/// - `k1:<base64url>` (MySQL, SQLite, snapshots): a keyset position. The payload is the key of
///   the last session returned, as the compact JSON array `["app", "user", "id"]`, in URL-safe
///   base64 without padding. A resumed scan returns the sessions whose key follows it in the
///   store's own key order (the order the pages already use), so nothing is repeated.
/// - `s1:<node>:<cursor>` or `s1:<node>:<cursor>:<skip>:<digest>` (Redis): a `SCAN` position,
///   parsed by the Redis driver (`RedisResumePoint`). `<node>` is the index of the node being
///   scanned (0 on a standalone server) and `<cursor>` that node's decimal `SCAN` cursor; node
///   index = node count means the scan is complete. The long form resumes inside a `SCAN` step:
///   the step is read again and its first `<skip>` keys are skipped only if they are exactly the
///   keys already returned (`<digest>`, 16 hex digits of their SHA-256), else repeated.
/// - `s2:<epoch>:<node>:<cursor>[:<skip>:<digest>]` (Redis): the same, valid only on the server
///   process `<epoch>` (16 hex digits of its `run_id`): Redis reseeds its key hashing at every
///   start, so after a restart the scan starts over instead of skipping keys.
/// - `c1:<topology>:<node epoch>:<node>:<cursor>[:<skip>:<digest>]` (Redis Cluster): `<node>` is
///   the shard (primaries in slot order), `<topology>` 16 hex digits of the digest of the slot
///   map and `<node epoch>` the `run_id` prefix of the primary the cursor came from. Another slot
///   map scans again from the start; another process on that shard (a failover) scans that shard
///   again from its start.
public enum ResumeToken {
    /// The tag of keyset tokens.
    public static let keysetPrefix = "k1:"

    /// The token of a keyset scan that has returned every session up to and including `key`.
    public static func keyset(after key: SessionKey) -> String {
        let json = JSONValue.array([.string(key.appName), .string(key.userId), .string(key.sessionId)])
        return keysetPrefix + Base64.urlSafe(Array(json.serialized(.compact).utf8), padded: false)
    }

    /// The key a keyset token was made from.
    ///
    /// - Throws: ``ResumeTokenError`` naming `store` when `token` is not a `k1:` token.
    public static func keysetKey(from token: String, store: String) throws(ResumeTokenError) -> SessionKey {
        guard token.hasPrefix(keysetPrefix) else {
            throw ResumeTokenError(store: store, token: token, message: "not a \(store) position (expected \(keysetPrefix)…)")
        }
        let payload = String(token.dropFirst(keysetPrefix.count))
        guard let bytes = Base64.decode(payload, strictURLSafeUnpadded: true), let text = String(validating: bytes, as: UTF8.self),
            case .array(let parts)? = try? JSONValue.parse(text), parts.count == 3,
            let app = parts[0].stringValue, let user = parts[1].stringValue, let id = parts[2].stringValue
        else {
            throw ResumeTokenError(store: store, token: token, message: "the keyset position is damaged")
        }
        return SessionKey(appName: app, userId: user, sessionId: id)
    }
}

/// A resume token a store cannot continue from: malformed, damaged, or made by another kind of
/// store. Code `.unsupported`; the message shows at most the token's first 60 characters, escaped
/// (``Printable``).
public struct ResumeTokenError: DriverError {
    public var code: DriverErrorCode { .unsupported }
    /// The store, e.g. `mysql`, `redis`, `sqlite`.
    public var store: String
    /// The token as given.
    public var token: String
    /// What is wrong with it.
    public var message: String

    public init(store: String, token: String, message: String) {
        self.store = store
        self.token = token
        self.message = message
    }

    public var description: String {
        "\(store): cannot resume from token '\(Printable.name(token, limit: 60))': \(message)"
    }

    public var debugDescription: String { description }
}
