import DriverCore
import Foundation
import SQLiteDriver
import SessMigrateTestSupport
import SessionModel
import Testing

/// Fenced writes and consistent reads in SQLite files (docs/DESIGN.md "Fencing"): both layouts and
/// schema v0, and the race against the real ADK's SqliteSessionService and DatabaseSessionService.
@Suite struct SQLiteFenceTests {
    static let first = SessionKey(appName: "fa", userId: "u1", sessionId: "s1")
    static let second = SessionKey(appName: "fb", userId: "u2", sessionId: "s2")

    static func sessions() throws -> [Session] {
        [
            Session(
                key: first, state: object(#"{"k": 1}"#), appState: object(#"{"theme": "dark"}"#), userState: object(#"{"lang": "fr"}"#),
                events: [try makeEvent("a1", at: "1700000000.25"), try makeEvent("a2", at: "1700000001.5")],
                createTime: 1_700_000_000, lastUpdateTime: 1_700_000_001.5),
            Session(key: second, events: [try makeEvent("b1", at: "1700000002.75")], createTime: 1_700_000_000, lastUpdateTime: 1_700_000_002.75),
        ]
    }

    /// `session` with one event more (its last update) and an app and a user key to set.
    static func adding(_ id: String, at time: Double, to session: Session) throws -> Session {
        var copy = session
        copy.events.append(try makeEvent(id, at: JSONNumber(time).literal))
        copy.lastUpdateTime = time
        copy.appState = ["fenced": .string(id)]
        copy.userState = ["fenced": .string(id)]
        return copy
    }

    @Test(arguments: [
        (SQLiteSessionStore.NewFileLayout.sqliteSessionService, "1700000001.5"),
        (.databaseV1, "2023-11-14 22:13:21.500000"),
    ])
    func staleWriteIsRefusedAndWritesNothing(layout: SQLiteSessionStore.NewFileLayout, version: String) throws {
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                try store.writeSessions(try Self.sessions())
                let read = try store.fetchVersionedSessions([Self.first, Self.second])
                let old = try #require(read[Self.first])
                #expect(old.version.token == version)
                #expect(old.session == (try store.fetchSessions([Self.first]))[Self.first])
                try store.writeSessions([try Self.adding("bot", at: 1_700_000_010, to: old.session)])
                let before = try dump(path)

                let stale = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: old.session), expected: old.version)
                #expect(try store.writeSessions(fenced: [stale]) == [Self.first])
                #expect(try dump(path) == before, "a refused write changed the file")

                let current = try #require(read[Self.second])
                let fresh = FencedWrite(session: try Self.adding("b2", at: 1_700_000_030, to: current.session), expected: current.version)
                #expect(try store.writeSessions(fenced: [stale, fresh]) == [Self.first])
                let after = try store.fetchSessions([Self.first, Self.second])
                #expect(after[Self.first]?.events.map(\.id) == ["a1", "a2", "bot"])
                #expect(after[Self.second]?.events.map(\.id) == ["b1", "b2"])
                #expect(after[Self.second]?.userState["fenced"] == .string("b2"))

