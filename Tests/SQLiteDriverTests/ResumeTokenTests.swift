import DriverCore
import Foundation
import SQLiteDriver
import SessMigrateTestSupport
import SessionModel
import Snapshot
import Testing

/// Resuming scans of every SQLite layout (SqliteSessionService, DatabaseSessionService v1 and v0,
/// snapshots) from `SessionCursor.resumeToken`, and the keyset token format.
@Suite struct ResumeTokenTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case sqliteSessionService, databaseV1, databaseV0, snapshot
        var description: String { rawValue }
    }

    /// 23 sessions over three apps with keys that sort in tricky ways (colons, quotes, non-ASCII,
    /// prefixes of one another), some with events.
    static func sessions() throws -> [Session] {
        let apps = ["app", "app:2 \"q\"", "é app 😀"]
        let users = ["u", "u:1", "u1"]
        let ids = ["s", "s ", "s:x/y", "S", "s😀", "ss", "s\\", "sé"]
        var sessions: [Session] = []
        for index in 0..<23 {
            let key = SessionKey(appName: apps[index % 3], userId: users[index / 3 % 3], sessionId: "\(ids[index % 8])-\(index)")
            let events = try (0..<index % 3).map { try makeEvent("e\(index)-\($0)", at: "\(1_700_000_000 + index * 10 + $0).5") }
            sessions.append(
                Session(
                    key: key, state: ["i": .number(JSONNumber(index))], events: events,
                    createTime: 1_700_000_000, lastUpdateTime: Double(1_700_000_000 + index * 10 + 5)))
        }
        return sessions
    }

    /// Runs `body` with a store of `kind` holding `sessions`.
    static func withFilledStore<R>(_ kind: Kind, _ sessions: [Session], _ body: (any SessionStore) throws -> R) throws -> R {
        try withTemporaryPath { path in
            switch kind {
            case .sqliteSessionService, .databaseV1:
                let layout: SQLiteSessionStore.NewFileLayout = kind == .databaseV1 ? .databaseV1 : .sqliteSessionService
                try withStore(SQLiteSessionStore.open(path: path, forWriting: true, newFileLayout: layout)) { try $0.writeSessions(sessions) }
                return try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { try body($0) }
            case .databaseV0:
                try SQLiteDatabaseV0Tests.makeFile(path, rows: false)
                return try withStore(SQLiteDatabaseV0Tests.open(path)) { store in
                    #expect(store.layout.name == "database-v0")
                    try store.writeSessions(sessions)
                    return try body(store)
                }
            case .snapshot:
                let writer = try SnapshotWriter(path: path, force: true, sourceKeepsExpiry: false)
                try writer.store.writeSessions(sessions)
                try writer.finish(toolVersion: "test", source: "test", sourceLayout: "test", createdAt: 0, seconds: 0)
                return try withStore(SnapshotStore(path: path)) { try body($0) }
            }
        }
    }

    @Test(arguments: Kind.allCases, [1, 4, 7])
    func resumedScanContinuesExactlyAfterTheToken(kind: Kind, batchSize: Int) throws {
        let sessions = try Self.sessions()
        try Self.withFilledStore(kind, sessions) { store in
            try ResumeCheck.expectResumes(store, batchSize: batchSize, stops: [0, 1, 3, 4, 5, 8, 13, 22, 23, 30], exact: true)
            try ResumeCheck.expectChainedResumes(store, batchSize: batchSize, every: [1, 2, 5], exact: true)
            let all = try ResumeCheck.scan(store, batchSize: batchSize)
            #expect(Set(all.keys) == Set(sessions.map(\.key)))
            // A resumed scan returns whole sessions, equal to those of a full scan.
            let (_, token) = try ResumeCheck.firstPart(store, batchSize: batchSize, count: 9)
            let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize, resumeAfter: token))
            #expect(cursor.resumeToken == token)
            var index = 9
            while let session = try cursor.next() {
                #expect(session == all.sessions[index])
                index += 1
            }
            #expect(index == sessions.count)
        }
    }

    @Test(arguments: Kind.allCases)
    func malformedTokensAreRefused(kind: Kind) throws {
        try Self.withFilledStore(kind, try Self.sessions()) { store in
            for token in ResumeCheck.malformedKeysetTokens {
                let error = #expect(throws: ResumeTokenError.self, "\(token)") {
                    _ = try store.scanSessions(SessionQuery(batchSize: 3, resumeAfter: token))
                }
                #expect(error?.code == .unsupported)
                #expect(error?.description.contains("cannot resume") == true)
            }
        }
    }

    @Test func keysetTokensArePrintableASCIIAndRoundTrip() throws {
        let keys = [
            SessionKey(appName: "", userId: "", sessionId: ""),
            SessionKey(appName: "a\"b\\c", userId: "u:1\n\t", sessionId: "😀 é \u{0}"),
            SessionKey(appName: String(repeating: "x", count: 128), userId: "y", sessionId: "z"),
        ]
        for key in keys {
            let token = ResumeToken.keyset(after: key)
            #expect(token.hasPrefix("k1:"))
            #expect(token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
            #expect(try ResumeToken.keysetKey(from: token, store: "sqlite") == key)
        }
    }

    @Test func emptyStoreTokensStayNilOrTheResumedOne() throws {
        try withTemporaryPath { path in
            try withStore(SQLiteSessionStore.open(path: path, forWriting: true)) { store in
                let fresh = try store.scanSessions(SessionQuery())
                #expect(try fresh.next() == nil)
                #expect(fresh.resumeToken == nil)
                let token = ResumeToken.keyset(after: SessionKey(appName: "a", userId: "u", sessionId: "s"))
                let resumed = try store.scanSessions(SessionQuery(resumeAfter: token))
                #expect(try resumed.next() == nil)
                #expect(resumed.resumeToken == token)
            }
        }
    }
}
