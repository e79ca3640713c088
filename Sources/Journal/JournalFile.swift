import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run journal: one SQLite file holding a runbook, its resolved variables and an append-only
/// event log, plus the advisory lock that keeps two runners apart.
///
/// Tables:
/// - `journal_meta(key, value)`: `format_version`, `runbook_name`, `runbook_text`, `created_at`,
///   `created_host`, `created_by` (tool version).
/// - `journal_variables(name, value)`: resolved variables in the order given, secrets as `***`.
/// - `journal_events(seq, run_id, time, host, pid, tool_version, step, kind, detail)`: the log; `detail`
///   is a compact JSON object. Triggers abort any UPDATE or DELETE of an event.
/// - `journal_lock(id = 1, host, pid, started_at, run_id)`: at most one row, the lock holder.
///
/// Every append is its own transaction with `synchronous=FULL` in rollback-journal (DELETE) mode, so
/// an event that ``append(runId:step:kind:detail:)`` returned survives a crash or power loss. The
/// file is created with mode 0600. Not thread-safe: use one instance per thread or task.
///
/// Dry runs never reach a journal: the runner does not create or append to one when it only plans.
public final class JournalFile {
    /// The format this build writes; files with a higher number are refused.
    public static let currentFormatVersion = 1

    /// The file's path.
    public let path: String
    /// The format version stored in the file.
    public let formatVersion: Int
    /// The runbook's name, as given when the journal was created.
    public let runbookName: String
    /// The runbook's full text, so a resume runs exactly what was started.
    public let runbookText: String
    /// The resolved variables, in the order given; secret values are `***`.
    public let variables: [(name: String, value: String)]

    let environment: JournalEnvironment
    private var connection: SQLiteConnection?
    /// The lock row this instance inserted, while it holds the lock.
    var heldLock: LockHolder?

    static let schema = """
        CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE journal_variables (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE journal_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, time REAL NOT NULL,
          host TEXT NOT NULL, pid INTEGER NOT NULL, tool_version TEXT NOT NULL, step TEXT, kind TEXT NOT NULL,
          detail TEXT NOT NULL);
        CREATE TABLE journal_lock (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL,
          started_at REAL NOT NULL, run_id TEXT NOT NULL);
        CREATE TRIGGER journal_events_no_update BEFORE UPDATE ON journal_events
          BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
        CREATE TRIGGER journal_events_no_delete BEFORE DELETE ON journal_events
          BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
        """

    private init(
        path: String, connection: SQLiteConnection, environment: JournalEnvironment, formatVersion: Int,
        runbookName: String, runbookText: String, variables: [(name: String, value: String)]
    ) {
        self.path = path
        self.connection = connection
        self.environment = environment
        self.formatVersion = formatVersion
        self.runbookName = runbookName
        self.runbookText = runbookText
        self.variables = variables
    }

    /// Creates a new journal at `path` (mode 0600) holding the runbook and its variables.
    ///
    /// The caller redacts secrets first; as a second line of defence, a variable whose name contains
    /// `PASSWORD`, `SECRET` or `TOKEN` must have the value `***`, and no value may carry a URL with a
    /// password other than `***`.
    ///
    /// - Throws: ``JournalError`` when `path` already exists (a journal is never overwritten), when a
    ///   variable is unredacted or given twice; `SQLiteError` when the file cannot be written.
    public static func create(
        path: String, runbookName: String, runbookText: String, variables: [(name: String, value: String)],
        environment: JournalEnvironment = JournalEnvironment()
    ) throws -> JournalFile {
        try checkRedacted(variables)
        try createEmptyFile(path)
        do {
            let connection = try SQLiteConnection.open(path: path, mode: .readWrite)
            do {
                try connection.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL")
                try connection.withTransaction {
                    try connection.execute(schema)
                    let meta = try connection.prepare("INSERT INTO journal_meta (key, value) VALUES (?, ?)")
                    let rows = [
                        ("format_version", String(currentFormatVersion)), ("runbook_name", runbookName),
                        ("runbook_text", runbookText), ("created_at", PythonFloat.repr(environment.now())),
                        ("created_host", environment.host()), ("created_by", environment.toolVersion()),
                    ]
                    for (key, value) in rows { try meta.run([.text(key), .text(value)]) }
                    let insert = try connection.prepare("INSERT INTO journal_variables (name, value) VALUES (?, ?)")
                    for variable in variables { try insert.run([.text(variable.name), .text(variable.value)]) }
                }
            } catch {
                try? connection.close()  // The schema error is the one to report.
                throw error
            }
            return JournalFile(
                path: path, connection: connection, environment: environment, formatVersion: currentFormatVersion,
                runbookName: runbookName, runbookText: runbookText, variables: variables)
        } catch {
            // We created the file a moment ago, so removing it destroys nothing of anyone's.
            _ = unlink(path)
            _ = unlink(path + "-journal")
            throw error
        }
    }

    /// Opens an existing journal.
    ///
    /// - Parameter readOnly: open without write access (for `status` and `log`); appends then fail.
    /// - Throws: ``JournalError`` when there is no file, it is not a journal, or its format is newer
    ///   than ``currentFormatVersion``.
    public static func open(
        path: String, readOnly: Bool = false, environment: JournalEnvironment = JournalEnvironment()
    ) throws -> JournalFile {
        let connection = try openSQLite(path, readOnly: readOnly)
        do {
            if !readOnly { try connection.execute("PRAGMA synchronous=FULL") }
            guard try connection.tableNames().contains("journal_meta") else {
                throw JournalError.corrupt(path, "it is not a sessmigrate journal (no journal_meta table)")
            }
            let meta = try readMeta(connection, path: path)
            return JournalFile(
                path: path, connection: connection, environment: environment, formatVersion: meta.version,
                runbookName: meta.name, runbookText: meta.text, variables: try readVariables(connection))
        } catch {
            try? connection.close()  // The read error is the one to report.
            throw error
        }
    }