                let now = try #require(try store.fetchVersionedSessions([Self.first])[Self.first])
                let replanned = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: now.session), expected: now.version)
                #expect(try store.writeSessions(fenced: [replanned]).isEmpty)
                #expect(try store.fetchSessions([Self.first])[Self.first]?.events.map(\.id) == ["a1", "a2", "bot", "ours"])
            }
        }
    }

    @Test(arguments: [SQLiteSessionStore.NewFileLayout.sqliteSessionService, .databaseV1])
    func expectingNoSessionCreatesOnlyMissingOnes(layout: SQLiteSessionStore.NewFileLayout) throws {
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { store in
                let sessions = try Self.sessions()
                try store.writeSessions([sessions[0]])
                let before = try dump(path)
                let existing = FencedWrite(session: try Self.adding("x", at: 1_700_000_040, to: sessions[0]), expected: nil)
                #expect(try store.writeSessions(fenced: [existing]) == [Self.first])
                #expect(try dump(path) == before)
                #expect(try store.writeSessions(fenced: [existing, FencedWrite(session: sessions[1], expected: nil)]) == [Self.first])
                #expect(try store.fetchSessions([Self.second])[Self.second]?.events.map(\.id) == ["b1"])
                let version = try #require(try store.fetchVersionedSessions([Self.second])[Self.second]).version
                try store.deleteSessions([Self.second])
                #expect(try store.writeSessions(fenced: [FencedWrite(session: sessions[1], expected: version)]) == [Self.second])
                #expect(try store.fetchSessions([Self.second]).isEmpty)
            }
        }
    }

    @Test func schemaV0WritesAreFencedToo() throws {
        try withTemporaryPath { path in
            try SQLiteDatabaseV0Tests.makeFile(path)
            try withStore(SQLiteDatabaseV0Tests.open(path)) { store in
                let key = SessionKey(appName: "v0app", userId: "u1", sessionId: "s1")
                let read = try #require(try store.fetchVersionedSessions([key])[key])
                var bot = read.session
                bot.events.append(try makeEvent("bot", at: "1700000010"))
                bot.lastUpdateTime = 1_700_000_010
                try store.writeSessions([bot])
                let before = try dump(path)
                let stale = FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: read.session), expected: read.version)
                #expect(try store.writeSessions(fenced: [stale]) == [key])
                #expect(try dump(path) == before)
                let now = try #require(try store.fetchVersionedSessions([key])[key])
                #expect(now.version != read.version)
                #expect(
                    try store.writeSessions(fenced: [FencedWrite(session: try Self.adding("ours", at: 1_700_000_020, to: now.session), expected: now.version)])
                        .isEmpty)
                #expect(try store.fetchSessions([key])[key]?.events.suffix(2).map(\.id) == ["bot", "ours"])
            }
        }
    }

    /// Another connection appends to two sessions as fast as it can (each append one transaction
    /// that adds the event and moves `update_time`, as ADK's does) while pages of them are read:
    /// a page is read in one read transaction, so no session is read with an `update_time` older
    /// than its newest event.
    @Test(arguments: [SQLiteSessionStore.NewFileLayout.sqliteSessionService, .databaseV1])
    func pagesAreReadAsOfOneMoment(layout: SQLiteSessionStore.NewFileLayout) throws {
        try withTemporaryPath { path in
            let sessions = try ["p1", "p2"].map {
                Session(
                    key: SessionKey(appName: "snap", userId: "u", sessionId: $0), events: [try makeEvent("\($0)-0", at: "1700000000")],
                    lastUpdateTime: 1_700_000_000)
            }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { try $0.writeSessions(sessions) }
            let writer = SQLiteAppender(path: path, sessions: sessions, limit: 300)
            writer.start()
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                var violations: [String] = []
                var pages = 0
                while !writer.isFinished {
                    for session in try scanAll(store) {
                        if let newest = session.events.map(\.timestamp).max(), session.lastUpdateTime + 0.000001 < newest {
                            violations.append("\(session.key.sessionId): update_time \(session.lastUpdateTime) < event \(newest)")
                        }
                    }
                    pages += 1
                }
                #expect(violations.isEmpty, "\(violations.count) of \(pages) scans read rows and events at different moments: \(violations.prefix(3))")
            }
            #expect(writer.failure == nil)
            #expect(writer.appended == 300)
        }
    }

    /// The real ADK appends in a loop while fenced writes go into the same sessions (see
    /// ``FenceRace``): nothing ADK appended is lost, ADK meets only its stale-session error, and
    /// reads see each session as of one moment.
    @Test(.enabled(if: FenceRace.python(for: .sqliteSessionService) != nil), arguments: [FenceRace.Kind.sqliteSessionService, .sqliteDatabase])
    func raceWithTheRealADK(kind: FenceRace.Kind) throws {
        try withTemporaryPath("race.db") { path in
            let url = kind == .sqliteDatabase ? "sqlite+aiosqlite:///" + path : path
            var race = FenceRace(kind: kind, adkURL: url)
            race.seconds = 6
            let figures = try race.run { try SQLiteSessionStore.open(path: path, forWriting: true) }
            print("fence race (\(kind.rawValue)): \(figures)")
            #expect(figures.botEvents > 0)
            #expect(figures.written > 0)
        }
    }
}

/// Appends `limit` events on its own thread and connection (a store of its own), alternating
/// between `sessions`; each append is one transaction that adds the event and moves `update_time`.
final class SQLiteAppender: @unchecked Sendable {
    // @unchecked: the counters are only touched under `lock`.
    private let lock = NSLock()
    private let path: String
    private let sessions: [Session]
    private let limit: Int
    private var count = 0
    private var done = false
    private var error: String?

    init(path: String, sessions: [Session], limit: Int) {
        self.path = path
        self.sessions = sessions
        self.limit = limit
    }

    var appended: Int { lock.withLock { count } }
    var isFinished: Bool { lock.withLock { done } }
    var failure: String? { lock.withLock { error } }

    func start() {
        Thread { [self] in
            do {
                let store = try SQLiteSessionStore.open(path: path, forWriting: true)
                defer { try? store.close() }
                var current = sessions
                for number in 1...limit {
                    let index = number % current.count
                    let time = 1_700_000_000 + Double(number) / 1000
                    current[index].events.append(try makeEvent("\(current[index].key.sessionId)-\(number)", at: JSONNumber(time).literal))
                    current[index].lastUpdateTime = time
                    try store.writeSessions([current[index]])
                    lock.withLock { count += 1 }
                }
            } catch {
                lock.withLock { self.error = "\(error)" }
            }
            lock.withLock { done = true }
        }.start()
    }
}
