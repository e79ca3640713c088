import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

/// Writes a snapshot file crash-safely: everything goes to a temporary file beside the target,
/// which is synced and then renamed over the final name, so a crash never leaves a file that looks
/// complete. Sessions arrive through ``store`` (a ``SessionStore`` to copy into); ``finish(_:)``
/// writes the manifest and publishes the file.
public final class SnapshotWriter {
    /// Where the snapshot goes.
    public let path: String
    let temporaryPath: String
    private let sessions: SQLiteSessionStore
    private let recorder: SQLiteConnection
    private let sourceKeepsExpiry: Bool
    private var finished = false

    /// Starts a snapshot at `path`. Refuses an existing file unless `force`.
    ///
    /// The work goes to `.NAME.partial` beside it. With `resuming`, an existing partial file (left by
    /// an interrupted run of the same runbook step) is kept and continued; otherwise it is replaced.
    public init(path: String, force: Bool, sourceKeepsExpiry: Bool, resuming: Bool = false) throws {
        if FileManager.default.fileExists(atPath: path), !force { throw SnapshotError.exists(path) }
        self.path = path
        temporaryPath = Self.partialPath(for: path)
        if !resuming { try? FileManager.default.removeItem(atPath: temporaryPath) }
        let connection = try SQLiteConnection.open(path: temporaryPath, mode: .create)
        do {
            let detected = try SQLiteLayout.detect(connection)
            guard detected == .sqliteSessionService || detected == .empty else {
                throw SQLiteError(code: .unsupported, message: "\(temporaryPath) holds the \(detected) layout, not SqliteSessionService")
            }
            sessions = try SQLiteSessionStore(connection: connection, detected: detected, forWriting: true)
            recorder = try SQLiteConnection.open(path: temporaryPath, mode: .readWrite)
            try recorder.execute(SnapshotFormat.schema)
        } catch {
            try? connection.close()
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw error
        }
        self.sourceKeepsExpiry = sourceKeepsExpiry
    }

    /// Where the snapshot of `path` is written until it is complete.
    public static func partialPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial").path
    }

    /// The store to copy sessions into; it also records each session's digest and expiry.
    public var store: any SessionStore { RecordingStore(writer: self) }

    /// Writes the manifest, syncs the file, and renames it to ``path``.
    public func finish(toolVersion: String, source: String, sourceLayout: String, createdAt: Double, seconds: Double) throws {
        let stats = try sessions.fetchStats()
        let manifest = SnapshotManifest(
            toolVersion: toolVersion, source: source, sourceLayout: sourceLayout, sourceKeepsExpiry: sourceKeepsExpiry,
            createdAt: createdAt, seconds: seconds, stats: stats)
        try recorder.withTransaction {
            let insert = try recorder.prepare("INSERT OR REPLACE INTO sessmigrate_manifest (key, value) VALUES (?, ?)")
            for (key, value) in manifest.rows { try insert.run([.text(key), .text(value)]) }
        }
        try sessions.close()
        try recorder.close()
        finished = true
        try Self.sync(temporaryPath)
        guard rename(temporaryPath, path) == 0 else {
            throw SnapshotError(code: .io, message: "cannot rename the finished snapshot to \(path) (errno \(errno))")
        }
        try Self.sync(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// Stops after a failure. The partial file is removed unless `keepPartial` (a runbook step keeps
    /// it so that `resume` continues from its last checkpoint; a new snapshot replaces it anyway).
    public func abandon(keepPartial: Bool = false) {
        if !finished {
            try? sessions.close()
            try? recorder.close()
            finished = true
        }
        if !keepPartial { try? FileManager.default.removeItem(atPath: temporaryPath) }
    }

    deinit {
        if !finished { abandon() }
    }

    func record(_ batch: [Session]) throws {
        try sessions.writeSessions(batch)
        try recorder.withTransaction {
            let insert = try recorder.prepare(
                "INSERT OR REPLACE INTO sessmigrate_sessions (app_name, user_id, session_id, digest, expires_at) VALUES (?, ?, ?, ?, ?)")
            for written in batch {
                // The digest of what the file will give back (its event order), not of the input.
                let session = try sessions.readBack(written)
                let expiry: SQLiteValue
                switch session.expiry {
                case .at(let time)?: expiry = .float(time)
                case .never?: expiry = .float(-1)
                case nil: expiry = .null
                }
                try insert.run([
                    .text(session.key.appName), .text(session.key.userId), .text(session.key.sessionId),
                    .text(SnapshotFormat.digest(of: session)), expiry,
                ])
            }
        }
    }

    static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SnapshotError(code: .io, message: "cannot open \(path) to sync it (errno \(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw SnapshotError(code: .io, message: "fsync of \(path) failed (errno \(errno))") }
    }

    /// The copy target: writes sessions into the snapshot and records their digests, in the same
    /// batches. It claims to keep expiry exactly when the source does, so a copy keeps Redis
    /// expiries and invents none for stores that have none.
    final class RecordingStore: SessionStore {
        let writer: SnapshotWriter

        init(writer: SnapshotWriter) { self.writer = writer }

        var layout: StoreLayout { StoreLayout(kind: "sqlite", name: "snapshot") }
        /// The file's: its writes go through ``SnapshotWriter/record(_:)`` into that store.
        var eventDataStyle: JSONStyle? { writer.sessions.eventDataStyle }
        var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: writer.sourceKeepsExpiry) }
        func fetchStats() throws -> StoreStats { try writer.sessions.fetchStats() }
        func scanSessions(_ query: SessionQuery) throws -> any SessionCursor { try writer.sessions.scanSessions(query) }
        func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] { try writer.sessions.fetchSessions(keys) }
        func readBack(_ session: Session) throws -> Session { try writer.sessions.readBack(session) }
        func writeSessions(_ sessions: [Session]) throws { try writer.record(sessions) }
        func deleteSessions(_ keys: [SessionKey]) throws { throw SnapshotError(code: .unsupported, message: "snapshots are written whole") }
        func close() throws {}
    }
}
