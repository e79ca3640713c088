import DriverCore
import MySQLDriver
import RedisDriver
import SQLiteDriver
import Snapshot

/// One kind of store, as the address layer sees it: which addresses name it, how they are parsed and
/// opened. Every address goes through this table (``StoreKinds/all``): the parser picks the kind by the
/// bot's word (`cloudsql`, `redis`), by a form of its own (a `.db` path) or by URL scheme, and the opener
/// asks the address's kind to open it. A new kind of store (PostgreSQL, a Redis Cluster variant) is one
/// entry here plus its address type (``StoreEndpoint``), not edits across the tool.
public protocol StoreKind: Sendable {
    /// A short name: `mysql`, `redis`, `sqlite`.
    var name: String { get }
    /// URL schemes it parses (what comes before `://`, without a `+driver` suffix).
    var schemes: [String] { get }
    /// Bare words naming the store the bot is configured with.
    var botWords: [String] { get }
    /// The bot's own store of this kind, from its settings.
    func botAddress(_ environment: BotEnvironment) throws(AddressError) -> StoreAddress
    /// An address in a form of this kind's own that is not a URL with one of ``schemes`` (a file
    /// path); `nil` when `text` is not one.
    func parseOwnForm(_ text: String) throws(AddressError) -> StoreAddress?
    /// A URL address with one of ``schemes``.
    func parse(_ parts: URLParts, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String) throws(AddressError) -> StoreAddress
    /// Opens the store (see ``StoreOpener/open(_:forWriting:)``), skipping the checks `memo` says an
    /// earlier open of the same run made.
    func open(_ address: StoreAddress, forWriting: Bool, memo: OpenMemo?) throws -> any SessionStore
}

extension StoreKind {
    public var botWords: [String] { [] }
    public func botAddress(_ environment: BotEnvironment) throws(AddressError) -> StoreAddress {
        throw AddressError("the bot has no \(name) store")
    }
    public func parseOwnForm(_ text: String) throws(AddressError) -> StoreAddress? { nil }
}

/// The table of store kinds.
public enum StoreKinds {
    public static let all: [any StoreKind] = [MySQLStoreKind(), RedisStoreKind(), SQLiteStoreKind()]

    /// The kind that parses URLs with `scheme` (`mysql+aiomysql` → `mysql`).
    static func kind(forScheme scheme: String) -> (any StoreKind)? {
        let base = scheme.lowercased().split(separator: "+", maxSplits: 1).first.map(String.init) ?? scheme
        return all.first { $0.schemes.contains(base) }
    }

    /// `mysql://, cloudsql://, …` for messages.
    static var schemeList: String { all.flatMap(\.schemes).map { "\($0)://" }.joined(separator: ", ") }
}

/// What every kind's address type provides: how it is shown (redacted), and the facts the engine and
/// the password options need without knowing the kind.
public protocol StoreEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The kind this address names.
    var kind: any StoreKind { get }
    /// TTL for sessions written without an expiry of their own (stores that keep expiries).
    var ttlSeconds: Int { get }
    /// The file, for a file store.
    var filePath: String? { get }
    /// True when the address has no password (nor file, nor command) and names a user (`namingUser`),
    /// or has neither (`!namingUser`); always false for stores without credentials.
    func lacksPassword(namingUser: Bool) -> Bool
    /// The address with a password read from `path`.
    func withPassword(_ password: String, fromFile path: String) -> Self
    /// The address with a password command run at each connection.
    func withPasswordCommand(_ command: PasswordCommand) -> Self
    /// The address with another TTL (stores that keep expiries).
    func withTTL(_ seconds: Int) -> Self
}

extension StoreEndpoint {
    public var ttlSeconds: Int { 3600 }
    public var filePath: String? { nil }
    public func lacksPassword(namingUser: Bool) -> Bool { false }
    public func withPassword(_ password: String, fromFile path: String) -> Self { self }
    public func withPasswordCommand(_ command: PasswordCommand) -> Self { self }
    public func withTTL(_ seconds: Int) -> Self { self }
}

extension StoreAddress {
    /// The address's own type. With ``init(_:)``, the only places that list the kinds of address.
    public var endpoint: any StoreEndpoint {
        switch self {
        case .mysql(let address): address
        case .redis(let address): address
        case .sqlite(let address): address
        }
    }

    /// The address of an endpoint.
    public init(_ endpoint: any StoreEndpoint) {
        switch endpoint {
        case let address as MySQLAddress: self = .mysql(address)
        case let address as RedisAddress: self = .redis(address)
        case let address as SQLiteAddress: self = .sqlite(address)
        default: preconditionFailure("an address kind missing from StoreAddress: \(type(of: endpoint))")
        }
    }

    /// The kind of store.
    public var kind: any StoreKind { endpoint.kind }
}

/// MySQL and CloudSQL (`DatabaseSessionService`).
struct MySQLStoreKind: StoreKind {
    var name: String { "mysql" }
    var schemes: [String] { ["mysql", "cloudsql", "mariadb"] }
    var botWords: [String] { ["cloudsql", "mysql"] }

