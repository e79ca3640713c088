import DriverCore
import Foundation
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Counters count what happened, once, and printed addresses say what was written.
@Suite(.enabled(if: CLI.binary != nil && TestStores.serversAvailable)) struct CountsTests {
    /// `--ttl` replaces the target's own TTL: the address line must show the TTL the sessions got.
    @Test func theAddressLineShowsTheTTLGiven() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/src.db"
            try write(try sampleSessions(), to: .sqlite(SQLiteAddress(path: source, newFileLayout: .sqliteSessionService)))
            guard case .redis(var redis) = try TestStores.make(.redisCommunity, slot: 17, directory: directory) else { return }
            redis.ttlSeconds = 3600
            let run = try CLI.run(["copy", source, StoreAddress.redis(redis).description, "--ttl", "864000", "--include-expired"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("ttl=864000") && !run.stdout.contains("ttl=3600"), "\(run.stdout)")
        }
    }

    /// Two copies of the same sessions into one target at the same time: every session is counted as
    /// inserted by one of them only (fenced writes: the second sees the first's and has nothing to do).
    @Test func concurrentCopiesCountEachInsertOnce() throws {
        try withTemporaryDirectory { directory in
            let source = directory + "/src.db"
            var sessions: [Session] = []
            for index in 0..<300 {
                let event = try Event(data: [
                    "id": .string("e\(index)"), "invocation_id": .string("i\(index)"), "timestamp": .number(JSONNumber(1_800_000_000.5 + Double(index))),
                    "author": .string("user"),
                ])
                sessions.append(
                    Session(
                        key: SessionKey(appName: "a", userId: "u\(index % 7)", sessionId: "s\(index)"), events: [event],
                        lastUpdateTime: 1_800_000_000 + Double(index)))
            }
            try write(sessions, to: .sqlite(SQLiteAddress(path: source, newFileLayout: .sqliteSessionService)))
            guard case .mysql(let made) = try TestStores.make(.mysql, slot: 18, directory: directory) else { return }
            defer { TestStores.dropMySQL(slots: 18..<19) }
            let base = try #require(TestStores.environment["SESSMIGRATE_MYSQL_URL"])
            let slash = try #require(base.lastIndex(of: "/"))
            let target = String(base[..<slash]) + "/" + made.database
            let arguments = ["copy", source, target, "--batch-size", "5", "--format", "json"]
            let results = try [arguments, arguments].concurrentMap { try CLI.run($0) }
            var inserted = 0
            for result in results {
                #expect(result.status == 0, "\(result.stderr) \(result.stdout.prefix(1500))")
                let document = try JSONValue.parse(result.stdout)
                inserted += Int(document.objectValue?["total"]?.objectValue?["inserted"]?.doubleValue ?? -1)
            }
            #expect(inserted == sessions.count)
        }
    }
}

extension Array {
    /// Maps on one thread per element (for a handful of processes started together).
    func concurrentMap<T: Sendable>(_ transform: @Sendable @escaping (Element) throws -> T) throws -> [T] where Element: Sendable {
        let results = LockedResults<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { index in results.set(index, Result { try transform(self[index]) }) }
        return try results.values.map { try $0!.get() }
    }
}

/// Results written from several threads.
final class LockedResults<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<T, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<T, any Error>) { lock.withLock { values[index] = value } }
}

/// google-adk-community keys sessions by id alone: a session whose id another app's or user's session
/// already holds in the target cannot be written there, and is rejected by name (never retried forever,
/// never overwriting the other).
@Suite(.enabled(if: TestStores.serversAvailable)) struct CommunityIdCollisionTests {
    @Test func aSessionWhoseIdIsTakenIsRejectedByName() throws {
        try withTemporaryDirectory { directory in
            func session(_ app: String, _ user: String, _ id: String) throws -> Session {
                let event = try Event(data: [
                    "id": .string("e-\(app)-\(id)"), "invocation_id": .string("i"), "timestamp": .number(JSONNumber(1_800_000_000.5)),
                    "author": .string("user"),
                ])
                return Session(key: SessionKey(appName: app, userId: user, sessionId: id), events: [event], lastUpdateTime: 1_800_000_000.5)
            }
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            try write([try session("a", "u", "shared"), try session("a", "u", "own")], to: source)
            let target = try TestStores.make(.redisCommunity, slot: 19, directory: directory)
            try write([try session("other", "v", "shared")], to: target)
            var request = CopyRequest()
            request.ttl.includeExpired = true
            let error = try #require(throws: CopyError.self) { _ = try CopyJob(source: source, target: target, options: request).run() }
            #expect(error.underlying is SessionRejectedError && error.description.contains("holds the session other/v/shared"), "\(error)")
            request.skipBad = true
            let summary = try CopyJob(source: source, target: target, options: request).run()
            #expect(summary.skippedCount == 1 && summary.skipped.items.first?.key?.sessionId == "shared")
            let stored = try readAll(target)
            #expect(stored[SessionKey(appName: "other", userId: "v", sessionId: "shared")] != nil)
            #expect(stored[SessionKey(appName: "a", userId: "u", sessionId: "own")] != nil)
        }
    }
}

/// A session listed in `app::{app}:{user}` whose blob expired or was deleted is passed over and
/// counted, never an error that stops the run.
@Suite(.enabled(if: TestStores.serversAvailable)) struct VanishedSessionTests {
    @Test func aListedSessionWithoutBlobIsCountedNotFatal() throws {
        try withTemporaryDirectory { directory in
            let event = try Event(data: [
                "id": .string("e1"), "invocation_id": .string("i"), "timestamp": .number(JSONNumber(1_800_000_000.5)), "author": .string("user"),
            ])
            let source = try TestStores.make(.redisCommunity, slot: 20, directory: directory)
            try write([Session(key: SessionKey(appName: "a", userId: "u", sessionId: "kept"), events: [event], lastUpdateTime: 1_800_000_000.5)], to: source)
            guard case .redis(let redis) = source else { return }
            let admin = try RedisConnection.open(host: redis.host, port: redis.port, options: RedisConnectionOptions(database: redis.database))
            defer { admin.close() }
            _ = try admin.command(["SADD", "app::a:u", "expired-meanwhile"])
            var request = CopyRequest()
            request.scope.apps = ["a"]
            request.scope.users = ["u"]
            request.ttl.includeExpired = true
            let summary = try CopyJob(source: source, target: .sqlite(SQLiteAddress(path: directory + "/t.db", newFileLayout: .database)), options: request)
                .run()
            #expect(summary.total.read == 1 && summary.vanished == 1)
        }
    }
}
