import DriverCore
import SQLiteDriver
import SessionModel

/// Reads and checks snapshot files.
public enum SnapshotReader {
    /// Checks a snapshot before it is used: SQLite `integrity_check`, the manifest and its format
    /// version (a newer format is refused), the counts, and every session's digest against the one
    /// recorded when it was written. Streams the sessions; memory is bounded by `batchSize`.
    ///
    /// - Throws: ``SnapshotError``: `.unsupported` for a newer format or a file without a manifest,
    ///   `.corrupt` naming the first problem for anything else the file holds (a bad row, a broken
    ///   schema, bytes SQLite cannot read). A missing file (`.notFound`), I/O errors and lock
    ///   timeouts are thrown as they come.
    public static func check(path: String, batchSize: Int = 500) throws -> SnapshotManifest {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection.open(path: path, mode: .readOnly)
        } catch {
            throw damaged(error, path: path, context: "SQLite cannot open it")
        }
        defer { try? connection.close() }
        do {
            return try check(connection, path: path, batchSize: batchSize)
        } catch {
            throw damaged(error, path: path)
        }
    }

    private static func check(_ connection: SQLiteConnection, path: String, batchSize: Int) throws -> SnapshotManifest {
        let problems: [String]
        do {
            problems = try connection.integrityCheck()
        } catch {
            throw SnapshotError.corrupt(path, "SQLite cannot read it (\(error))")
        }
        guard problems.isEmpty else { throw SnapshotError.corrupt(path, "integrity check: \(problems.prefix(3).joined(separator: "; "))") }
        let manifest = try readManifest(connection, path: path)
        let digests = try connection.prepare("SELECT digest FROM sessmigrate_sessions WHERE app_name = ? AND user_id = ? AND session_id = ?")
        let store = try openSessions(path: path)
        defer { try? store.close() }
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
        var (sessions, events) = (0, 0)
        while let session = try cursor.next() {
            sessions += 1
            events += session.events.count
            try digests.reset()
            try digests.bind([.text(session.key.appName), .text(session.key.userId), .text(session.key.sessionId)])
            guard try digests.step() else { throw SnapshotError.corrupt(path, "session \(session.key) has no recorded digest") }
            guard digests.text(at: 0) == SnapshotFormat.digest(of: session) else {
                throw SnapshotError.corrupt(path, "session \(session.key) does not match its recorded digest")
            }
        }
        let recorded = try connection.prepare("SELECT COUNT(*) FROM sessmigrate_sessions")
        _ = try recorded.step()
        guard sessions == manifest.sessions, events == manifest.events, Int(recorded.int64(at: 0)) == sessions else {
            throw SnapshotError.corrupt(
                path, "it holds \(sessions) sessions and \(events) events; the manifest says \(manifest.sessions) and \(manifest.events)")
        }
        return manifest
    }

    /// `error` met while checking the file at `path`, as the ``SnapshotError`` it means: anything
    /// the file holds that cannot be read (a bad row, a schema that is not the snapshot layout, bytes
    /// SQLite refuses) means it is damaged. A missing file, I/O errors and lock timeouts are passed
    /// on: they say nothing about the file's content.
    static func damaged(_ error: any Error, path: String, context: String? = nil) -> any Error {
        if error is SnapshotError { return error }
        if let driverError = error as? any DriverError,
            [.notFound, .io, .timeout, .connectionFailed, .authentication].contains(driverError.code)
        {
            return error
        }
        return SnapshotError.corrupt(path, context.map { "\($0) (\(error))" } ?? "\(error)")
    }

    /// The snapshot's sessions as a store that owns its own connection.
    static func openSessions(path: String) throws -> SQLiteSessionStore {
        let connection = try SQLiteConnection.open(path: path, mode: .readOnly)
        do {
            let detected = try SQLiteLayout.detect(connection)
            guard detected == .sqliteSessionService || detected == .empty else {
                throw SQLiteError(code: .unsupported, message: "\(path) holds the \(detected) layout, not SqliteSessionService")
            }
            return try SQLiteSessionStore(connection: connection, detected: detected, forWriting: false)
        } catch {
            try? connection.close()
            throw error
        }
    }

    /// True when `path` is an existing SQLite file with a sessmigrate manifest.
    public static func isSnapshot(path: String) -> Bool {
        guard let connection = try? SQLiteConnection.open(path: path, mode: .readOnly) else { return false }
        defer { try? connection.close() }
        return (try? SnapshotFormat.isSnapshot(connection)) ?? false
    }

    /// Reads the manifest (no digest check).
    public static func manifest(path: String) throws -> SnapshotManifest {
        let connection = try SQLiteConnection.open(path: path, mode: .readOnly)
        defer { try? connection.close() }
        return try readManifest(connection, path: path)
    }

    static func readManifest(_ connection: SQLiteConnection, path: String) throws -> SnapshotManifest {
        guard try SnapshotFormat.isSnapshot(connection) else {
            throw SnapshotError(code: .unsupported, message: "\(path) is not a sessmigrate snapshot (no manifest)")
        }
        let rows = try connection.prepare("SELECT key, value FROM sessmigrate_manifest")
        var values: [String: String] = [:]
        while try rows.step() { values[rows.text(at: 0)] = rows.text(at: 1) }
        return try SnapshotManifest(rows: values, path: path)
    }
}

