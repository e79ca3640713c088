import DriverCore
import SQLiteDriver
import SessionModel

/// The sessmigrate snapshot format: a SQLite file in ADK's SqliteSessionService layout (so ADK can
/// open it with `sqlite:///FILE`) plus two tables of our own:
///
/// - `sessmigrate_manifest(key, value)`: `format_version`, `tool_version`, `source` (address with
///   the password redacted), `source_layout`, `source_keeps_expiry`, `created_at`, `seconds`, and the
///   counts `sessions`, `events`, `app_states`, `user_states`.
/// - `sessmigrate_sessions(app_name, user_id, session_id, digest, expires_at)`: each session's
///   digest as written (see ``digest(of:)``), and its Redis expiry (NULL
///   when none: `expires_at` is `-1` for a key that never expires).
public enum SnapshotFormat {
    /// The format this build writes; files with a higher number are refused.
    public static let version = 1

    static let manifestTable = "sessmigrate_manifest"
    static let sessionsTable = "sessmigrate_sessions"

    static let schema = """
        CREATE TABLE IF NOT EXISTS sessmigrate_manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS sessmigrate_sessions (app_name TEXT NOT NULL, user_id TEXT NOT NULL,
          session_id TEXT NOT NULL, digest TEXT NOT NULL, expires_at REAL,
          PRIMARY KEY (app_name, user_id, session_id));
        """

    /// The digest recorded for a session: its session state, events and times. App and user state
    /// are shared by many sessions and may gain keys while a live store is being snapshotted, so
    /// they are left out; SQLite's integrity check covers their rows.
    static func digest(of session: Session) -> String {
        var session = session
        session.appState = [:]
        session.userState = [:]
        return SHA256.hexString(session.digest())
    }

    /// True when the file at `connection` carries a sessmigrate manifest.
    static func isSnapshot(_ connection: SQLiteConnection) throws -> Bool {
        try connection.tableNames().contains(manifestTable)
    }
}

/// A snapshot's manifest.
public struct SnapshotManifest: Sendable, Hashable {
    public var formatVersion: Int
    public var toolVersion: String
    /// The source address, password redacted.
    public var source: String
    public var sourceLayout: String
    /// The source kept per-session expiry (Redis): `expires_at` is meaningful.
    public var sourceKeepsExpiry: Bool
    public var createdAt: Double
    public var seconds: Double
    public var sessions: Int
    public var events: Int
    public var appStates: Int
    public var userStates: Int

    var rows: [(String, String)] {
        [
            ("format_version", String(formatVersion)), ("tool_version", toolVersion), ("source", source),
            ("source_layout", sourceLayout), ("source_keeps_expiry", sourceKeepsExpiry ? "1" : "0"),
            ("created_at", PythonFloat.repr(createdAt)), ("seconds", PythonFloat.repr(seconds)), ("sessions", String(sessions)),
            ("events", String(events)), ("app_states", String(appStates)), ("user_states", String(userStates)),
        ]
    }

    init(rows: [String: String], path: String) throws {
        func text(_ key: String) throws -> String {
            guard let value = rows[key] else { throw SnapshotError.corrupt(path, "the manifest has no \(key)") }
            return value
        }
        func number(_ key: String) throws -> Int {
            guard let value = Int(try text(key)) else { throw SnapshotError.corrupt(path, "manifest \(key) is not a number") }
            return value
        }
        formatVersion = try number("format_version")
        guard formatVersion <= SnapshotFormat.version else {
            throw SnapshotError.newerFormat(path, formatVersion)
        }
        toolVersion = try text("tool_version")
        source = try text("source")
        sourceLayout = try text("source_layout")
        sourceKeepsExpiry = try text("source_keeps_expiry") == "1"
        createdAt = Double(try text("created_at")) ?? 0
        seconds = Double(try text("seconds")) ?? 0
        sessions = try number("sessions")
        events = try number("events")
        appStates = try number("app_states")
        userStates = try number("user_states")
    }

    init(
        toolVersion: String, source: String, sourceLayout: String, sourceKeepsExpiry: Bool, createdAt: Double, seconds: Double,
        stats: StoreStats
    ) {
        formatVersion = SnapshotFormat.version
        self.toolVersion = toolVersion
        self.source = source
        self.sourceLayout = sourceLayout
        self.sourceKeepsExpiry = sourceKeepsExpiry
        self.createdAt = createdAt
        self.seconds = seconds
        sessions = stats.sessions
        events = stats.events
        appStates = stats.appStates
        userStates = stats.userStates
    }
}

/// Why a snapshot cannot be written or used.
public struct SnapshotError: DriverError {
    public var code: DriverErrorCode
    public var message: String
    /// The file that already exists, for the refusal to replace it.
    public var existingFile: String?

    public var description: String { Printable.name(message, limit: Printable.messageLimit) }
    public var debugDescription: String { description }

    static func corrupt(_ path: String, _ detail: String) -> SnapshotError {
        SnapshotError(code: .corrupt, message: "snapshot \(path) is damaged: \(detail); it was not used")
    }

    static func newerFormat(_ path: String, _ version: Int) -> SnapshotError {
        SnapshotError(
            code: .unsupported,
            message: "snapshot \(path) has format version \(version); this sessmigrate reads up to \(SnapshotFormat.version): use a newer sessmigrate")
    }

    static func exists(_ path: String) -> SnapshotError {
        SnapshotError(code: .constraint, message: "\(path) already exists; pass --force to replace it", existingFile: path)
    }
}
