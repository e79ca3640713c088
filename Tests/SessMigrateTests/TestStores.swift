import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Fresh stores of every kind for cross-store tests. Servers come from `SESSMIGRATE_MYSQL_URL` and
/// `SESSMIGRATE_REDIS_URL` (set by scripts/test); suites using them are skipped when unset.
/// Redis databases 64–127 belong to these tests: slot `n` is database `64 + n`, so no two slots share one.
enum TestStores {
    static let environment = ProcessInfo.processInfo.environment
    static let serversAvailable = environment["SESSMIGRATE_MYSQL_URL"] != nil && environment["SESSMIGRATE_REDIS_URL"] != nil

    enum Kind: String, CaseIterable, CustomStringConvertible {
        case mysql, redisCommunity = "redis-community", redisADK = "redis-adk-redis", sqliteSSS = "sqlite-sss", sqliteDSS = "sqlite-dss"
        var description: String { rawValue }
    }

    /// A fresh, empty store of `kind`; `slot` tells stores of one test apart. Returns its address and
    /// a function that removes it.
    static func make(_ kind: Kind, slot: Int, directory: String) throws -> StoreAddress {
        let none = BotEnvironment(variables: [:])
        switch kind {
        case .mysql:
            guard case .mysql(var base) = try StoreAddress.parse(try #require(environment["SESSMIGRATE_MYSQL_URL"]), environment: none) else {
                throw AddressError("SESSMIGRATE_MYSQL_URL is not mysql://")
            }
            let admin = try MySQLConnection.open(host: base.host, port: base.port, user: base.user, password: base.password ?? "", database: base.database)
            defer { admin.close() }
            base.database = "smt_pairs_\(slot)_\(getpid())"
            _ = try admin.execute("DROP DATABASE IF EXISTS `\(base.database)`")
            _ = try admin.execute("CREATE DATABASE `\(base.database)`")
            return .mysql(base)
        case .redisCommunity, .redisADK:
            guard case .redis(var base) = try StoreAddress.parse(try #require(environment["SESSMIGRATE_REDIS_URL"]), environment: none) else {
                throw AddressError("SESSMIGRATE_REDIS_URL is not redis://")
            }
            precondition((0..<64).contains(slot), "TestStores slots are 0..<64")
            base.database = 64 + slot
            base.layout = kind == .redisCommunity ? .community : .adkRedis
            let admin = try RedisConnection.open(host: base.host, port: base.port, options: RedisConnectionOptions(database: base.database))
            defer { admin.close() }
            _ = try admin.command(["FLUSHDB"])
            return .redis(base)
        case .sqliteSSS:
            return .sqlite(SQLiteAddress(path: directory + "/s\(slot).db", newFileLayout: .sqliteSessionService))
        case .sqliteDSS:
            return .sqlite(SQLiteAddress(path: directory + "/d\(slot).db", newFileLayout: .database))
        }
    }

    /// Redis database `number` on `SESSMIGRATE_REDIS_URL` with `layout`, emptied and then given
    /// `commands` (each `SET key value`, the value taken whole, or `HSET key field value…`).
    static func redis(_ number: Int, layout: RedisLayoutName, commands: [String]) throws -> StoreAddress {
        let url = try #require(environment["SESSMIGRATE_REDIS_URL"])
        guard case .redis(var address) = try StoreAddress.parse(url, environment: BotEnvironment(variables: [:])) else {
            throw AddressError("not redis")
        }
        (address.database, address.layout) = (number, layout)
        let connection = try RedisConnection.open(host: address.host, port: address.port, options: RedisConnectionOptions(database: number))
        defer { connection.close() }
        _ = try connection.command(["FLUSHDB"])
        for command in commands {
            let words = command.split(separator: " ", maxSplits: command.hasPrefix("SET") ? 2 : .max).map(String.init)
            if case .error(let message) = try connection.command(words) { throw AddressError(message) }
        }
        return .redis(address)
    }

    /// Drops the MySQL databases this process made.
    static func dropMySQL(slots: Range<Int>) {
        let none = BotEnvironment(variables: [:])
        guard let url = environment["SESSMIGRATE_MYSQL_URL"], case .mysql(let base)? = try? StoreAddress.parse(url, environment: none),
            let admin = try? MySQLConnection.open(host: base.host, port: base.port, user: base.user, password: base.password ?? "", database: base.database)
        else { return }
        defer { admin.close() }
        for slot in slots { _ = try? admin.execute("DROP DATABASE IF EXISTS `smt_pairs_\(slot)_\(getpid())`") }
    }
}

extension TestStores {
    /// Every byte a store holds, in a stable order: MySQL rows of the five ADK tables, Redis keys with
    /// their type, value and whether they expire, a SQLite file's bytes. Equal dumps mean untouched stores.
    static func rawDump(_ address: StoreAddress) throws -> [String] {
        switch address {
        case .mysql(let m):
            let connection = try MySQLConnection.open(host: m.host, port: m.port, user: m.user, password: m.password ?? "", database: m.database)
            defer { connection.close() }
            var lines: [String] = []
            let tables = try connection.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1", buffered: true)
                .collect()
            for table in tables.compactMap({ $0.first ?? nil }) {
                for row in try connection.query("SELECT * FROM `\(table)`", buffered: true).collect() {
                    lines.append(table + ": " + row.map { $0 ?? "NULL" }.joined(separator: " | "))
                }
            }
            return lines.sorted()
        case .redis(let r):
            let connection = try RedisConnection.open(host: r.host, port: r.port, options: RedisConnectionOptions(database: r.database))
            defer { connection.close() }
            var lines: [String] = []
            guard case .array(let keys) = try connection.command(["KEYS", "*"]) else { return [] }
            for case .string(let key) in keys {
                let name = String(decoding: key, as: UTF8.self)
                let dump = try connection.command([Array("DUMP".utf8), key])
                let ttl = try connection.command([Array("PTTL".utf8), key])
                let expires: String
                if case .integer(let ms) = ttl { expires = ms < 0 ? "persistent" : "expires" } else { expires = "?" }
                lines.append("\(name) \(expires) \(dump)")
            }
            return lines.sorted()
        case .sqlite(let s):
            guard let data = FileManager.default.contents(atPath: s.path) else { return ["missing"] }
            return [SHA256.hex(of: data)]
        }
    }
}
