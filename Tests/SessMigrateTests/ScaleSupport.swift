import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SQLiteDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Data, clocks and dumps for the tests of workers, shards and the brake (issue 15).
enum ScaleData {
    /// A small deterministic generator (SplitMix64), so a failing case can be run again.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Random session ids with `:`, `{`, `}`, glob characters and non-ASCII. Each starts with its own
    /// number, so no two are equal under any MySQL collation (case, accents, emoji, trailing spaces).
    static func ids(_ count: Int, seed: UInt64) -> [String] {
        var generator = Generator(state: seed)
        let alphabet = Array("ab:{}[]*?\\üé🦆ß-_.09x")
        return (0..<count).map { number in
            let length = Int.random(in: 0...10, using: &generator)
            return "\(number)-" + String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "a" })
        }
    }

    /// `count` sessions over 2 apps × 3 users with random ids, 1 to 3 events each, last updated
    /// recently. Every session of an app carries the same app state (and of a user the same user
    /// state), as ADK stores them, so the order sessions are written in cannot change the stored state.
    /// ``sessions(_:seed:)`` with ids starting `extra-`: sessions a mirror copy deletes from a target.
    static func extraSessions(_ count: Int, seed: UInt64) throws -> [Session] {
        try sessions(count, seed: seed).map { session in
            var session = session
            session.key.sessionId = "extra-" + session.key.sessionId
            return session
        }
    }

    static func sessions(_ count: Int, seed: UInt64 = 15) throws -> [Session] {
        let now = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        return try ids(count, seed: seed).enumerated().map { index, id in
            let app = ["app:one", "app{two}"][index % 2]
            let user = ["u1", "ü:2", "u{3}"][index % 3]
            let start = now - 600 + Double(index)
            let events = try (0..<(1 + index % 3)).map { position in
                try Event(data: [
                    "id": .string("e\(index)-\(position)"), "invocation_id": .string("inv\(index)"), "author": .string("user"),
                    "timestamp": .number(JSONNumber(start + Double(position) * 0.25)),
                    "content": .object(["role": .string("user"), "parts": .array([.object(["text": .string("hi \(id)")])])]),
                ])
            }
            return Session(
                key: SessionKey(appName: app, userId: user, sessionId: id), state: ["i": .number(JSONNumber(index))],
                appState: ["theme": .string(app)], userState: ["lang": .string(user)], events: events,
                createTime: start - 1, lastUpdateTime: events.last?.timestamp ?? start)
        }
    }

    /// What a store holds, row by row or key by key, in a stable order; byte-exact except for what a
    /// write stamps with the time of writing (the `update_time` of app and user state rows) and Redis
    /// expiries (present or not). Unlike ``TestStores/rawDump(_:)`` it does not depend on the order
    /// sessions were written in (SQLite row ids and pages, the encoding order of a Redis set).
    static func dump(_ address: StoreAddress) throws -> [String] {
        switch address {
        case .mysql(let m):
            let connection = try MySQLConnection.open(host: m.host, port: m.port, user: m.user, password: m.password ?? "", database: m.database)
            defer { connection.close() }
            var lines: [String] = []
            let tables = try connection.query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()", buffered: true)
                .collect().compactMap { $0.first ?? nil }
            for table in tables {
                let columns = try connection.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '\(table)' ORDER BY ordinal_position",
                    buffered: true
                ).collect().compactMap { $0.first ?? nil }.filter { !Self.stampedAtWrite(table, $0) }
                let list = columns.map { "`\($0)`" }.joined(separator: ", ")
                for row in try connection.query("SELECT \(list) FROM `\(table)`", buffered: true).collect() {
                    lines.append(table + ": " + row.map { $0 ?? "NULL" }.joined(separator: " | "))
                }
            }
            return lines.sorted()
        case .redis(let r):
            let connection = try RedisConnection.open(host: r.host, port: r.port, options: RedisConnectionOptions(database: r.database))
            defer { connection.close() }
            guard case .array(let keys) = try connection.command(["KEYS", "*"]) else { return [] }
            return try keys.compactMap(\.bytes).map { key in
                let name = String(decoding: key, as: UTF8.self)
                let type = try connection.command([Array("TYPE".utf8), key])
                let value: RedisReply
                switch type {
                case .status("string"): value = try connection.command([Array("GET".utf8), key])
                case .status("hash"): value = try connection.command([Array("HGETALL".utf8), key])
                case .status("set"): value = try connection.command([Array("SMEMBERS".utf8), key])
                default: value = try connection.command([Array("DUMP".utf8), key])
                }
                let expires = try connection.command([Array("PTTL".utf8), key]) == .integer(-1) ? "persistent" : "expires"
                return "\(name) \(type) \(expires) \(canonical(value, type: type))"
            }.sorted()
        case .sqlite(let s):
            let connection = try SQLiteConnection.open(path: s.path, mode: .readOnly)
            defer { try? connection.close() }
            var lines: [String] = []
            for table in try connection.tableNames() {
                let columns = try connection.columns(of: table).map(\.name).filter { !Self.stampedAtWrite(table, $0) }
                let statement = try connection.prepare("SELECT \(columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \"\(table)\"")
                while try statement.step() {
                    lines.append(table + ": " + (0..<statement.columnCount).map { "\(statement.value(at: $0))" }.joined(separator: " | "))
                }
            }
            return lines.sorted()
        }
    }

    /// The columns a write fills with the time of writing, not with data.
    static func stampedAtWrite(_ table: String, _ column: String) -> Bool {
        ["app_states", "user_states"].contains(table) && column == "update_time"
    }

    /// A reply as text; the members of a set, and the field=value pairs of a hash, in sorted order.
    static func canonical(_ reply: RedisReply, type: RedisReply) -> String {
        guard case .array(let items) = reply else { return "\(reply)" }
        var parts = items.map { "\($0)" }
        if type == .status("hash") {
            parts = stride(from: 0, to: parts.count - 1, by: 2).map { parts[$0] + "=" + parts[$0 + 1] }.sorted()
        } else if type == .status("set") {
            parts.sort()
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}

/// A clock whose time moves only when something sleeps on it (thread-safe: a pool's workers share
/// it). Records every sleep; `onSleep` sees each one (a test's way to act "meanwhile").
final class TestClock: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var time: Double
    private var slept: [Double] = []
    private let onSleep: @Sendable (Double) -> Void

    init(start: Double = 1_800_000_000, onSleep: @escaping @Sendable (Double) -> Void = { _ in }) {
        time = start
        self.onSleep = onSleep
    }

    var now: Double { lock.withLock { time } }
    var sleeps: [Double] { lock.withLock { slept } }

    var clock: Clock {
        Clock(
            now: { self.now },
            sleep: { seconds in
                self.lock.withLock {
                    self.time += seconds
                    self.slept.append(seconds)
                }
                self.onSleep(seconds)
            })
    }
}

extension CLI {
    /// Runs the binary with extra environment variables.
    static func run(_ arguments: [String], environment extra: [String: String]) throws -> Result {
        let process = Process()
        guard let binary else { throw CLIError.notBuilt }
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}