/// A snapshot opened as a read-only session store. When the snapshot was taken from Redis, each
/// session carries its recorded expiry, so restoring into Redis keeps it.
public final class SnapshotStore: SessionStore {
    private let sessions: SQLiteSessionStore
    private let expiries: SQLiteStatement
    private let connection: SQLiteConnection
    public let manifest: SnapshotManifest

    /// Opens the snapshot at `path` (check it first with ``SnapshotReader/check(path:batchSize:)``).
    public init(path: String) throws {
        connection = try SQLiteConnection.open(path: path, mode: .readOnly)
        do {
            manifest = try SnapshotReader.readManifest(connection, path: path)
            expiries = try connection.prepare("SELECT expires_at FROM sessmigrate_sessions WHERE app_name = ? AND user_id = ? AND session_id = ?")
            sessions = try SnapshotReader.openSessions(path: path)
        } catch {
            try? connection.close()
            throw error
        }
    }

    public var layout: StoreLayout { StoreLayout(kind: "sqlite", name: "snapshot v\(manifest.formatVersion)") }
    public var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: manifest.sourceKeepsExpiry, countsCheaply: true) }
    public func fetchStats() throws -> StoreStats { try sessions.fetchStats() }
    public func readBack(_ session: Session) throws -> Session { try sessions.readBack(session) }

    public func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        ExpiryCursor(inner: try sessions.scanSessions(query), store: self)
    }

    public func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] {
        try sessions.fetchSessions(keys).mapValues { try withExpiry($0) }
    }

    public func writeSessions(_ sessions: [Session]) throws {
        throw SnapshotError(code: .unsupported, message: "snapshots are read-only; write a new one with `sessmigrate snapshot`")
    }

    public func deleteSessions(_ keys: [SessionKey]) throws {
        throw SnapshotError(code: .unsupported, message: "snapshots are read-only")
    }

    public func close() throws {
        try sessions.close()
        try connection.close()
    }

    func withExpiry(_ session: Session) throws -> Session {
        guard manifest.sourceKeepsExpiry else { return session }
        var session = session
        try expiries.reset()
        try expiries.bind([.text(session.key.appName), .text(session.key.userId), .text(session.key.sessionId)])
        if try expiries.step(), !expiries.isNull(at: 0) {
            let time = expiries.double(at: 0)
            session.expiry = time < 0 ? .never : .at(time)
        }
        return session
    }

    final class ExpiryCursor: SessionCursor {
        let inner: any SessionCursor
        let store: SnapshotStore

        init(inner: any SessionCursor, store: SnapshotStore) {
            self.inner = inner
            self.store = store
        }

        func next() throws -> Session? { try inner.next().map { try store.withExpiry($0) } }

        /// The token of the SqliteSessionService cursor it wraps.
        var resumeToken: String? { inner.resumeToken }
    }
}
