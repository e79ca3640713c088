import DriverCore
import MySQLDriver
import RedisDriver
import Snapshot

/// Turns an address into an open store. The one place that knows which driver serves which address.
public struct StoreOpener: Sendable {
    public init() {}

    /// Opens the store. Reading never creates anything; writing creates the schema or file only
    /// where it is empty, in the layout the address asks for. A store opened for writing must hold
    /// a schema or key layout this tool recognises (MySQL and SQLite check at open, Redis samples
    /// its `session:*`, `app:*` and `user:*` keys); anything else is refused before any write.
    public func open(_ address: StoreAddress, forWriting: Bool) throws -> any SessionStore {
        do {
            switch address {
            case .mysql(let mysql):
                let config = MySQLStoreConfig(
                    host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password ?? "",
                    database: mysql.database, unixSocket: mysql.socket, tls: mysql.tls)
                return try MySQLSessionStore.open(config, forWriting: forWriting)
            case .redis(let redis):
                let config = RedisStoreConfig(
                    host: redis.host, port: redis.port, database: redis.database, username: redis.username,
                    password: redis.password, layout: redis.layout.map(Self.redisLayout), defaultTTLSeconds: redis.ttlSeconds)
                let store = try RedisSessionStore.open(config)
                guard forWriting else { return store }
                do {
                    // Foreign keys under ADK's names: refused before anything is written.
                    try store.checkRecognisedForWriting()
                } catch {
                    try? store.close()
                    throw error
                }
                return store
            case .sqlite(let sqlite):
                if !forWriting, SnapshotReader.isSnapshot(path: sqlite.path) { return try SnapshotStore(path: sqlite.path) }
                return try SQLiteStoreFactory.open(
                    path: sqlite.path, forWriting: forWriting,
                    newFileLayout: sqlite.newFileLayout == .database ? .databaseV1 : .sqliteSessionService)
            }
        } catch let error as any DriverError {
            throw StoreError(address: address.description, underlying: error)
        }
    }

    static func redisLayout(_ name: RedisLayoutName) -> RedisLayout {
        switch name {
        case .community: .community
        case .adkRedis: .adkRedis
        }
    }
}

/// A driver error with the (redacted) address of the store it came from.
public struct StoreError: Error, CustomStringConvertible {
    public var address: String
    public var underlying: any DriverError

    public var code: DriverErrorCode { underlying.code }
    public var description: String { "\(address): \(underlying.description)" }
}
