import DriverCore
import Foundation
import SQLiteDriver
import SessionModel
import Snapshot
import Testing

@testable import SessMigrate

/// Files holding session data are created mode 0600 whatever the umask: snapshots and their
/// `.NAME.partial`, new SQLite targets, and SQLite's `-journal`, `-wal` and `-shm` side files.
@Suite(.serialized) struct FileModeTests {
    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Runs `body` with a permissive umask (the worst case), restoring the old one after.
    func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let old = umask(mask)
        defer { umask(old) }
        return try body()
    }

    @Test func snapshotAndItsPartialFileAre0600() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
            try write(try sampleSessions(), to: source)
            let snapshot = directory + "/snap.db"
            var partialModes: [Int] = []
            try withUmask(0) {
                _ = try SnapshotJob(source: source, path: snapshot, force: false, batchSize: 2).run(onBatchWritten: {
                    partialModes.append(try mode(SnapshotWriter.partialPath(for: snapshot)))
                })
            }
            #expect(!partialModes.isEmpty && partialModes.allSatisfy { $0 == 0o600 }, "\(partialModes.map { String($0, radix: 8) })")
            #expect(try mode(snapshot) == 0o600)
            // Replacing an existing, readable file with --force gives a 0600 file too.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: snapshot)
            try withUmask(0o022) { _ = try SnapshotJob(source: source, path: snapshot, force: true).run() }
            #expect(try mode(snapshot) == 0o600)
        }
    }

    @Test func newSQLiteTargetsAre0600() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
            try write(try sampleSessions(), to: source)
            for (name, layout) in [("sss.db", SQLiteLayoutName.sqliteSessionService), ("dss.db", .database)] {
                let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/" + name, newFileLayout: layout))
                try withUmask(0) { _ = try CopyJob(source: source, target: target, options: CopyRequest()).run() }
                #expect(try mode(directory + "/" + name) == 0o600)
            }
            // An existing file keeps the mode its owner gave it.
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: directory + "/sss.db")
            let again = StoreAddress.sqlite(SQLiteAddress(path: directory + "/sss.db", newFileLayout: .sqliteSessionService))
            _ = try CopyJob(source: source, target: again, options: CopyRequest()).run()
            #expect(try mode(directory + "/sss.db") == 0o640)
        }
    }

    /// SQLite gives its side files the mode of the database file; checked while they exist.
    @Test(arguments: ["DELETE", "WAL"])
    func sqliteSideFilesTakeTheDatabaseMode(journalMode: String) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/side.db"
            try withUmask(0) {
                let connection = try SQLiteConnection.open(path: path, mode: .create)
                defer { try? connection.close() }
                try connection.execute("PRAGMA journal_mode=\(journalMode); CREATE TABLE t (x TEXT)")
                try connection.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES ('secret')")
                let sideFiles = journalMode == "WAL" ? ["-wal", "-shm"] : ["-journal"]
                for suffix in sideFiles {
                    #expect(FileManager.default.fileExists(atPath: path + suffix), "\(suffix) missing")
                    #expect(try mode(path + suffix) == 0o600, "\(suffix)")
                }
                try connection.execute("COMMIT")
            }
            #expect(try mode(path) == 0o600)
        }
    }
}
