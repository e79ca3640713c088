import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Stores with one bad session among good ones, and the two checks every bad input gets: without
/// `--skip-bad` the copy stops before writing the batch holding it; with it, the bad session is
/// listed and the target holds exactly the good sessions, each complete. Redis databases 50–59 and
/// MySQL databases named `bad_*` belong to these tests. Bad data holds the marker `PAYLOAD-SECRET`,
/// which no error or listing may show.
enum BadInput {
    static let environment = ProcessInfo.processInfo.environment
    static let marker = "PAYLOAD-SECRET"
    static let none = BotEnvironment(variables: [:])

    /// `count` good sessions of app `app`, two events each, with app and user state.
    static func goodSessions(app: String = "app", count: Int = 3, bigEvent: Int = 0) throws -> [Session] {
        try (0..<count).map { index in
            let id = (app == "app" ? "good" : app) + "\(index)"
            let events = try (0..<2).map { position in
                var data: JSONObject = [
                    "id": .string("\(id)-e\(position)"), "invocation_id": .string("inv-\(id)"), "author": .string("user"),
                    "timestamp": .number(JSONNumber(1_700_000_000.0 + Double(position))),
                ]
                if bigEvent > 0, position == 0 { data["custom_metadata"] = .object(["blob": .string(String(repeating: "x", count: bigEvent))]) }
                return try Event(data: data)
            }
            return Session(
                key: SessionKey(appName: app, userId: "u", sessionId: id), state: ["n": .number(JSONNumber(index))],
                appState: ["theme": .string("dark")], userState: ["lang": .string("de")], events: events,
                createTime: 1_700_000_000, lastUpdateTime: 1_700_000_010)
        }
    }

    // MARK: - Stores

    /// An empty Redis database `number` (50–59) with the community layout.
    static func redis(_ number: Int, layout: RedisLayoutName = .community) throws -> (StoreAddress, RedisConnection) {
        guard case .redis(var base) = try StoreAddress.parse(try #require(environment["SESSMIGRATE_REDIS_URL"]), environment: none) else {
            throw AddressError("SESSMIGRATE_REDIS_URL is not redis://")
        }
        base.database = number
        base.layout = layout
        let connection = try RedisConnection.open(host: base.host, port: base.port, options: RedisConnectionOptions(database: number))
        _ = try connection.command(["FLUSHDB"])
        return (.redis(base), connection)
    }

    /// A fresh MySQL database `bad_<name>_<pid>` and an admin connection to it.
    static func mysql(_ name: String) throws -> (StoreAddress, MySQLConnection) {
        guard case .mysql(var base) = try StoreAddress.parse(try #require(environment["SESSMIGRATE_MYSQL_URL"]), environment: none) else {
            throw AddressError("SESSMIGRATE_MYSQL_URL is not mysql://")
        }
        let admin = try MySQLConnection.open(host: base.host, port: base.port, user: base.user, password: base.password ?? "", database: base.database)
        base.database = "bad_\(name)_\(getpid())"
        _ = try admin.execute("DROP DATABASE IF EXISTS `\(base.database)`")
        _ = try admin.execute("CREATE DATABASE `\(base.database)`")
        _ = try admin.execute("USE `\(base.database)`")
        return (.mysql(base), admin)
    }

    static func dropMySQL(_ address: StoreAddress, _ admin: MySQLConnection) {
        if case .mysql(let base) = address { _ = try? admin.execute("DROP DATABASE IF EXISTS `\(base.database)`") }
        admin.close()
    }

    /// A SQLite DatabaseSessionService file in `directory`.
    static func sqlite(_ directory: String, _ name: String) -> StoreAddress {
        .sqlite(SQLiteAddress(path: directory + "/\(name).db", newFileLayout: .database))
    }

