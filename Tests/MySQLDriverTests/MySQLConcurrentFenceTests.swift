import DriverCore
import Foundation
import SessionModel
import Testing

@testable import MySQLDriver

/// Fenced writes of several writers at once (docs/DESIGN.md "Fencing": isolation levels and the
/// insert-or-upsert rule): `--workers N` pipelines writing disjoint, interleaved keys never
/// deadlock, and a session created by someone else between our lock and our insert is refused,
/// never overwritten.
@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLConcurrentFenceTests {
    /// Two writers (two stores, two threads) create interleaved keys in an empty table, batch after
    /// batch, sharing app and user rows: no error (a deadlock would surface as errno 1213, the store
    /// does not retry), and every session is stored exactly once with all its events. Each writer
    /// waits up to 0.2 s for the other between locking its rows and writing them (what a loaded
    /// server does to two `--workers` now and then): under REPEATABLE READ their gap locks then
    /// blocked each other's inserts, a deadlock in the first batch.
    @Test func interleavedWritersDoNotDeadlock() throws {
        try MySQLTestServer.withDatabase("fence_workers") { config, connection throws in
            try MySQLTestServer.withStore(config) { _ in }  // creates the schema once
            let sessions = 3_000, batch = 100
            let failures = ErrorLog()
            let locked = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
            let threads = (0..<2).map { worker in
                Thread {
                    do {
                        try MySQLTestServer.withStore(config) { store throws in
                            store.afterSessionRowsLocked = {
                                locked[worker].signal()
                                _ = locked[1 - worker].wait(timeout: .now() + 0.2)
                            }
                            let mine = stride(from: worker, to: sessions, by: 2).map { $0 }
                            for start in stride(from: 0, to: mine.count, by: batch) {
                                let writes = try mine[start..<min(start + batch, mine.count)].map { number in
                                    FencedWrite(session: try Self.session(number), expected: nil)
                                }
                                let refused = try store.writeSessions(fenced: writes)
                                if !refused.isEmpty { failures.append("worker \(worker): refused \(refused.count)") }
                            }
                        }
                    } catch {
                        failures.append("worker \(worker): \(error)")
                    }
                }
            }
            try ErrorLog.run(threads)
            #expect(failures.entries.isEmpty, "\(failures.entries.prefix(3))")
            let counts = try connection.query(
                "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(DISTINCT app_name, user_id, id) FROM sessions),"
                    + " (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM user_states)", buffered: true
            ).collect()
            #expect(counts == [["\(sessions)", "\(sessions)", "\(sessions * 2)", "7"]])
        }
    }

    /// Session `number` of ``interleavedWritersDoNotDeadlock()``: keys interleave between the
    /// writers in primary-key order; seven users shared by both.
    static func session(_ number: Int) throws -> Session {
        let id = "s" + String(number + 100_000)
        return try Fixture.session(
            "work", "u\(number % 7)", id, app: #"{"last": \#(number)}"#, user: #"{"n\#(number)": 1}"#,
            events: [try Fixture.event("\(id)-1", at: 1_700_000_000), try Fixture.event("\(id)-2", at: 1_700_000_001)])
    }

    /// Nothing locks a key with no row under READ COMMITTED, so a session the bot creates after our
    /// lock and before our insert makes the insert fail on the duplicate key: the batch runs again,
    /// the fence refuses that session, the others are written, and the bot's row stays as it was.
    @Test func sessionCreatedAfterTheLockIsRefused() throws {
        try MySQLTestServer.withDatabase("fence_created") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let ours = try Fixture.session("fa", "u1", "s1", state: #"{"ours": 1}"#, events: [try Fixture.event("o1", at: 1_700_000_010)])
                let other = try Fixture.session("fa", "u1", "s2", events: [try Fixture.event("o2", at: 1_700_000_011)])
                var calls = 0
                store.afterSessionRowsLocked = {
                    calls += 1
                    guard calls == 1 else { return }
                    let bot = try MySQLTestServer.connect(config)
                    defer { bot.close() }
                    try bot.execute(
                        "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time)"
                            + " VALUES ('fa', 'u1', 's1', '{\"bot\": 1}', '2023-11-14 22:13:20', '2023-11-14 22:13:20')")
                }
                let refused = try store.writeSessions(fenced: [FencedWrite(session: ours, expected: nil), FencedWrite(session: other, expected: nil)])
                #expect(refused == [ours.key])
                #expect(calls == 2, "the batch ran once more after the duplicate key")
                let rows = try connection.query("SELECT id, state FROM sessions ORDER BY id", buffered: true).collect()
                #expect(rows == [["s1", #"{"bot": 1}"#], ["s2", "{}"]])
                #expect(try connection.query("SELECT id FROM events ORDER BY id", buffered: true).collect() == [["o2"]])
            }
        }
    }

    /// The bot's insert is still open when ours comes: ours waits for it, and once the bot commits,
    /// ours is refused (had the bot rolled back, ours would have been written).
    @Test func sessionBeingCreatedAfterTheLockIsRefused() throws {
        try MySQLTestServer.withDatabase("fence_creating") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let ours = try Fixture.session("fa", "u1", "s1", state: #"{"ours": 1}"#)
                let inserted = DispatchSemaphore(value: 0)
                let bot = Thread {
                    defer { inserted.signal() }
                    guard let other = try? MySQLTestServer.connect(config) else { return }
                    defer { other.close() }
                    _ = try? other.execute("START TRANSACTION")
                    _ = try? other.execute(
                        "INSERT INTO sessions (app_name, user_id, id, state, create_time, update_time)"
                            + " VALUES ('fa', 'u1', 's1', '{\"bot\": 1}', '2023-11-14 22:13:20', '2023-11-14 22:13:20')")
                    inserted.signal()
                    Thread.sleep(forTimeInterval: 0.5)
                    _ = try? other.execute("COMMIT")
                }
                var botStarted = false
                store.afterSessionRowsLocked = {
                    guard !botStarted else { return }
                    botStarted = true
                    bot.start()
                    inserted.wait()
                }
                let started = Date()
                #expect(try store.writeSessions(fenced: [FencedWrite(session: ours, expected: nil)]) == [ours.key])
                #expect(Date().timeIntervalSince(started) > 0.3, "the insert did not wait for the bot's")
                inserted.wait()
                let rows = try connection.query("SELECT id, state FROM sessions", buffered: true).collect()
                #expect(rows == [["s1", #"{"bot": 1}"#]])
            }
        }
    }

    /// An app or user state row someone else creates between our read and our INSERT makes the
    /// INSERT fail on the duplicate key: the state transaction runs again and merges into that
    /// row, whose keys stay (`dict.update`), instead of rejecting the session.
    @Test func stateRowCreatedAfterTheReadIsMergedInto() throws {
        try MySQLTestServer.withDatabase("fence_state_created") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                var reads: [String] = []
                store.afterStateRowsLocked = { table in
                    reads.append(table)
                    guard reads.count == 1 else { return }
                    let bot = try MySQLTestServer.connect(config)
                    defer { bot.close() }
                    try bot.execute("INSERT INTO app_states (app_name, state, update_time) VALUES ('fa', '{\"bot\": 1}', UTC_TIMESTAMP(6))")
                }
                let session = try Fixture.session("fa", "u1", "s1", app: #"{"ours": 2}"#, user: #"{"lang": "fr"}"#)
                #expect(try store.writeSessions(fenced: [FencedWrite(session: session, expected: nil)]).isEmpty)
                #expect(reads == ["app_states", "app_states", "user_states"])
                let stored = try #require(try store.fetchSessions([session.key])[session.key])
                #expect(stored.appState == (try Fixture.object(#"{"bot": 1, "ours": 2}"#)))
                #expect(stored.userState == (try Fixture.object(#"{"lang": "fr"}"#)))
                #expect(try connection.query("SELECT COUNT(*) FROM app_states", buffered: true).collect() == [["1"]])
            }
        }
    }

    /// A fenced insert whose key equals a stored one under the collation (case, trailing spaces,
    /// emoji) fails with the same constraint error as an upsert, naming the key; so does a batch
    /// holding two such keys (the second is named), and nothing of the batch is written.
    @Test func fencedCollationTwinsAreRefusedNotMerged() throws {
        try MySQLTestServer.withDatabase("fence_twins", collation: "utf8mb4_unicode_ci") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions([try Fixture.session("a", "u", "s😀", state: #"{"n": 1}"#)])
                for twin in ["s🎉", "S😀", "s😀 "] {
                    let session = try Fixture.session("a", "u", twin, state: #"{"n": 2}"#)
                    let error = try #require(throws: MySQLError.self) {
                        try store.writeSessions(fenced: [FencedWrite(session: session, expected: nil)])
                    }
                    #expect(error.code == .constraint)
                    #expect(error.message.hasPrefix("session \(session.key) equals another session's key under the database collation"))
                }
                let pair = try ["x", "X"].map { FencedWrite(session: try Fixture.session("a", "u", $0), expected: nil) }
                let error = try #require(throws: MySQLError.self) { try store.writeSessions(fenced: pair) }
                #expect(error.message.hasPrefix("session \(pair[1].session.key) equals another session's key"))
                #expect(try connection.query("SELECT id, state FROM sessions").collect() == [["s😀", #"{"n": 1}"#]])
            }
        }
    }
}

/// Errors collected from several threads, and a way to run threads to their end.
final class ErrorLog: @unchecked Sendable {
    // @unchecked: `list` is only touched under `lock`.
    private let lock = NSLock()
    private var list: [String] = []

    var entries: [String] { lock.withLock { list } }

    func append(_ entry: String) { lock.withLock { list.append(entry) } }

    /// Starts `threads` and waits until every one has finished (at most 120 s).
    static func run(_ threads: [Thread]) throws {
        for thread in threads { thread.start() }
        let deadline = Date().addingTimeInterval(120)
        while threads.contains(where: { !$0.isFinished }), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let finished = threads.allSatisfy { $0.isFinished }
        try #require(finished, "a writer thread did not finish in 120 s")
    }
}
