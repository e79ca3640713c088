import Foundation
import MySQLDriver
import RedisDriver

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
    /// password file or running any password command), otherwise with anything between `://` and the
    /// last `@` after the user name replaced by `***`, and each `password-command=` cut to its first word.
    public static func redacted(_ text: String) -> String {
        if let address = try? parse(text, environment: BotEnvironment(variables: [:]), readPasswordFile: { _ in "" }) {
            return address.description
        }
        return PasswordCommand.redactingCommands(in: URLParts.redactedForError(text))
    }

    /// `text` (any message) with the credentials of every `scheme://USER:PASS@…` in it shown as
    /// `***`: for messages not built from parsed addresses (argument parser errors quoting an argument).
    public static func redactingAddresses(in text: String) -> String {
        PasswordCommand.redactingCommands(in: text.replacing(/([A-Za-z][A-Za-z0-9+.\-]*:\/\/)[^\s'"]*@/) { match in match.output.1 + "***@" })
    }

    static func parse(
        _ text: String, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String
    ) throws(AddressError) -> StoreAddress {
        // Every kind in the table gets its say: the bot's words, its own forms (a file path), its URL schemes.
        if let kind = StoreKinds.all.first(where: { $0.botWords.contains(text) }) { return try kind.botAddress(environment) }
        for kind in StoreKinds.all {
            if let address = try kind.parseOwnForm(text) { return address }
        }
        let parts = try URLParts(text)
        guard let kind = StoreKinds.kind(forScheme: parts.scheme) else {
            throw AddressError("unknown address scheme '\(parts.scheme)://'; use \(StoreKinds.schemeList), a .db path, or the words cloudsql / redis")
        }
        return try kind.parse(parts, environment: environment, readPasswordFile: readPasswordFile)
    }

    /// The password in the address, the one in its `?password-file=`, or its `?password-command=`
    /// (run later, at each connection): never two of them.
    static func password(
        _ parts: URLParts, file: String?, read: (String) throws(AddressError) -> String
    ) throws(AddressError) -> (String?, PasswordCommand?) {
        let command = try PasswordCommand.parameter(of: parts)
        let given = [parts.password == nil ? nil : "a password", file.map { "password-file=\($0)" }, command.map { "password-command=\($0)" }]
            .compactMap { $0 }
        guard given.count <= 1 else { throw AddressError("\(parts.scheme) address has both \(given.joined(separator: " and ")); give one") }
        if let command { return (nil, command) }
        guard let file else { return (parts.password, nil) }
        return (try read(file), nil)
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
        // libmariadb uses the socket only for the host `localhost`; any other host goes over TCP.
        let isLocalhost = parts.host.isEmpty || parts.host.lowercased() == "localhost"
        if let socket, !isLocalhost {
            throw AddressError(
                "mysql address names both host '\(parts.host)' and socket '\(socket)'; give one: "
                    + "mysql://USER@HOST:PORT/DATABASE, or mysql://USER@localhost/DATABASE?socket=PATH")
        }
        try rejectUnknownParameters(
            parts, allowed: ["socket", "unix-socket", "charset", "ssl-mode", "ssl-ca", "ssl-cert", "ssl-key", "password-file", "password-command"])
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
            host: isLocalhost ? "localhost" : parts.host, port: parts.port ?? 3306, user: user,
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
                let names = RedisLayoutName.allCases.map { "layout=\($0.rawValue)" }.joined(separator: ", ")
                throw AddressError("unknown redis layout '\(name)'; use \(names)")
            }
            layout = parsed
        }
        var cluster = RedisClusterMode.auto
        if let text = parts.queryValue("cluster") {
            switch text.lowercased() {
            case "auto": cluster = .auto
            case "no", "false", "0": cluster = .no
            case "yes", "true", "1": cluster = .yes
            default: throw AddressError("redis cluster '\(text)' is not one of auto, yes, no")
            }
        }
        var ttl = defaultTTL
        if let text = parts.queryValue("ttl") {
            guard let seconds = Int(text), seconds > 0 else { throw AddressError("redis ttl '\(text)' is not a positive number of seconds") }
            ttl = seconds
        }
        try rejectUnknownParameters(parts, allowed: Set(["layout", "ttl", "cluster", "password-file", "password-command"]).union(redisTLSParameterNames))
        var address = RedisAddress(
            host: parts.host.isEmpty ? "127.0.0.1" : parts.host, port: parts.port ?? 6379, database: database,
            username: parts.user.flatMap { $0.isEmpty ? nil : $0 }, password: nil, layout: layout, ttlSeconds: ttl,
            passwordFile: parts.query.last { canonicalParameter($0.name) == "password-file" }?.value, tls: try parseRedisTLS(parts))
        address.cluster = cluster
        return address
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
            throw AddressError(
                "'\(URLParts.redactedForError(text))' is not an address: use mysql://…, redis://…, sqlite:///FILE, a path ending in .db or .sqlite, or the words cloudsql / redis"
            )
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

    static func rejectUnknownParameters(_ parts: URLParts, allowed: Set<String>) throws(AddressError) {
        if let unknown = parts.query.first(where: { !allowed.contains(canonicalParameter($0.name)) }) {
            throw AddressError("unknown parameter '\(unknown.name)' in \(parts.scheme) address; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
