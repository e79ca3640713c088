import DriverCore
import Foundation
import SQLiteDriver
import Testing

@Suite struct SQLiteConnectionTests {
    @Test func bindsAndReadsEveryStorageClass() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE t (a, b, c, d, e, f, g)")
                let insert = try db.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)")
                try insert.bind("héllo 😀\u{0}tail", at: 1)
                try insert.bind(Int64.max, at: 2)
                try insert.bind(1.0, at: 3)
                try insert.bind([0, 255, 1], at: 4)
                try insert.bindNull(at: 5)
                try insert.bind("", at: 6)
                try insert.bind([UInt8](), at: 7)
                #expect(try insert.step() == false)
                #expect(db.changes == 1)

                let select = try db.prepare("SELECT a, b, c, d, e, f, g, typeof(f), typeof(g) FROM t")
                #expect(try select.step())
                #expect(select.text(at: 0) == "héllo 😀\u{0}tail")
                #expect(select.int64(at: 1) == Int64.max)
                #expect(select.type(at: 2) == .float)
                #expect(select.double(at: 2) == 1.0)
                #expect(select.blob(at: 3) == [0, 255, 1])
                #expect(select.isNull(at: 4))
                #expect(select.value(at: 5) == .text(""))
                #expect(select.value(at: 6) == .blob([]))
                #expect(select.text(at: 7) == "text")
                #expect(select.text(at: 8) == "blob")
                #expect(try select.step() == false)
            }
        }
    }

    @Test func resetClearsBindingsAndReruns() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                let statement = try db.prepare("SELECT ?1 + 1")
                try statement.bind(Int64(41), at: 1)
                #expect(try statement.step())
                #expect(statement.int64(at: 0) == 42)
                try statement.reset()
                #expect(try statement.step())
                #expect(statement.isNull(at: 0))
            }
        }
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE t (x)")
                // A do/catch, not #expect(throws:): Swift 6.3 miscompiles a closure nested in
                // #expect's closure inside another closure (the wrong closure body runs).
                var caught = false
                do {
                    try db.withTransaction {
                        try db.execute("INSERT INTO t VALUES (1)")
                        throw Boom()
                    }
                } catch is Boom {
                    caught = true
                }
                #expect(caught)
                try db.withTransaction { try db.execute("INSERT INTO t VALUES (2)") }
                let count = try db.prepare("SELECT group_concat(x) FROM t")
                try count.step()
                #expect(count.text(at: 0) == "2")
            }
        }
    }

    @Test func listsTablesColumnsAndIntegrity() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE b (x REAL, \"key\" VARCHAR(128)); CREATE TABLE a (y DATETIME)")
                #expect(try db.tableNames() == ["a", "b"])
                let columns = try db.columns(of: "b")
                #expect(columns.map(\.name) == ["x", "key"])
                #expect(columns.map(\.declaredType) == ["REAL", "VARCHAR(128)"])
                #expect(try db.columns(of: "missing").isEmpty)
                #expect(try db.integrityCheck().isEmpty)
                let pragma = try db.prepare("PRAGMA foreign_keys")
                try pragma.step()
                #expect(pragma.int64(at: 0) == 1)
            }
        }
    }

    /// A file a `.create` opening makes has 16 KiB pages; an existing database keeps its own.
    @Test func newFilesGetLargerPages() throws {
        func pageSize(_ db: SQLiteConnection) throws -> Int64 {
            let pragma = try db.prepare("PRAGMA page_size")
            try pragma.step()
            return pragma.int64(at: 0)
        }
        try withTemporaryPath { path in
            try withConnection(path) { db in try db.execute("CREATE TABLE t (x)") }
            let created = try withConnection(path, mode: .readOnly, pageSize)
            #expect(created == Int64(SQLiteConnection.newFilePageSize))
        }
        try withTemporaryPath { path in
            try withConnection(path) { db in try db.execute("PRAGMA page_size=4096; VACUUM; CREATE TABLE t (x)") }
            let reopened = try withConnection(path) { db in
                try db.execute("CREATE TABLE u (y)")
                return try pageSize(db)
            }
            #expect(reopened == 4096)
            #expect(try withConnection(path, mode: .readOnly, pageSize) == 4096)
        }
    }

    @Test func missingFileIsNotFoundAndNotCreated() throws {
        try withTemporaryPath { path in
            for mode in [SQLiteConnection.Mode.readOnly, .readWrite] {
                let error = #expect(throws: SQLiteError.self) { try SQLiteConnection.open(path: path, mode: mode) }
                #expect(error?.code == .notFound)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func fileThatIsNotADatabaseIsCorrupt() throws {
        try withTemporaryPath { path in
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: SQLiteError.self) { try SQLiteConnection.open(path: path, mode: .readOnly) }
            #expect(error?.code == .corrupt)
            #expect(error?.extendedResultCode == 26)
        }
    }

    @Test func constraintViolationsNameTheStatementNotTheValues() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE events (id TEXT PRIMARY KEY)")
                let insert = try db.prepare("INSERT INTO events (id) VALUES (?)")
                try insert.run([.text("secret-payload")])
                let error = #expect(throws: SQLiteError.self) { try insert.run([.text("secret-payload")]) }
                #expect(error?.code == .constraint)
                #expect(error?.extendedResultCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
                #expect(error?.statement == "INSERT events")
                #expect(error?.description.contains("secret-payload") == false)
            }
        }
    }

    @Test func syntaxErrorsAreQueryErrors() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                let error = #expect(throws: SQLiteError.self) { try db.prepare("SELEC 1") }
                #expect(error?.code == .query)
                #expect(throws: SQLiteError.self) { try db.execute("CREATE TABLE IF NOT EXISTS x (") }
            }
        }
    }

    @Test(arguments: [
        ("SELECT a, b FROM sessions WHERE x = ?", "SELECT sessions"),
        ("CREATE TABLE IF NOT EXISTS app_states (a)", "CREATE app_states"),
        ("UPDATE events SET a = ?", "UPDATE events"),
        ("DELETE FROM events WHERE 1", "DELETE events"),
        ("PRAGMA integrity_check", "PRAGMA integrity_check"),
        ("BEGIN IMMEDIATE", "BEGIN"),
    ])
    func statementKinds(sql: String, kind: String) {
        #expect(SQLiteError(code: .query, message: "m", statement: sql).statement == kind)
    }

    /// A writer waits for another connection's write lock (polling: see `busyRetry`) instead of
    /// failing at once; the holder here commits a moment later, from another thread.
    @Test func busyDatabaseWaitsForTheLock() throws {
        try withTemporaryPath { path in
            try withConnection(path) { try $0.execute("CREATE TABLE t (x)") }
            let holder = HeldConnection(connection: try SQLiteConnection.open(path: path, mode: .readWrite))
            try holder.connection.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            let released = DispatchSemaphore(value: 0)
            Thread {
                Thread.sleep(forTimeInterval: 0.2)
                try? holder.connection.execute("COMMIT")
                try? holder.connection.close()
                released.signal()
            }.start()
            defer { released.wait() }
            try withConnection(path) { other in
                try other.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT")
                let count = try other.prepare("SELECT count(*) FROM t")
                #expect(try count.step() && count.value(at: 0) == .integer(2))
            }
        }
    }

    @Test func busyDatabaseTimesOut() throws {
        try withTemporaryPath { path in
            try withConnection(path) { holder in
                try holder.execute("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
                try withConnection(path) { other in
                    try other.execute("PRAGMA busy_timeout = 10")
                    let error = #expect(throws: SQLiteError.self) { try other.execute("BEGIN IMMEDIATE") }
                    #expect(error?.code == .timeout)
                }
                try holder.execute("COMMIT")
            }
        }
    }
}

/// A connection handed to the thread that ends its transaction; the test does not touch it meanwhile.
private struct HeldConnection: @unchecked Sendable {
    let connection: SQLiteConnection
}
