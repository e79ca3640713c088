import Foundation
import MySQLDriver
import RedisDriver

/// Where sessions live, parsed from what an operator types or pastes from the bot's config.
///
/// Forms (ADK's own URL conventions):
/// - `mysql://user:pass@host:3306/db` (alias `cloudsql://`, `mysql+aiomysql://`), `?socket=/cloudsql/x`,
///   `?ssl-mode=disabled|preferred|required|verify-ca|verify-identity&ssl-ca=PATH&ssl-cert=PATH&ssl-key=PATH`
/// - `redis://[user:pass@]host:6379/0?layout=community|adk-redis&ttl=3600`; `rediss://` (TLS) with
///   redis-py's `ssl_ca_certs`, `ssl_certfile`, `ssl_keyfile`, `ssl_check_hostname`, `ssl_cert_reqs`
/// - on both: `?password-file=PATH` instead of a password in the address (see ``PasswordFile``), or
///   `?password-command=CMD`, run for every new connection (see ``PasswordCommand``)
/// - `sqlite:///relative.db`, `sqlite:////abs/path.db` (SqliteSessionService, as ADK opens them),
///   `sqlite+aiosqlite:///x.db` (DatabaseSessionService on SQLite), or a plain path ending in
///   `.db`, `.sqlite` or `.sqlite3`; `?layout=database|sqlite-session-service` picks the layout of a
///   new file.
/// - the bare words `cloudsql` and `redis`: the store the bot is configured with
///   (see ``BotEnvironment``).
public enum StoreAddress: Sendable, Hashable, CustomStringConvertible {
    case mysql(MySQLAddress)
    case redis(RedisAddress)
    case sqlite(SQLiteAddress)

    /// The TTL a Redis target gives sessions that arrive without an expiry (`?ttl=`,
    /// `REDIS_SESSION_TTL`, 3600 s); the copy engine's default for stores that keep none.
    public var ttlSeconds: Int { endpoint.ttlSeconds }

    /// The file of a file store (SQLite), `nil` for a server.
    public var filePath: String? { endpoint.filePath }

    /// This address with another TTL for sessions written without an expiry of their own (Redis only).
    public func withTTL(_ seconds: Int) -> StoreAddress { StoreAddress(endpoint.withTTL(seconds)) }

    /// True for a file store: nothing to connect to, a new file is created by writing.
    public var isFile: Bool { filePath != nil }

    /// The address with any password shown as `***`: safe for output, logs and journals.
    public var description: String { endpoint.description }
}

/// A MySQL / CloudSQL database.
public struct MySQLAddress: StoreEndpoint {
    public var kind: any StoreKind { MySQLStoreKind() }
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// A Unix socket (e.g. the Cloud SQL Auth Proxy's); when set, host and port are not used.
    public var socket: String?
    /// The file the password was read from (`?password-file=`, `--password-file`), shown instead of `***`.
    public var passwordFile: String?
    /// `?ssl-mode=` and the certificate files (default: TLS when the server offers it).
    public var tls = MySQLTLS()
    /// `?password-command=` / `--password-command`: run for a fresh password at every connection.
    public var passwordCommand: PasswordCommand?

    public init(
        host: String, port: Int, user: String, password: String?, database: String, socket: String?,
        passwordFile: String? = nil, tls: MySQLTLS = MySQLTLS()
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.socket = socket
        self.passwordFile = passwordFile
        self.tls = tls
    }

