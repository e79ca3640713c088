import DriverCore
import Foundation
import SQLiteDriver
import Testing

/// Group commits on a real file, watched through a second connection (what a crash would leave).
@Suite struct WriteGroupTests {
    private func count(_ path: String) throws -> Int64 {
        try withConnection(path, mode: .readOnly) { other in
            let statement = try other.prepare("SELECT count(*) FROM t")
            _ = try statement.step()
            return statement.int64(at: 0)
        }
    }

    /// A connection to a new file with table `t`, group commits begun and row 1 written in a group.
    private func withGroupHoldingOneRow(_ body: (SQLiteConnection, String) throws -> Void) throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE t (x)")
                db.beginGroups(seconds: 3600)
                try db.withTransaction { try db.execute("INSERT INTO t VALUES (1)") }
                try body(db, path)
            }
        }
    }

    @Test func writesOfAGroupAreDurableOnlyOnceItCommits() throws {
        try withGroupHoldingOneRow { db, path in
            let group = try #require(db.openGroup)
            try db.withTransaction { try db.execute("INSERT INTO t VALUES (2)") }
            #expect(db.openGroup == group)
            #expect(db.state(ofGroup: group) == .pending)
            #expect(try count(path) == 0)
            // A read transaction inside the group sees the group's writes.
            let inside = try db.withReadTransaction { () throws -> Int64 in
                let statement = try db.prepare("SELECT count(*) FROM t")
                _ = try statement.step()
                return statement.int64(at: 0)
            }
            #expect(inside == 2)
            try db.commitGroup()
            #expect(db.openGroup == nil)
            #expect(db.state(ofGroup: group) == .committed)
            #expect(try count(path) == 2)
            #expect(db.groupLosses == 0)
        }
    }

    @Test func aFailedCallUndoesOnlyItsOwnWrites() throws {
        struct Boom: Error {}
        try withGroupHoldingOneRow { db, _ in
            var caught = false
            do {
                try db.withTransaction {
                    try db.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            } catch is Boom { caught = true }
            #expect(caught)
            let group = try #require(db.openGroup)
            try db.withTransaction { try db.execute("INSERT INTO t VALUES (3)") }
            try db.commitGroup()
            #expect(db.state(ofGroup: group) == .committed)
            let statement = try db.prepare("SELECT group_concat(x) FROM (SELECT x FROM t ORDER BY x)")
            _ = try statement.step()
            #expect(statement.text(at: 0) == "1,3")
        }
    }

    @Test func aGroupCommitsOnceItsTimeIsUpAndOnClose() throws {
        try withTemporaryPath { path in
            try withConnection(path) { db in
                try db.execute("CREATE TABLE t (x)")
                db.beginGroups(seconds: 0)
                try db.withTransaction { try db.execute("INSERT INTO t VALUES (1)") }
                #expect(db.openGroup == nil)
                #expect(try count(path) == 1)
            }
            let db = try SQLiteConnection.open(path: path, mode: .readWrite)
            db.beginGroups(seconds: 3600)
            try db.withTransaction { try db.execute("INSERT INTO t VALUES (2)") }
            #expect(try count(path) == 1)
            try db.close()
            #expect(try count(path) == 2)
        }
    }

    @Test func aGroupEndedByAFaultIsLost() throws {
        struct Ended: Error {}
        try withGroupHoldingOneRow { db, path in
            let group = try #require(db.openGroup)
            // A fault that ends the whole transaction (as SQLite does after SQLITE_FULL or an I/O error).
            var caught = false
            do {
                try db.withTransaction {
                    try db.execute("ROLLBACK")
                    throw Ended()
                }
            } catch is Ended { caught = true }
            #expect(caught)
            #expect(db.state(ofGroup: group) == .rolledBack)
            #expect(db.groupLosses == 1)
            #expect(db.openGroup == nil)
            try db.withTransaction { try db.execute("INSERT INTO t VALUES (2)") }
            try db.commitGroup()
            #expect(try count(path) == 1)
        }
    }
}
