import Foundation
import MySQLDriver

extension StoreAddress {
    /// Parses an address as typed by an operator (see ``StoreAddress``).
    ///
    /// - Parameters:
    ///   - environment: where the bare words `cloudsql` and `redis` are resolved from.
    ///   - warn: told about risky but usable settings (a world-readable password file); never a secret.
    /// - Throws: ``AddressError`` with one line that names the problem and never the password.
    public static func parse(_ text: String, environment: BotEnvironment, warn: (String) -> Void = { _ in }) throws(AddressError) -> StoreAddress {
        try parse(text, environment: environment, readPasswordFile: { path throws(AddressError) in try PasswordFile.read(path, warn: warn) })
    }

    /// `text` safe to show or store: parsed and redacted when it is an address (without reading any
    /// password file), otherwise with anything between `://` and the last `@` after the user name
    /// replaced by `***`.
    public static func redacted(_ text: String) -> String {
        if let address = try? parse(text, environment: BotEnvironment(variables: [:]), readPasswordFile: { _ in "" }) {
            return address.description
        }
        return URLParts.redactedForError(text)
    }

    /// `text` (any message) with the credentials of every `scheme://USER:PASS@…` in it shown as
    /// `***`: for messages not built from parsed addresses (argument parser errors quoting an argument).
    public static func redactingAddresses(in text: String) -> String {
        text.replacing(/([A-Za-z][A-Za-z0-9+.\-]*:\/\/)[^\s'"]*@/) { match in match.output.1 + "***@" }
    }

    static func parse(
        _ text: String, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String
    ) throws(AddressError) -> StoreAddress {
        switch text {
        case "cloudsql", "mysql": return .mysql(try environment.cloudSQLAddress())
        case "redis": return .redis(try environment.redisAddress())
        default: break
        }
        if let sqlite = try parseSQLite(text) { return .sqlite(sqlite) }
        let parts = try URLParts(text)
        let scheme = parts.scheme.split(separator: "+", maxSplits: 1).first.map(String.init) ?? parts.scheme
        switch scheme {
        case "mysql", "cloudsql", "mariadb":
            var address = try parseMySQL(parts)
            address.password = try password(parts, file: address.passwordFile, read: readPasswordFile)
            return .mysql(address)
        case "redis":
            var address = try parseRedis(parts, defaultTTL: environment.redisSessionTTL())
            address.password = try password(parts, file: address.passwordFile, read: readPasswordFile)
            return .redis(address)
        case "rediss":
            throw AddressError("rediss:// (TLS) is not supported: the Debian hiredis 0.14 client has no TLS; use a local TLS tunnel (docs/SECURITY.md) or the Memorystore private IP")
        default:
            throw AddressError("unknown address scheme '\(parts.scheme)://'; use mysql://, cloudsql://, redis://, sqlite:/// or a .db path")
        }
    }

    /// The password in the address, or the one in its `?password-file=` (never both).
    private static func password(
        _ parts: URLParts, file: String?, read: (String) throws(AddressError) -> String
    ) throws(AddressError) -> String? {
        guard let file else { return parts.password }
        guard parts.password == nil else {
            throw AddressError("\(parts.scheme) address has both a password and password-file=\(file); give one")
        }
        return try read(file)
    }

    /// `ssl-mode` and the other parameters are also accepted with `_` (`ssl_mode`, as in my.cnf).
    static func canonicalParameter(_ name: String) -> String {
        name.replacingOccurrences(of: "_", with: "-")
    }

    static func parseMySQL(_ parts: URLParts) throws(AddressError) -> MySQLAddress {
        guard let user = parts.user, !user.isEmpty else { throw AddressError("mysql address needs a user: mysql://USER:PASSWORD@HOST:PORT/DATABASE") }
        guard !parts.path.isEmpty, !parts.path.contains("/") else {
            throw AddressError("mysql address needs one database name after the host: mysql://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        let value = { (name: String) in parts.query.last { canonicalParameter($0.name) == name }?.value }
        let socket = value("socket") ?? value("unix-socket")
        guard socket != nil || !parts.host.isEmpty else { throw AddressError("mysql address needs a host or ?socket=PATH") }
        try rejectUnknownParameters(
            parts, allowed: ["socket", "unix-socket", "charset", "ssl-mode", "ssl-ca", "ssl-cert", "ssl-key", "password-file"])
        var tls = MySQLTLS()
        if let text = value("ssl-mode") {
            guard let mode = MySQLTLS.Mode(rawValue: canonicalParameter(text.lowercased())) else {
                throw AddressError("unknown ssl-mode '\(text)'; use \(MySQLTLS.Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            tls.mode = mode
        }
        (tls.caPath, tls.certificatePath, tls.keyPath) = (value("ssl-ca"), value("ssl-cert"), value("ssl-key"))
        if let problem = tls.problem { throw AddressError("mysql address: \(problem)") }
        for (name, path) in [("ssl-ca", tls.caPath), ("ssl-cert", tls.certificatePath), ("ssl-key", tls.keyPath)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw AddressError("mysql address: \(name) file \(path) cannot be read")
            }
        }
        return MySQLAddress(
            host: parts.host.isEmpty ? "localhost" : parts.host, port: parts.port ?? 3306, user: user,
            password: nil, database: parts.path, socket: socket, passwordFile: value("password-file"), tls: tls)
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
        try rejectUnknownParameters(parts, allowed: ["layout", "ttl", "password-file"])
        return RedisAddress(
            host: parts.host.isEmpty ? "127.0.0.1" : parts.host, port: parts.port ?? 6379, database: database,
            username: parts.user.flatMap { $0.isEmpty ? nil : $0 }, password: nil, layout: layout, ttlSeconds: ttl,
            passwordFile: parts.query.last { canonicalParameter($0.name) == "password-file" }?.value)
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
            throw AddressError("'\(URLParts.redactedForError(text))' is not an address: use mysql://…, redis://…, sqlite:///FILE, a path ending in .db or .sqlite, or the words cloudsql / redis")
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
        if let unknown = parts.query.first(where: { !allowed.contains(canonicalParameter($0.name)) }) {
            throw AddressError("unknown parameter '\(unknown.name)' in \(parts.scheme) address; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