    public var description: String {
        let credentials = user + (password == nil || passwordFile != nil ? "" : ":***")
        let location = socket == nil ? "\(bracketed(host)):\(port)/\(database)" : "localhost/\(database)"
        var query: [String] = socket.map { ["socket=\($0)"] } ?? []
        if tls != MySQLTLS() { query.append("ssl-mode=\(tls.mode.rawValue)") }
        query += [
            ("ssl-ca", tls.caPath), ("ssl-cert", tls.certificatePath), ("ssl-key", tls.keyPath), ("password-file", passwordFile),
            ("password-command", passwordCommand?.description),
        ]
        .compactMap { name, value in value.map { "\(name)=\($0)" } }
        return "mysql://\(credentials)@\(location)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}

/// The layouts a Redis database can hold sessions in.
public enum RedisLayoutName: String, Sendable, Hashable, CaseIterable {
    /// google-adk-community `RedisSessionService`.
    case community
    /// google-adk-redis `RedisMemorySessionService` (0.1.5 and later: one key per session).
    case adkRedis = "adk-redis"
    /// google-adk-redis 0.1.4 and earlier: one JSON string per user at `app:{app}:{user}`.
    case adkRedis014 = "adk-redis-014"
    /// google-adk-community with its index set at `app:{app}:{user}` (a single colon).
    case communitySet1 = "community-set1"
}

/// A Redis database.
public struct RedisAddress: StoreEndpoint {
    public var kind: any StoreKind { RedisStoreKind() }
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    /// `nil`: detect from the data (writing to an empty database then needs one).
    public var layout: RedisLayoutName?
    /// TTL in seconds for sessions written without an expiry of their own.
    public var ttlSeconds: Int
    /// The file the password was read from (`?password-file=`, `--password-file`), shown instead of `***`.
    public var passwordFile: String?
    /// `?password-command=` / `--password-command`: run for a fresh password at every connection.
    public var passwordCommand: PasswordCommand?
    /// `rediss://`: TLS with redis-py's `ssl_*` parameters; `nil` is plaintext.
    public var tls: RedisTLSOptions?
    /// `?cluster=`: a cluster node is detected and used as the cluster (`auto`), refused (`no`) or required (`yes`).
    public var cluster: RedisClusterMode = .auto

    public init(
        host: String, port: Int, database: Int, username: String?, password: String?, layout: RedisLayoutName?,
        ttlSeconds: Int, passwordFile: String? = nil, tls: RedisTLSOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.layout = layout
        self.ttlSeconds = ttlSeconds
        self.passwordFile = passwordFile
        self.tls = tls
    }

    /// The address with the password masked (or `password-file=PATH`, `password-command=gcloud…`), in
    /// redis-py's form: `rediss://…?ssl_ca_certs=…` reads the same in the bot's `REDIS_URL`.
    public var description: String {
        var text = tls == nil ? "redis://" : "rediss://"
        let shownPassword = password != nil && passwordFile == nil
        if username != nil || shownPassword { text += (username ?? "") + (shownPassword ? ":***" : "") + "@" }
        text += "\(bracketed(host)):\(port)/\(database)"
        var query: [String] = []
        if let layout { query.append("layout=\(layout.rawValue)") }
        if cluster != .auto { query.append("cluster=\(cluster.rawValue)") }
        query.append("ttl=\(ttlSeconds)")
        if let tls {
            query += [("ssl_ca_certs", tls.caFile), ("ssl_certfile", tls.certificateFile), ("ssl_keyfile", tls.keyFile)]
                .compactMap { name, value in value.map { "\(name)=\($0)" } }
            if !tls.checkHostname { query.append("ssl_check_hostname=false") }
        }
        if let passwordFile { query.append("password-file=\(passwordFile)") }
        if let passwordCommand { query.append("password-command=\(passwordCommand)") }
        return text + "?" + query.joined(separator: "&")
    }
}

/// The layouts a new SQLite file can be given.
public enum SQLiteLayoutName: String, Sendable, Hashable, CaseIterable {
    /// ADK's `SqliteSessionService` (what `sqlite:///` opens; the snapshot layout).
    case sqliteSessionService = "sqlite-session-service"
    /// ADK's `DatabaseSessionService` schema v1 on SQLite (`sqlite+aiosqlite:///`).
    case database
}

/// A SQLite file.
public struct SQLiteAddress: StoreEndpoint {
    public var kind: any StoreKind { SQLiteStoreKind() }
    public var filePath: String? { path }
    /// The file path (relative paths are relative to the working directory, as in ADK).
    public var path: String
    /// The layout for a new or empty file; an existing file's layout is detected.
    public var newFileLayout: SQLiteLayoutName

    public var description: String {
        (path.hasPrefix("/") ? "sqlite:///" + path : "sqlite:///" + path)
            + (newFileLayout == .database ? "?layout=database" : "")
    }
}

/// An address that cannot be used; the message names the problem without echoing a password.
public struct AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

func bracketed(_ host: String) -> String {
    host.contains(":") ? "[\(host)]" : host
}
