import DriverCore
import Foundation
import SessionModel

@testable import RedisDriver

/// The dev server from `SESSMIGRATE_REDIS_URL` (`redis://[user:pass@]host:port[/db]`).
enum TestRedis {
    static let url: String? = ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_URL"]
    static var isAvailable: Bool { url != nil }

    /// A store configuration for database `database` (40–49 belong to these tests).
    static func config(database: Int, layout: RedisLayout? = nil) throws -> RedisStoreConfig {
        guard let url, let parts = URLComponents(string: url), let host = parts.host else {
            throw TestFailure("SESSMIGRATE_REDIS_URL is not a redis:// URL")
        }
        return RedisStoreConfig(
            host: host, port: parts.port ?? 6379, database: database, username: parts.user,
            password: parts.password, layout: layout)
    }

    /// Runs `body` with a raw connection to `database`, emptied first.
    static func withEmptyDatabase<T>(_ database: Int, _ body: (RedisConnection) throws -> T) throws -> T {
        let config = try config(database: database)
        let connection = try RedisConnection.open(config.endpoint, options: config.connectionOptions)
        defer { connection.close() }
        try connection.expectOK(connection.command(["FLUSHDB"]), context: "FLUSHDB")
        return try body(connection)
    }

    /// Ends a hash-table resize Redis may still be in after a burst of writes, so that later SCANs
    /// see one stable table. A resize (say 64 → 128 buckets) moves one bucket per key lookup and the
    /// rest in its 100 ms timer; if the timer finishes it between two scans of a test, the second scan
    /// steps through other buckets and returns a different set of repeats (still every key, which is
    /// all SCAN promises, but not what the resume tests count). Each lookup moves at least one bucket,
    /// so 1,024 lookups finish any resize of the tables these tests fill.
    static func finishRehashing(_ connection: RedisConnection) throws {
        let lookup: [[UInt8]] = [Array("EXISTS".utf8), Array("sessmigrate-test:rehash-step".utf8)]
        _ = try connection.pipeline(Array(repeating: lookup, count: 1024))
    }

    /// Opens a store on `database`, runs `body`, closes it on both paths.
    static func withStore<T>(_ database: Int, layout: RedisLayout? = nil, _ body: (RedisSessionStore) throws -> T) throws -> T {
        let store = try RedisSessionStore.open(config(database: database, layout: layout))
        defer { try? store.close() }
        return try body(store)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension RedisConnection {
    /// Runs a command and fails on an error reply.
    @discardableResult
    func run(_ arguments: [String]) throws -> RedisReply {
        let reply = try command(arguments)
        if case .error(let message) = reply { throw TestFailure("\(arguments.first ?? ""): \(message)") }
        return reply
    }

    /// Every key of the selected database with its type, value (sets sorted, hashes as pairs
    /// sorted by field) and absolute expiry (`PEXPIRETIME`, -1 when persistent), sorted by key.
    func snapshot() throws -> [String: String] {
        var result: [String: String] = [:]
        var cursor = "0"
        repeat {
            let reply = try run(["SCAN", cursor, "COUNT", "1000"])
            guard let parts = reply.elements, let next = parts.first?.text, let keys = parts.last?.elements else {
                throw TestFailure("bad SCAN reply")
            }
            cursor = next
            for key in keys.compactMap(\.text) {
                let type = try run(["TYPE", key]).text ?? "?"
                let value: String
                switch type {
                case "string": value = try run(["GET", key]).text ?? ""
                case "set": value = (try run(["SMEMBERS", key]).elements ?? []).compactMap(\.text).sorted().joined(separator: "\u{1}")
                case "hash":
                    let flat = (try run(["HGETALL", key]).elements ?? []).compactMap(\.text)
                    value = stride(from: 0, to: flat.count, by: 2).map { flat[$0] + "=" + flat[$0 + 1] }.sorted().joined(separator: "\u{1}")
                default: value = "?"
                }
                let expiry = try run(["PEXPIRETIME", key]).integer ?? -3
                result[key] = "\(type) \(expiry) \(value)"
            }
        } while cursor != "0"
        return result
    }
}

/// Builders for sample sessions.
enum Samples {
    static func event(_ json: String) throws -> Event {
        try Event(data: JSONValue.parseObject(json))
    }

    /// A session with bytes, floats, nulls in user data, non-ASCII text and scoped state.
    static func richSession(id: String, app: String = "app1", user: String = "u1", expiry: SessionExpiry?) throws -> Session {
        let events = [
            try event(ADKFixtures.expectedEvent1), try event(ADKFixtures.expectedEvent2), try event(ADKFixtures.expectedEvent3),
        ]
        return Session(
            key: SessionKey(appName: app, userId: user, sessionId: id),
            state: ["count": .number(JSONNumber(1)), "nul": .null, "f": .number(JSONNumber(1e-7)), "user:orphan": .string("kept")],
            appState: ["theme": .string("light")],
            userState: ["lang": .string("de"), "name": .string("Zoë")],
            events: events, lastUpdateTime: 1700000002.0, expiry: expiry)
    }

    /// Milliseconds-precise epoch seconds `seconds` from now.
    static func fromNow(_ seconds: Double) -> SessionExpiry {
        .at(((Date().timeIntervalSince1970 + seconds) * 1000).rounded() / 1000)
    }
}