    func botAddress(_ environment: BotEnvironment) throws(AddressError) -> StoreAddress { .mysql(try environment.cloudSQLAddress()) }

    func parse(_ parts: URLParts, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String) throws(AddressError) -> StoreAddress {
        var address = try StoreAddress.parseMySQL(parts)
        (address.password, address.passwordCommand) = try StoreAddress.password(parts, file: address.passwordFile, read: readPasswordFile)
        return .mysql(address)
    }

    func open(_ address: StoreAddress, forWriting: Bool, memo: OpenMemo?) throws -> any SessionStore {
        guard case .mysql(let mysql) = address else { preconditionFailure("not a MySQL address") }
        if forWriting, let parked = memo?.takeParked(address, forWriting: false) as? MySQLSessionStore {
            // The run's first look at its target (probe, identity) is reused: one connection, one TLS handshake.
            do {
                try parked.upgradeForWriting()
            } catch {
                try? parked.close()
                throw error
            }
            return parked
        }
        // A password command runs here, for every store opened: every new connection, reconnects included.
        let config = MySQLStoreConfig(
            host: mysql.host, port: mysql.port, user: mysql.user, password: try mysql.currentPassword() ?? "",
            database: mysql.database, unixSocket: mysql.socket, tls: mysql.tls)
        return try MySQLSessionStore.open(config, forWriting: forWriting)
    }
}

/// Redis and Memorystore (google-adk-community and google-adk-redis layouts).
struct RedisStoreKind: StoreKind {
    var name: String { "redis" }
    var schemes: [String] { ["redis", "rediss"] }
    var botWords: [String] { ["redis"] }

    func botAddress(_ environment: BotEnvironment) throws(AddressError) -> StoreAddress { .redis(try environment.redisAddress()) }

    func parse(_ parts: URLParts, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String) throws(AddressError) -> StoreAddress {
        var address = try StoreAddress.parseRedis(parts, defaultTTL: environment.redisSessionTTL())
        (address.password, address.passwordCommand) = try StoreAddress.password(parts, file: address.passwordFile, read: readPasswordFile)
        return .redis(address)
    }

    func open(_ address: StoreAddress, forWriting: Bool, memo: OpenMemo?) throws -> any SessionStore {
        guard case .redis(let redis) = address else { preconditionFailure("not a Redis address") }
        let store: RedisSessionStore
        if forWriting, let parked = memo?.takeParked(address, forWriting: false) as? RedisSessionStore {
            store = parked  // A Redis connection reads and writes alike; the target check below is what writing adds.
        } else {
            let given: RedisLayout? = redis.layout.flatMap { RedisLayout(rawValue: $0.rawValue) }
            var config = RedisStoreConfig(
                host: redis.host, port: redis.port, database: redis.database, username: redis.username,
                password: try redis.currentPassword(), layout: given, defaultTTLSeconds: redis.ttlSeconds, tls: redis.tls)
            config.cluster = redis.cluster
            if let known = memo?.redisLayout(address) {
                config.layout = known
                config.layoutConfirmed = true
            }
            // On a cluster, every further node connection asks again (a password command runs each time).
            store = try RedisSessionStore.open(config, passwordProvider: { try redis.currentPassword() })
        }
        if let settled = store.settledLayout { memo?.remember(redisLayout: settled, of: address) }
        guard forWriting, memo?.wasCheckedForWriting(address) != true else { return store }
        do {
            // Foreign keys under ADK's names: refused before anything is written.
            try store.checkRecognisedForWriting()
        } catch {
            try? store.close()
            throw error
        }
        memo?.rememberCheckedForWriting(address)
        return store
    }
}

/// SQLite files in either ADK layout, and snapshot files.
struct SQLiteStoreKind: StoreKind {
    var name: String { "sqlite" }
    var schemes: [String] { ["sqlite"] }

    func parseOwnForm(_ text: String) throws(AddressError) -> StoreAddress? {
        try StoreAddress.parseSQLite(text).map(StoreAddress.sqlite)
    }

    func parse(_ parts: URLParts, environment: BotEnvironment, readPasswordFile: (String) throws(AddressError) -> String) throws(AddressError) -> StoreAddress {
        // sqlite URLs are taken by ``parseOwnForm(_:)`` before any URL parsing.
        throw AddressError("sqlite address needs three slashes: sqlite:///relative.db or sqlite:////absolute/path.db")
    }

    func open(_ address: StoreAddress, forWriting: Bool, memo: OpenMemo?) throws -> any SessionStore {
        guard case .sqlite(let sqlite) = address else { preconditionFailure("not a SQLite address") }
        if !forWriting, SnapshotReader.isSnapshot(path: sqlite.path) { return try SnapshotStore(path: sqlite.path) }
        return try SQLiteSessionStore.open(
            path: sqlite.path, forWriting: forWriting, newFileLayout: sqlite.newFileLayout == .database ? .databaseV1 : .sqliteSessionService)
    }
}
