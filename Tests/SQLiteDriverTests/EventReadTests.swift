import DriverCore
import SQLiteDriver
import SessionModel
import Testing

/// A page's events are read per session by key: each session gets exactly its own events in
/// `eventOrder`, also where a collation would match another spelling of the key, and whether the
/// events are carried as text or built as trees.
@Suite struct EventReadTests {
    static let ddl = SpecDDL.sqliteSessionService.replacingOccurrences(
        of: "session_id TEXT NOT NULL, invocation_id", with: "session_id TEXT NOT NULL COLLATE NOCASE, invocation_id")

    static func insertEvent(_ db: SQLiteConnection, id: String, session: String, time: Double) throws {
        let data = #"{"invocation_id":"i","author":"user","id":"\#(id)","timestamp":\#(time)}"#
        try db.prepare("INSERT INTO events VALUES (?, 'app', 'u', ?, 'i', ?, ?)").run([.text(id), .text(session), .float(time), .text(data)])
    }

    @Test(arguments: [nil, JSONStyle.compact, .python])
    func eachSessionGetsItsOwnEventsInOrder(style: JSONStyle?) throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute(Self.ddl)
                for session in ["S", "s", "t"] {
                    try db.execute("INSERT INTO sessions VALUES ('app', 'u', '\(session)', '{}', 1.0, 9.0)")
                }
                try Self.insertEvent(db, id: "e3", session: "S", time: 3)
                try Self.insertEvent(db, id: "e1", session: "S", time: 1)
                try Self.insertEvent(db, id: "f1", session: "s", time: 2)
                try Self.insertEvent(db, id: "g1", session: "t", time: 5)
                try Self.insertEvent(db, id: "g0", session: "t", time: 4)
            }
            for shards in [1, 2, 3] {
                var events: [String: [String]] = [:]
                for index in 0..<shards {
                    let scope = SessionScope(shard: shards > 1 ? try Shard(index: index, count: shards) : nil)
                    try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                        let cursor = try store.scanSessions(SessionQuery(scope: scope, batchSize: 2, eventStyle: style))
                        while let session = try cursor.next() {
                            #expect(session.events.allSatisfy { $0.isText == (style != nil) })
                            events[session.key.sessionId] = session.events.map(\.id)
                        }
                    }
                }
                #expect(events == ["S": ["e1", "e3"], "s": ["f1"], "t": ["g0", "g1"]], "\(shards) shards")
            }
        }
    }
}

/// A database-layout events row whose `timestamp` is not the text of a `DATETIME` is refused, naming
/// the row, whether the reader carries events as text or builds trees.
@Suite struct DatabaseTimestampTests {
    @Test(arguments: [nil, JSONStyle.compact, .python])
    func nonTextTimestampNamesTheRow(style: JSONStyle?) throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute(SpecDDL.databaseV1)
                try db.execute("INSERT INTO sessions VALUES ('a', 'u', 's', '{}', '2024-01-01 00:00:00.000000', '2024-01-02 00:00:00.000000')")
                try db.execute(
                    #"INSERT INTO events VALUES ('e1', 'a', 'u', 's', 'i', 1700000000.5, '{"id": "e1", "invocation_id": "i", "timestamp": 1700000000.5}')"#)
            }
            try withStore(SQLiteSessionStore.open(path: path, forWriting: false)) { store in
                let error = try #require(
                    thrownError {
                        let cursor = try store.scanSessions(SessionQuery(eventStyle: style))
                        while try cursor.next() != nil {}
                    } as? SessionDataError)
                #expect(error.location == "events row id='e1' of a/u/s")
                #expect(error.message == "timestamp is not text")
            }
        }
    }
}
