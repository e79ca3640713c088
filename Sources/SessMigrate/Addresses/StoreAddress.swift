import Foundation
import MySQLDriver

/// Where sessions live, parsed from what an operator types or pastes from the bot's config.
///
/// Forms (ADK's own URL conventions):
/// - `mysql://user:pass@host:3306/db` (alias `cloudsql://`, `mysql+aiomysql://`), `?socket=/cloudsql/x`,
///   `?ssl-mode=disabled|preferred|required|verify-ca|verify-identity&ssl-ca=PATH&ssl-cert=PATH&ssl-key=PATH`
/// - `redis://[user:pass@]host:6379/0?layout=community|adk-redis&ttl=3600`
/// - on both: `?password-file=PATH` instead of a password in the address (see ``PasswordFile``)
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
    public var ttlSeconds: Int {
        if case .redis(let redis) = self { return redis.ttlSeconds }
        return 3600
    }

    /// The address with any password shown as `***`: safe for output, logs and journals.
    public var description: String {
        switch self {
        case .mysql(let address): address.description
        case .redis(let address): address.description
        case .sqlite(let address): address.description
        }
    }
}

/// A MySQL / CloudSQL database.
public struct MySQLAddress: Sendable, Hashable, CustomStringConvertible {
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
        query += [("ssl-ca", tls.caPath), ("ssl-cert", tls.certificatePath), ("ssl-key", tls.keyPath), ("password-file", passwordFile)]
            .compactMap { name, value in value.map { "\(name)=\($0)" } }
        return "mysql://\(credentials)@\(location)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}

/// The layouts a Redis database can hold sessions in.
public enum RedisLayoutName: String, Sendable, Hashable, CaseIterable {
    /// google-adk-community `RedisSessionService`.
    case community
    /// google-adk-redis `RedisMemorySessionService`.
    case adkRedis = "adk-redis"
}

/// A Redis database.
public struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
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

    public init(
        host: String, port: Int, database: Int, username: String?, password: String?, layout: RedisLayoutName?,
        ttlSeconds: Int, passwordFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.layout = layout
        self.ttlSeconds = ttlSeconds
        self.passwordFile = passwordFile
    }

    public var description: String {
        var text = "redis://"
        let shownPassword = password != nil && passwordFile == nil
        if username != nil || shownPassword { text += (username ?? "") + (shownPassword ? ":***" : "") + "@" }
        text += "\(bracketed(host)):\(port)/\(database)"
        var query: [String] = []
        if let layout { query.append("layout=\(layout.rawValue)") }
        query.append("ttl=\(ttlSeconds)")
        if let passwordFile { query.append("password-file=\(passwordFile)") }
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
public struct SQLiteAddress: Sendable, Hashable, CustomStringConvertible {
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
