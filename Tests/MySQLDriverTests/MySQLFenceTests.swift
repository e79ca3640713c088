import DriverCore
import Foundation
import SessMigrateTestSupport
import SessionModel
import Testing

@testable import MySQLDriver

/// Fenced writes and consistent reads in MySQL (docs/DESIGN.md "Fencing"), schema v1 and v0, and
/// the race against the real ADK's DatabaseSessionService.
@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLFenceTests {
    static let first = SessionKey(appName: "fa", userId: "u1", sessionId: "s1")
    static let second = SessionKey(appName: "fb", userId: "u2", sessionId: "s2")

    static func sessions() throws -> [Session] {
        [
            try Fixture.session(
                "fa", "u1", "s1", state: #"{"k": 1}"#, app: #"{"theme": "dark"}"#, user: #"{"lang": "fr"}"#,
                events: [try Fixture.event("a1", at: 1_700_000_000.25), try Fixture.event("a2", at: 1_700_000_001.5)]),
            try Fixture.session("fb", "u2", "s2", events: [try Fixture.event("b1", at: 1_700_000_002.75)]),
        ]
    }

    /// `session` with one event more (its last update) and an app and a user key to set.
    static func adding(_ id: String, at time: Double, to session: Session) throws -> Session {
        var copy = session
        copy.events.append(try Fixture.event(id, at: time))
        copy.lastUpdateTime = time
        copy.appState = ["fenced": .string(id)]
        copy.userState = ["fenced": .string(id)]
        return copy
    }

    @Test func versionIsTheStoredUpdateTimeText() throws {
        try MySQLTestServer.withDatabase("fence_version") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(try Self.sessions())
                let versions = try store.fetchVersionedSessions([Self.first, Self.second, SessionKey(appName: "fa", userId: "u1", sessionId: "none")])
                #expect(Set(versions.keys) == [Self.first, Self.second])
                let stored = try connection.query("SELECT update_time FROM sessions WHERE id = 's1'", buffered: true).collect()
                #expect(versions[Self.first]?.version.token == stored.first?.first ?? nil)
                #expect(versions[Self.first]?.version.token == "2023-11-14 22:13:21.500000")
                #expect(versions[Self.first]?.session == (try store.fetchSessions([Self.first]))[Self.first])
            }
        }
    }

    @Test func staleWriteIsRefusedAndWritesNothing() throws {
        try MySQLTestServer.withDatabase("fence_stale") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(try Self.sessions())
                let read = try store.fetchVersionedSessions([Self.first, Self.second])
                let old = try #require(read[Self.first])
                // The bot appends meanwhile (update_time moves on).
                try store.writeSessions([try Self.adding("bot", at: 1_700_000_010, to: old.session)])
                let before = try MySQLTestServer.dump(connection)

                let stale = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: old.session), expected: old.version)
                #expect(try store.writeSessions(fenced: [stale]) == [Self.first])
                #expect(try MySQLTestServer.dump(connection) == before, "a refused write changed a row")

                // A refused write does not stop the others of its batch.
                let current = try #require(read[Self.second])
                let fresh = FencedWrite(session: try Self.adding("b2", at: 1_700_000_030, to: current.session), expected: current.version)
                #expect(try store.writeSessions(fenced: [stale, fresh]) == [Self.first])
                let after = try store.fetchSessions([Self.first, Self.second])
                #expect(after[Self.first]?.events.map(\.id) == ["a1", "a2", "bot"])
                #expect(after[Self.second]?.events.map(\.id) == ["b1", "b2"])
                #expect(after[Self.second]?.userState["fenced"] == .string("b2"))

                // Planned again against the current version, it is written.
                let now = try #require(try store.fetchVersionedSessions([Self.first])[Self.first])
                let replanned = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: now.session), expected: now.version)
                #expect(try store.writeSessions(fenced: [replanned]).isEmpty)
                #expect(try store.fetchSessions([Self.first])[Self.first]?.events.map(\.id) == ["a1", "a2", "bot", "ours"])
            }
        }
    }

    @Test func expectingNoSessionCreatesOnlyMissingOnes() throws {
        try MySQLTestServer.withDatabase("fence_nil") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let sessions = try Self.sessions()
                try store.writeSessions([sessions[0]])
                let before = try MySQLTestServer.dump(connection)
                let existing = FencedWrite(session: try Self.adding("x", at: 1_700_000_040, to: sessions[0]), expected: nil)
                #expect(try store.writeSessions(fenced: [existing]) == [Self.first])
                #expect(try MySQLTestServer.dump(connection) == before)
                #expect(try store.writeSessions(fenced: [existing, FencedWrite(session: sessions[1], expected: nil)]) == [Self.first])
                #expect(try store.fetchSessions([Self.second])[Self.second] == (try store.readBack(sessions[1])))
                // A version against a session that is gone is refused too.
                let version = try #require(try store.fetchVersionedSessions([Self.second])[Self.second]).version
                try store.deleteSessions([Self.second])
                #expect(try store.writeSessions(fenced: [FencedWrite(session: sessions[1], expected: version)]) == [Self.second])
                #expect(try store.fetchSessions([Self.second]).isEmpty)
            }
        }
    }

    @Test func unchangedRowsAreNotTouched() throws {
        try MySQLTestServer.withDatabase("fence_same") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(try Self.sessions())
                let before = try MySQLTestServer.dump(connection)
                let read = try store.fetchVersionedSessions([Self.first, Self.second])
                let writes = read.values.map { FencedWrite(session: $0.session, expected: $0.version) }
                #expect(try store.writeSessions(fenced: writes).isEmpty)
                #expect(try MySQLTestServer.dump(connection) == before)
            }
        }
    }

    /// The check that counts is the one made after the row is locked: a transaction that holds the
    /// row (as ADK's `append_event` does) and commits a new version while the write waits for the
    /// lock makes the write refused, though the version it read before waiting was the expected one.
    @Test func changeCommittedWhileWaitingForTheLockIsRefused() throws {
        try MySQLTestServer.withDatabase("fence_lock") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                try store.writeSessions(try Self.sessions())
                let read = try #require(try store.fetchVersionedSessions([Self.first])[Self.first])
                let locked = DispatchSemaphore(value: 0)
                let botEvent = try Fixture.event("bot", at: 1_700_000_040)
                let insert =
                    "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data)"
                    + " VALUES ('bot', 'fa', 'u1', 's1', 'inv-bot', '2023-11-14 22:14:00.000000', '"
                    + (try connection.escape(DatabaseV1Codec.eventDataText(botEvent))) + "')"
                let bot = Thread {
                    guard let other = try? MySQLTestServer.connect(config) else {
                        locked.signal()
                        return
                    }
                    defer { other.close() }
                    _ = try? other.execute("START TRANSACTION")
                    _ = try? other.query("SELECT * FROM sessions WHERE id = 's1' FOR UPDATE", buffered: true).collect()
                    _ = try? other.execute("UPDATE sessions SET update_time = '2023-11-14 22:14:00.000000' WHERE id = 's1'")
                    _ = try? other.execute(insert)
                    locked.signal()
                    Thread.sleep(forTimeInterval: 0.6)
                    _ = try? other.execute("COMMIT")
                }
                bot.start()
                locked.wait()
                let started = Date()
                let write = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: read.session), expected: read.version)
                #expect(try store.writeSessions(fenced: [write]) == [Self.first])
                #expect(Date().timeIntervalSince(started) > 0.3, "refused before waiting: the lock was not taken")
                let stored = try #require(try store.fetchSessions([Self.first])[Self.first])
                #expect(stored.events.map(\.id) == ["a1", "a2", "bot"])
            }
        }
    }

    @Test func schemaV0WritesAreFencedToo() throws {
        try MySQLDatabaseV0Tests.withV0Database("fence") { config, connection throws in
            try MySQLTestServer.withStore(config) { store throws in
                let key = SessionKey(appName: "v0app", userId: "u1", sessionId: "s1")
                let read = try #require(try store.fetchVersionedSessions([key])[key])
                #expect(read.version.token == "2023-11-14 22:13:24.000001")
                var bot = read.session
                bot.events.append(try Fixture.event("bot", at: 1_700_000_010))
                bot.lastUpdateTime = 1_700_000_010
                try store.writeSessions([bot])
                let before = try MySQLDatabaseV0Tests.dump(connection)
                let stale = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: read.session), expected: read.version)
                #expect(try store.writeSessions(fenced: [stale]) == [key])
                #expect(try MySQLDatabaseV0Tests.dump(connection) == before)
                let now = try #require(try store.fetchVersionedSessions([key])[key])
                #expect(
                    try store.writeSessions(fenced: [FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: now.session), expected: now.version)])
                        .isEmpty)
                #expect(try store.fetchSessions([key])[key]?.events.suffix(2).map(\.id) == ["bot", "ours"])
            }
        }
    }

    /// A writer appends to two sessions as fast as it can, as ADK does (lock the row, insert the
    /// event, set `update_time`, commit), while pages of those sessions are read: a page reads its
    /// rows and their events in one snapshot, so no session is read with an `update_time` older
    /// than its newest event.
    @Test func pagesAreReadAsOfOneMoment() throws {
        try MySQLTestServer.withDatabase("fence_snapshot") { config, _ throws in
            try MySQLTestServer.withStore(config) { store throws in
                let ids = ["p1", "p2"]
                try store.writeSessions(try ids.map { try Fixture.session("snap", "u", $0, events: [try Fixture.event("\($0)-0", at: 1_700_000_000)]) })
                let writer = ConcurrentWriter(config: config, ids: ids, limit: 600)
                writer.start()
                var violations: [String] = []
                var pages = 0
                while !writer.isFinished {
                    let cursor = try store.scanSessions(SessionQuery(scope: SessionScope(apps: ["snap"]), batchSize: 2))
                    while let session = try cursor.next() {
                        if let newest = session.events.map(\.timestamp).max(), session.lastUpdateTime + 0.000001 < newest {
                            violations.append("\(session.key.sessionId): update_time \(session.lastUpdateTime) < event \(newest)")
                        }
                    }
                    pages += 1
                }
                #expect(violations.isEmpty, "\(violations.count) of \(pages) pages read rows and events at different moments: \(violations.prefix(3))")
                #expect(writer.failure == nil)
                #expect(writer.appended == 600)
            }
        }
    }

    /// The real ADK (DatabaseSessionService on MariaDB) appends in a loop while fenced writes go
    /// into the same sessions: nothing ADK appended is lost, ADK meets only its own stale-session
    /// error, and reads never see a row and its events from different moments.
    @Test(.enabled(if: FenceRace.python(for: .mysql) != nil))
    func raceWithTheRealADK() throws {
        try MySQLTestServer.withDatabase("fence_race") { config, _ throws in
            let password = config.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let race = FenceRace(
                kind: .mysql,
                adkURL: "mysql+aiomysql://\(config.user):\(password)@\(config.host):\(config.port)/\(config.database)?charset=utf8mb4")
            let figures = try race.run { try MySQLSessionStore.open(config, forWriting: true) }
            print("fence race (mysql, DatabaseSessionService): \(figures)")
            #expect(figures.botEvents > 0)
            #expect(figures.written > 0)
        }
    }
}

