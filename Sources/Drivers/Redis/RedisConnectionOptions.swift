/// Where a Redis server listens.
public enum RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A TCP host and port.
    case tcp(host: String, port: Int)
    /// A Unix domain socket path.
    case unixSocket(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unixSocket(let path): "unix:\(path)"
        }
    }
}

/// How to log in and which database to use once connected. Its description masks the password.
public struct RedisConnectionOptions: Sendable, Hashable, CustomStringConvertible {
    /// Seconds to wait for the TCP or socket connection.
    public var connectTimeout: Double
    /// Seconds to wait for each reply once connected; `nil` waits forever.
    public var commandTimeout: Double?
    /// ACL user name (Redis 6+); `nil` logs in as `default` with `password` alone.
    public var username: String?
    /// Password for `AUTH`; `nil` skips `AUTH`.
    public var password: String?
    /// Database number for `SELECT` (0 is not selected explicitly).
    public var database: Int
    /// TLS (`rediss://`); `nil` is plaintext.
    public var tls: RedisTLSOptions?

    public init(
        connectTimeout: Double = 5, commandTimeout: Double? = 120, username: String? = nil,
        password: String? = nil, database: Int = 0, tls: RedisTLSOptions? = nil
    ) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    public var description: String {
        "RedisConnectionOptions(user: \(username ?? "default"), password: \(password == nil ? "none" : "***"), database: \(database), "
            + "tls: \(tls == nil ? "no" : "yes"))"
    }
}
