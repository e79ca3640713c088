#if canImport(Glibc)
import Glibc
#endif
import DriverCore
import SQLiteDriver
import SessionModel
import Snapshot

/// Snapshot files for the snapshot targets: a template written by `SnapshotWriter`, and
/// everything sessmigrate does with a snapshot it is handed.
enum FuzzSnapshots {
    /// The bytes of a valid snapshot of ``FuzzSamples/sessions`` (512-byte pages keep it small).
    static let template: [UInt8] = {
        let path = fuzzScratchDirectory + "/template.db"
        unlink(path)
        do {
            let writer = try SnapshotWriter(path: path, force: true, sourceKeepsExpiry: true)
            try writer.store.writeSessions(FuzzSamples.sessions)
            try writer.finish(toolVersion: "fuzz", source: "sqlite:///fuzz.db", sourceLayout: "sqlite-session-service",
                              createdAt: 1_700_000_000.5, seconds: 0.25)
            let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
            try connection.execute("PRAGMA page_size=512; VACUUM")
            try connection.close()
            _ = try SnapshotReader.check(path: path)
        } catch {
            fuzzFailure("cannot build the template snapshot: \(error)")
        }
        defer { unlink(path) }
        return readFile(path)
    }()

    /// Does with the file at `path` what `restore`, `copy`, `diff` and `verify` do with a snapshot:
    /// check it, read its manifest, open it as a store (which `sqlite:///` sources do without a
    /// check), scan, fetch and digest its sessions. Any error is fine; crashes and hangs are not.
    /// Returns the error `check` threw, if any.
    @discardableResult
    static func exercise(path: String, batchSize: Int) -> (any Error)? {
        var checkError: (any Error)?
        do {
            _ = try SnapshotReader.check(path: path, batchSize: batchSize)
        } catch {
            checkError = error
        }
        _ = SnapshotReader.isSnapshot(path: path)
        _ = try? SnapshotReader.manifest(path: path)
        guard let store = try? SnapshotStore(path: path) else { return checkError }
        defer { try? store.close() }
        _ = try? store.fetchStats()
        var keys: [SessionKey] = []
        if let cursor = try? store.scanSessions(SessionQuery(batchSize: batchSize)) {
            while let session = try? cursor.next() {
                keys.append(session.key)
                _ = session.digest(includingCreateTime: true)
                _ = try? store.readBack(session)
                if keys.count > 10_000 { break }
            }
            _ = cursor.resumeToken
        }
        _ = try? store.fetchSessions(keys + [SessionKey(appName: "app", userId: "u", sessionId: "empty")])
        return checkError
    }
}

/// `SnapshotReader.check` must fail with a SnapshotError only (I/O errors and lock timeouts
/// aside, which a file in /dev/shm does not give). `FUZZ_PRINT_ERRORS=1` prints each error `check`
/// throws, to tally them over a corpus.
func checkErrorKind(_ error: (any Error)?) {
    guard let error else { return }
    if getenv("FUZZ_PRINT_ERRORS") != nil {
        fputs("check-error \(type(of: error)): \(error)\n", stderr)
    }
    guard error is SnapshotError else { fuzzFailure("check threw \(type(of: error)), not SnapshotError: \(error)") }
}