/// Appends `limit` events on its own thread and connection, each as ADK's `append_event` does in
/// one transaction: lock the session row, insert the event, set `update_time` to its timestamp.
final class ConcurrentWriter: @unchecked Sendable {
    // @unchecked: the counters are only touched under `lock`.
    private let lock = NSLock()
    private let config: MySQLStoreConfig
    private let ids: [String]
    private let limit: Int
    private var count = 0
    private var done = false
    private var error: String?

    init(config: MySQLStoreConfig, ids: [String], limit: Int) {
        self.config = config
        self.ids = ids
        self.limit = limit
    }

    var appended: Int { lock.withLock { count } }
    var isFinished: Bool { lock.withLock { done } }
    var failure: String? { lock.withLock { error } }

    func start() {
        Thread { [self] in
            do {
                let connection = try MySQLTestServer.connect(config)
                defer { connection.close() }
                for number in 1...limit {
                    let id = ids[number % ids.count]
                    let time = 1_700_000_000 + Double(number) / 1000
                    let data = try connection.escape(DatabaseV1Codec.eventDataText(try Fixture.event("\(id)-\(number)", at: time)))
                    let stamp = DatabaseV1Codec.datetimeText(time)
                    try connection.execute("START TRANSACTION")
                    _ = try connection.query("SELECT id FROM sessions WHERE id = '\(id)' FOR UPDATE", buffered: true).collect()
                    try connection.execute(
                        "INSERT INTO events (id, app_name, user_id, session_id, invocation_id, timestamp, event_data)"
                            + " VALUES ('\(id)-\(number)', 'snap', 'u', '\(id)', 'inv', '\(stamp)', '\(data)')")
                    try connection.execute("UPDATE sessions SET update_time = '\(stamp)' WHERE id = '\(id)'")
                    try connection.execute("COMMIT")
                    lock.withLock { count += 1 }
                }
            } catch {
                lock.withLock { self.error = "\(error)" }
            }
            lock.withLock { done = true }
        }.start()
    }
}
