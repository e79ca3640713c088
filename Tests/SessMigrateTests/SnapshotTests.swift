import DriverCore
import Foundation
import SQLiteDriver
import SessionModel
import Snapshot
import Testing

@testable import SessMigrate

/// Snapshot and restore with real SQLite files: round trip, refusal of damaged or newer files.
@Suite struct SnapshotTests {
    func source(_ directory: String) throws -> StoreAddress {
        let address = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
        try write(try sampleSessions(), to: address)
        return address
    }

    @Test func snapshotRestoreAndVerify() throws {
        try withTemporaryDirectory { directory in
            let snapshot = directory + "/snap.db"
            let (summary, manifest) = try SnapshotJob(source: try source(directory), path: snapshot, force: false, batchSize: 3).run()
            #expect(manifest.sessions == summary.total.read)
            #expect(manifest.formatVersion == SnapshotFormat.version)
            #expect(!manifest.source.isEmpty)
            #expect(try SnapshotReader.check(path: snapshot).sessions == manifest.sessions)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("partial") }
            #expect(leftovers.isEmpty)

            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/restored.db", newFileLayout: .sqliteSessionService))
            let outcome = try RestoreJob(path: snapshot, target: target, options: CopyRequest(batchSize: 2)).run()
            #expect(outcome.isVerified)
            #expect(outcome.copy.total.inserted == manifest.sessions)
            var differences = 0
            let (verdict, _, _) = try DiffJob(a: try source(directory), b: target, engine: DiffEngine(detailed: false)).run { _ in differences += 1 }
            #expect(verdict.isIdentical)
            let again = try RestoreJob(path: snapshot, target: target, options: CopyRequest()).run()
            #expect(again.copy.total.written == 0)
        }
    }

    @Test func existingFileIsRefusedWithoutForce() throws {
        try withTemporaryDirectory { directory in
            let snapshot = directory + "/snap.db"
            let address = try source(directory)
            _ = try SnapshotJob(source: address, path: snapshot, force: false).run()
            #expect(throws: SnapshotError.self) { _ = try SnapshotJob(source: address, path: snapshot, force: false).run() }
            _ = try SnapshotJob(source: address, path: snapshot, force: true).run()
        }
    }

    @Test(arguments: ["truncated", "tampered", "newer", "notasnapshot"])
    func damagedSnapshotsAreRefusedBeforeWriting(damage: String) throws {
        try withTemporaryDirectory { directory in
            let snapshot = directory + "/snap.db"
            _ = try SnapshotJob(source: try source(directory), path: snapshot, force: false).run()
            switch damage {
            case "truncated":
                let data = try Data(contentsOf: URL(fileURLWithPath: snapshot))
                try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: snapshot))
            case "tampered":
                try sql(snapshot, "UPDATE events SET event_data = replace(event_data, 'user', 'model') WHERE rowid = 2")
            case "newer":
                try sql(snapshot, "UPDATE sessmigrate_manifest SET value = '99' WHERE key = 'format_version'")
            default:
                try sql(snapshot, "DROP TABLE sessmigrate_manifest")
            }
            let targetPath = directory + "/target.db"
            let target = StoreAddress.sqlite(SQLiteAddress(path: targetPath, newFileLayout: .sqliteSessionService))
            #expect(throws: (any Error).self) { _ = try RestoreJob(path: snapshot, target: target, options: CopyRequest()).run() }
            #expect(!FileManager.default.fileExists(atPath: targetPath))
        }
    }

    func sql(_ path: String, _ statement: String) throws {
        let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
        defer { try? connection.close() }
        try connection.execute(statement)
    }
}