    /// Runs `sql` on a SQLite file with the sqlite3 shell (bytes SQLite's API would refuse to make).
    static func sqlite3(_ address: StoreAddress, _ sql: String) throws {
        guard case .sqlite(let file) = address else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file.path, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    // MARK: - Copying and checking

    /// Copies `source` into `target` with the engine, every session in one batch unless `batchSize`.
    static func copy(
        _ source: StoreAddress, _ target: StoreAddress, skipBad: Bool, batchSize: Int = 100, resume: CopyCheckpoint? = nil,
        checkpoint: (CopyCheckpoint) throws -> Void = { _ in }, targetStore: (any SessionStore)? = nil
    ) throws -> CopySummary {
        let from = try StoreOpener().open(source, forWriting: false)
        defer { try? from.close() }
        let to = try targetStore ?? StoreOpener().open(target, forWriting: true)
        defer { if targetStore == nil { try? to.close() } }
        var options = CopyRequest(batchSize: batchSize)
        options.skipBad = skipBad
        options.ttl.includeExpired = true  // the fixtures' sessions are old; a Redis target would skip them
        return try CopyEngine(request: options).run(from: from, to: to, resume: resume, checkpoint: checkpoint)
    }

    /// Compares the readable sessions of `source` with `target`, passing over bad ones.
    static func compare(_ source: StoreAddress, _ target: StoreAddress) throws -> DiffSummary {
        let a = try StoreOpener().open(source, forWriting: false)
        defer { try? a.close() }
        let b = try StoreOpener().open(target, forWriting: false)
        defer { try? b.close() }
        return try DiffEngine(detailed: true, skipBad: true).run(a, b) { _ in }
    }

    static func sessionCount(_ address: StoreAddress) throws -> Int {
        let store = try StoreOpener().open(address, forWriting: false)
        defer { try? store.close() }
        return try store.fetchStats().sessions
    }

    /// The two checks of one bad input in `source` holding `good` good sessions: the copy stops
    /// (naming `location` and `reason`, no payload) and writes nothing of the batch; with
    /// `skipBad`, `skipped` sessions are listed and exactly the good ones arrive, complete.
    static func expectStopAndSkip(
        _ source: StoreAddress, location: String, reason: String, good: Int, skipped: Int = 1, directory: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let stopTarget = sqlite(directory, "stop-\(UUID().uuidString)")
        do {
            _ = try copy(source, stopTarget, skipBad: false)
            Issue.record("the copy did not stop at the bad session", sourceLocation: sourceLocation)
        } catch let error as SessionDataError {
            #expect(error.location.contains(location), "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(reason), "\(error)", sourceLocation: sourceLocation)
            #expect(!error.description.contains(marker), sourceLocation: sourceLocation)
        }
        #expect(try sessionCount(stopTarget) == 0, "the batch holding the bad session was written", sourceLocation: sourceLocation)

        let skipTarget = sqlite(directory, "skip-\(UUID().uuidString)")
        let summary = try copy(source, skipTarget, skipBad: true)
        #expect(summary.skippedCount == skipped, "\(summary.skipped)", sourceLocation: sourceLocation)
        #expect(summary.skipped.items.allSatisfy { !$0.description.contains(marker) }, sourceLocation: sourceLocation)
        let first = try #require(summary.skipped.items.first, sourceLocation: sourceLocation)
        #expect(first.location.contains(location) && first.reason.contains(reason), "\(first)", sourceLocation: sourceLocation)
        #expect(summary.total.written == good, sourceLocation: sourceLocation)
        let diff = try compare(source, skipTarget)
        #expect(diff.identical == good && diff.onlyInA == 0 && diff.onlyInB == 0 && diff.changed == 0, "\(diff)", sourceLocation: sourceLocation)
        #expect(diff.skippedA.count == skipped && !diff.isIdentical && diff.isIdenticalExceptSkipped, sourceLocation: sourceLocation)
        #expect(try sessionCount(skipTarget) == good, sourceLocation: sourceLocation)
    }
}
