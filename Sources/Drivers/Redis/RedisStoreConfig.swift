/// Whether a Redis address may be a cluster (`?cluster=`).
public enum RedisClusterMode: String, Sendable, Hashable, CaseIterable {
    /// Detect it (`INFO cluster`): a cluster node is used as the cluster (the default).
    case auto
    /// Refuse a cluster node.
    case no
    /// Refuse a standalone server.
    case yes
}

/// How to reach a Redis session store and which layout to use.
public struct RedisStoreConfig: Sendable, Hashable, CustomStringConvertible {
    /// Server host for TCP (ignored when ``socketPath`` is set).
    public var host: String
    /// Server port for TCP.
    public var port: Int
    /// Unix domain socket path; when set, TCP is not used.
    public var socketPath: String?
    /// Database number (`SELECT`).
    public var database: Int
    /// ACL user name (Redis 6+); `nil` authenticates with ``password`` alone.
    public var username: String?
    /// Password; `nil` skips `AUTH`. Never appears in messages.
    public var password: String?
    /// The key layout; `nil` detects it from the `session:*` keys present.
    public var layout: RedisLayout?
    /// True when an earlier open of the same run already detected or checked ``layout`` against
    /// the keys: this open skips that sample (the workers of one copy open the store once each).
    public var layoutConfirmed = false
    /// Expiry applied to written sessions that carry none (`Session.expiry == nil`), counted from
    /// the time of writing, as ADK's services apply `expire` (default one hour).
    public var defaultTTLSeconds: Int
    /// Seconds to wait for the connection.
    public var connectTimeoutSeconds: Double
    /// Seconds to wait for each reply; `nil` waits forever.
    public var commandTimeoutSeconds: Double?
    /// TLS (`rediss://`); `nil` is plaintext.
    public var tls: RedisTLSOptions?
    /// Whether the address may be (or must be) a Redis Cluster node.
    public var cluster: RedisClusterMode = .auto

    public init(
        host: String = "127.0.0.1", port: Int = 6379, socketPath: String? = nil, database: Int = 0,
        username: String? = nil, password: String? = nil, layout: RedisLayout? = nil,
        defaultTTLSeconds: Int = 3600, connectTimeoutSeconds: Double = 5, commandTimeoutSeconds: Double? = 120,
        tls: RedisTLSOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.socketPath = socketPath
        self.database = database
        self.username = username
        self.password = password
        self.layout = layout
        self.defaultTTLSeconds = defaultTTLSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.commandTimeoutSeconds = commandTimeoutSeconds
        self.tls = tls
    }

    /// Where the server is.
    public var endpoint: RedisEndpoint {
        if let socketPath { return .unixSocket(path: socketPath) }
        return .tcp(host: host, port: port)
    }

    /// `redis[s]://[user:***@]host:port/db` with the password masked.
    public var description: String {
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        let place = socketPath.map { "unix:\($0)" } ?? "\(host):\(port)"
        var query = layout.map { ["layout=\($0.rawValue)"] } ?? []
        if cluster != .auto { query.append("cluster=\(cluster.rawValue)") }
        return (tls == nil ? "redis://" : "rediss://") + "\(credentials)\(place)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    var connectionOptions: RedisConnectionOptions {
        RedisConnectionOptions(
            connectTimeout: connectTimeoutSeconds, commandTimeout: commandTimeoutSeconds,
            username: username, password: password, database: database, tls: tls
        )
    }
}
