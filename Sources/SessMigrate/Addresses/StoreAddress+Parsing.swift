import Foundation

extension StoreAddress {
    /// Parses an address as typed by an operator (see ``StoreAddress``).
    ///
    /// - Parameter environment: where the bare words `cloudsql` and `redis` are resolved from.
    /// - Throws: ``AddressError`` with one line that names the problem and never the password.
    public static func parse(_ text: String, environment: BotEnvironment) throws(AddressError) -> StoreAddress {
        switch text {
        case "cloudsql", "mysql": return .mysql(try environment.cloudSQLAddress())
        case "redis": return .redis(try environment.redisAddress())
        default: break
        }
        if let sqlite = try parseSQLite(text) { return .sqlite(sqlite) }
        let parts = try URLParts(text)
        let scheme = parts.scheme.split(separator: "+", maxSplits: 1).first.map(String.init) ?? parts.scheme
        switch scheme {
        case "mysql", "cloudsql", "mariadb": return .mysql(try parseMySQL(parts))
        case "redis": return .redis(try parseRedis(parts, defaultTTL: environment.redisSessionTTL()))
        case "rediss":
            throw AddressError("rediss:// (TLS) is not supported: the Debian hiredis 0.14 client has no TLS; use a local stunnel or the Memorystore private IP")
        default:
            throw AddressError("unknown address scheme '\(parts.scheme)://'; use mysql://, cloudsql://, redis://, sqlite:/// or a .db path")
        }
    }

    static func parseMySQL(_ parts: URLParts) throws(AddressError) -> MySQLAddress {
        guard let user = parts.user, !user.isEmpty else { throw AddressError("mysql address needs a user: mysql://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard !parts.path.isEmpty, !parts.path.contains("/") else {
            throw AddressError("mysql address needs one database name after the host: mysql://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let socket = parts.queryValue("socket") ?? parts.queryValue("unix_socket")
        guard socket != nil || !parts.host.isEmpty else { throw AddressError("mysql address needs a host or ?socket=PATH") }
        try rejectUnknownParameters(parts, allowed: ["socket", "unix_socket", "charset"])
        return MySQLAddress(
            host: parts.host.isEmpty ? "localhost" : parts.host, port: parts.port ?? 3306, user: user,
            password: parts.password, database: parts.path, socket: socket)
    }

    static func parseRedis(_ parts: URLParts, defaultTTL: Int) throws(AddressError) -> RedisAddress {
        var database = 0
        if !parts.path.isEmpty {
            guard let number = Int(parts.path), number >= 0 else {
                throw AddressError("redis database '\(parts.path)' is not a number: redis://HOST:PORT/DB")
            }
            database = number
        }
        var layout: RedisLayoutName?
        if let name = parts.queryValue("layout") {
            guard let parsed = RedisLayoutName(rawValue: name) else {
                throw AddressError("unknown redis layout '\(name)'; use layout=community or layout=adk-redis")
            }
            layout = parsed
        }
        var ttl = defaultTTL
        if let text = parts.queryValue("ttl") {
            guard let seconds = Int(text), seconds > 0 else { throw AddressError("redis ttl '\(text)' is not a positive number of seconds") }
            ttl = seconds
        }
        try rejectUnknownParameters(parts, allowed: ["layout", "ttl"])
        return RedisAddress(
            host: parts.host.isEmpty ? "127.0.0.1" : parts.host, port: parts.port ?? 6379, database: database,
            username: parts.user.flatMap { $0.isEmpty ? nil : $0 }, password: parts.password, layout: layout, ttlSeconds: ttl)
    }

    /// `sqlite:///rel.db` → `rel.db`, `sqlite:////abs.db` → `/abs.db`, `sqlite+aiosqlite:///…` → the
    /// DatabaseSessionService layout for new files, or a bare path ending in `.db`/`.sqlite`/`.sqlite3`.
    static func parseSQLite(_ text: String) throws(AddressError) -> SQLiteAddress? {
        var path = text
        var layout = SQLiteLayoutName.sqliteSessionService
        let lower = text.lowercased()
        if lower.hasPrefix("sqlite://") || lower.hasPrefix("sqlite+") {
            guard let marker = text.range(of: ":///") else {
                throw AddressError("sqlite address needs three slashes: sqlite:///relative.db or sqlite:////absolute/path.db")
            }
            if lower.hasPrefix("sqlite+") { layout = .database }
            path = String(text[marker.upperBound...])
        } else if text.contains("://") {
            return nil
        } else if !(lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") || lower.hasSuffix(".sqlite3") || lower.contains(".db?")
            || lower.contains(".sqlite?") || lower.contains(".sqlite3?"))
        {
            throw AddressError("'\(text)' is not an address: use mysql://…, redis://…, sqlite:///FILE, a path ending in .db or .sqlite, or the words cloudsql / redis")
        }
        if let mark = path.firstIndex(of: "?") {
            let query = path[path.index(after: mark)...]
            path = String(path[..<mark])
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0] == "layout" else {
                    throw AddressError("unknown sqlite parameter '\(pair)'; only layout=database|sqlite-session-service")
                }
                guard let parsed = SQLiteLayoutName(rawValue: parts[1]) else {
                    throw AddressError("unknown sqlite layout '\(parts[1])'; use layout=database or layout=sqlite-session-service")
                }
                layout = parsed
            }
        }
        guard !path.isEmpty else { throw AddressError("sqlite address has no file path") }
        return SQLiteAddress(path: path, newFileLayout: layout)
    }

    private static func rejectUnknownParameters(_ parts: URLParts, allowed: Set<String>) throws(AddressError) {
        if let unknown = parts.query.first(where: { !allowed.contains($0.name) }) {
            throw AddressError("unknown parameter '\(unknown.name)' in \(parts.scheme) address; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
