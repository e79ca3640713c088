import Foundation

/// The bot's own settings: environment variables, optionally read from its `.env` file.
///
/// `SESSION_BACKEND` (redis | cloudsql | inmemory), `REDIS_URL`, `REDIS_SESSION_TTL`,
/// `CLOUDSQL_HOST`, `CLOUDSQL_PORT`, `CLOUDSQL_DATABASE`, `CLOUDSQL_USER`, `CLOUDSQL_PASSWORD`.
/// Values from the process environment win over the `.env` file, as in python-dotenv's default.
public struct BotEnvironment: Sendable {
    /// The variables in effect.
    public private(set) var variables: [String: String]

    public init(variables: [String: String]) {
        self.variables = variables
    }

    /// The process environment over the `.env` file's contents.
    public init(process: [String: String], dotenv: String?) throws(AddressError) {
        var merged = try dotenv.map(Self.parseDotenv) ?? [:]
        merged.merge(process) { _, process in process }
        variables = merged
    }

    /// Parses `KEY=VALUE` lines: `#` comments, `export ` prefixes, single or double quotes.
    public static func parseDotenv(_ text: String) throws(AddressError) -> [String: String] {
        var result: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmed(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmed(" \t") }
            guard let equals = line.firstIndex(of: "=") else {
                throw AddressError(".env line \(number + 1) is not KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmed(" \t")
            var value = String(line[line.index(after: equals)...]).trimmed(" \t")
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            } else if let hash = value.range(of: " #") {
                value = String(value[..<hash.lowerBound]).trimmed(" \t")
            }
            result[key] = value
        }
        return result
    }

    /// `REDIS_SESSION_TTL` in seconds, or ADK's default of 3600.
    public func redisSessionTTL() throws(AddressError) -> Int {
        guard let text = variables["REDIS_SESSION_TTL"], !text.isEmpty else { return 3600 }
        guard let seconds = Int(text), seconds > 0 else {
            throw AddressError("REDIS_SESSION_TTL '\(text)' is not a positive number of seconds")
        }
        return seconds
    }

    /// The store `SESSION_BACKEND` names, as an address word (`redis` or `cloudsql`).
    public var sessionBackend: String? { variables["SESSION_BACKEND"] }

    /// The Redis store the bot uses (`REDIS_URL`, `REDIS_SESSION_TTL`).
    public func redisAddress() throws(AddressError) -> RedisAddress {
        guard let url = variables["REDIS_URL"], !url.isEmpty else {
            throw AddressError("'redis' means the bot's Redis, but REDIS_URL is not set (pass --env-file or a redis:// address)")
        }
        guard case .redis(let address) = try StoreAddress.parse(url, environment: BotEnvironment(variables: [:]).with(variables)) else {
            throw AddressError("REDIS_URL is not a redis:// address")
        }
        return address
    }

    /// The CloudSQL database the bot uses (`CLOUDSQL_HOST`, `_PORT`, `_DATABASE`, `_USER`, `_PASSWORD`).
    public func cloudSQLAddress() throws(AddressError) -> MySQLAddress {
        var missing: [String] = []
        for name in ["CLOUDSQL_HOST", "CLOUDSQL_DATABASE", "CLOUDSQL_USER"] where (variables[name] ?? "").isEmpty {
            missing.append(name)
        }
        guard missing.isEmpty else {
            throw AddressError("'cloudsql' means the bot's CloudSQL, but \(missing.joined(separator: ", ")) not set (pass --env-file or a mysql:// address)")
        }
        let host = variables["CLOUDSQL_HOST"] ?? ""
        var port = 3306
        if let text = variables["CLOUDSQL_PORT"], !text.isEmpty {
            guard let value = Int(text), (1...65535).contains(value) else { throw AddressError("CLOUDSQL_PORT '\(text)' is not a port number") }
            port = value
        }
        // A host that is a path is a Cloud SQL Auth Proxy Unix socket (/cloudsql/PROJECT:REGION:INSTANCE).
        let socket = host.hasPrefix("/") ? host : nil
        return MySQLAddress(
            host: socket == nil ? host : "localhost", port: port, user: variables["CLOUDSQL_USER"] ?? "",
            password: variables["CLOUDSQL_PASSWORD"], database: variables["CLOUDSQL_DATABASE"] ?? "", socket: socket)
    }

    private func with(_ variables: [String: String]) -> BotEnvironment { BotEnvironment(variables: variables) }
}

extension String {
    func trimmed(_ set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Substring {
    func trimmed(_ set: String) -> String { String(self).trimmed(set) }
}