    /// Releases the lock if this instance holds it, then closes the file. Safe to call twice.
    ///
    /// Does not throw: every append was committed durably when it returned, so closing cannot lose
    /// an event. Should releasing the lock fail, the row stays behind as a stale lock that
    /// `sessmigrate unlock` clears.
    public func close() {
        guard let connection else { return }
        releaseLock()
        self.connection = nil
        heldLock = nil
        // sqlite3_close_v2 only fails on a bad handle; with nothing uncommitted there is nothing to report.
        try? connection.close()
    }

    deinit {
        assert(connection == nil, "JournalFile was not closed before deinitializing")
        close()  // Last resort; the assertion above reports the missing close() in debug builds.
    }

    /// The open connection, or an error once closed.
    func openConnection() throws -> SQLiteConnection {
        guard let connection else { throw JournalError(code: .connectionFailed, message: "journal \(path) is closed") }
        return connection
    }

    // MARK: - Creating and reading

    /// Opens the SQLite file, reporting a missing or foreign file as a journal problem.
    private static func openSQLite(_ path: String, readOnly: Bool) throws -> SQLiteConnection {
        do {
            return try SQLiteConnection.open(path: path, mode: readOnly ? .readOnly : .readWrite)
        } catch {
            if error.code == .notFound { throw JournalError(code: .notFound, message: "no journal at \(path)") }
            if error.code == .corrupt { throw JournalError.corrupt(path, "it is not a SQLite file") }
            throw error
        }
    }

    /// Creates `path` exclusively (`O_EXCL`), so an existing file, or a symlink, is never replaced.
    private static func createEmptyFile(_ path: String) throws {
        let descriptor = posixOpen(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { throw JournalError.exists(path) }
            throw JournalError(code: .io, message: "cannot create journal \(path): \(String(cString: strerror(errno)))")
        }
        defer { _ = posixClose(descriptor) }  // Nothing was written through it; close cannot lose data.
        // The umask may only have removed bits; set the mode exactly.
        guard fchmod(descriptor, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = unlink(path)
            throw JournalError(code: .io, message: "cannot set the mode of journal \(path): \(reason)")
        }
        syncDirectory(of: path)
    }

    /// Makes the new file's directory entry durable (`fsync` of the directory), so a power loss
    /// right after the first append cannot lose the whole journal.
    private static func syncDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = posixOpen(directory, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { return }
        // Some file systems refuse fsync on a directory (EINVAL); the entry is then as durable as they allow.
        _ = fsync(descriptor)
        _ = posixClose(descriptor)
    }

    private static func readMeta(_ connection: SQLiteConnection, path: String) throws -> (version: Int, name: String, text: String) {
        var rows: [String: String] = [:]
        let statement = try connection.prepare("SELECT key, value FROM journal_meta")
        while try statement.step() { rows[statement.text(at: 0)] = statement.text(at: 1) }
        guard let versionText = rows["format_version"], let version = Int(versionText) else {
            throw JournalError.corrupt(path, "it has no format_version")
        }
        guard version <= currentFormatVersion else { throw JournalError.newerFormat(path, version) }
        guard let name = rows["runbook_name"], let text = rows["runbook_text"] else {
            throw JournalError.corrupt(path, "it does not hold its runbook")
        }
        return (version, name, text)
    }

    private static func readVariables(_ connection: SQLiteConnection) throws -> [(name: String, value: String)] {
        let statement = try connection.prepare("SELECT name, value FROM journal_variables ORDER BY rowid")
        var variables: [(name: String, value: String)] = []
        while try statement.step() { variables.append((statement.text(at: 0), statement.text(at: 1))) }
        return variables
    }

    // MARK: - Redaction

    private static let secretNameMarkers = ["PASSWORD", "SECRET", "TOKEN"]

    /// Refuses duplicate names, unredacted secret-looking names, and URLs with a password.
    static func checkRedacted(_ variables: [(name: String, value: String)]) throws {
        var seen = Set<String>()
        for variable in variables {
            guard seen.insert(variable.name).inserted else {
                throw JournalError(code: .constraint, message: "variable \(variable.name) is given twice")
            }
            let upper = variable.name.uppercased()
            let secretName = secretNameMarkers.contains { upper.contains($0) }
            if (secretName && variable.value != "***") || hasURLPassword(variable.value) {
                throw JournalError.unredacted(variable.name)
            }
        }
    }

    /// True when `value` contains `scheme://user:password@` with a password other than `***`.
    static func hasURLPassword(_ value: String) -> Bool {
        var rest = Substring(value)
        while let separator = rest.range(of: "://") {
            rest = rest[separator.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && !$0.isWhitespace }
            guard let at = authority.lastIndex(of: "@") else { continue }
            let userInfo = authority[..<at]
            guard let colon = userInfo.firstIndex(of: ":") else { continue }
            let password = userInfo[userInfo.index(after: colon)...]
            if !password.isEmpty && password != "***" { return true }
        }
        return false
    }
}

@available(*, unavailable)
extension JournalFile: Sendable {}

/// `open(2)`, named apart from ``JournalFile/open(path:readOnly:environment:)``.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
    Glibc.open(path, flags, mode)
    #else
    Darwin.open(path, flags, mode)
    #endif
}

/// `close(2)`, named apart from ``JournalFile/close()``.
private func posixClose(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}
