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
/// Tables (format 2):
/// - `journal_meta(key, value)`: `format_version`, `runbook_name`, `runbook_text`, `created_at`,
///   `created_host`, `created_by` (tool version), `chain_genesis`.
/// - `journal_variables(name, value)`: resolved variables in the order given, secrets as `***`.
/// - `journal_events(seq, run_id, time, host, pid, tool_version, step, kind, detail, hash)`: the log;
///   `detail` is a compact JSON object; `hash` chains each event to the one before (SHA-256, see
///   `JournalFile+Chain.swift`; the first link covers the runbook and variables). Triggers abort any
///   UPDATE or DELETE of an event, and the chain is checked whenever the events are read, so an edited,
///   inserted or removed event is named by its seq and never obeyed.
/// - `journal_lock(id = 1, host, pid, started_at, run_id, boot_id, process_start)`: at most one row,
///   the lock holder, with the identity of its process (so a reused pid is not taken for the holder).
///
/// The file is built under a temporary name in the same directory and linked into place whole
/// (mode 0600), so a kill during `create` leaves no journal or a complete one; a journal with no
/// event is not started, and `create` may replace it. Every append is its own transaction with
/// `synchronous=FULL` in rollback-journal (DELETE) mode, so an event that
/// ``append(runId:step:kind:detail:)`` returned survives a crash or power loss. Not thread-safe: use
/// one instance per thread or task.
///
/// Dry runs never reach a journal: the runner does not create or append to one when it only plans.
public final class JournalFile {
    /// The format this build writes and reads. Format 1 (before the hash chain) is refused with a
    /// message naming the sessmigrate that wrote it; higher numbers are refused too.
    public static let currentFormatVersion = 2

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
    /// The lock row this instance inserted, while it holds the lock (kept after the lock was taken
    /// away, so every later append is refused).
    var heldLock: LockHolder?
    /// The first link of the hash chain, computed from the runbook and variables.
    let chainGenesis: String

    static let schema = """
        CREATE TABLE journal_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE journal_variables (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE journal_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, time REAL NOT NULL,
          host TEXT NOT NULL, pid INTEGER NOT NULL, tool_version TEXT NOT NULL, step TEXT, kind TEXT NOT NULL,
          detail TEXT NOT NULL, hash TEXT NOT NULL);
        CREATE TABLE journal_lock (id INTEGER PRIMARY KEY CHECK (id = 1), host TEXT NOT NULL, pid INTEGER NOT NULL,
          started_at REAL NOT NULL, run_id TEXT NOT NULL, boot_id TEXT, process_start TEXT);
        CREATE TRIGGER journal_events_no_update BEFORE UPDATE ON journal_events
          BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
        CREATE TRIGGER journal_events_no_delete BEFORE DELETE ON journal_events
          BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
        """

    init(
        path: String, connection: SQLiteConnection, environment: JournalEnvironment, formatVersion: Int,
        runbookName: String, runbookText: String, variables: [(name: String, value: String)], chainGenesis: String
    ) {
        self.path = path
        self.connection = connection
        self.environment = environment
        self.formatVersion = formatVersion
        self.runbookName = runbookName
        self.runbookText = runbookText
        self.variables = variables
        self.chainGenesis = chainGenesis
    }

    /// Opens an existing journal and checks its hash chain.
    ///
    /// - Parameter readOnly: open without write access (for `status` and `log`); appends then fail.
    /// - Throws: ``JournalError`` when there is no file, it was never started (an empty file:
    ///   ``JournalError/notStarted``), it is not a journal, its format is not ``currentFormatVersion``,
    ///   or it was damaged or edited (naming the event that breaks the chain).
    public static func open(
        path: String, readOnly: Bool = false, environment: JournalEnvironment = JournalEnvironment()
    ) throws -> JournalFile {
        let connection = try openSQLite(path, readOnly: readOnly)
        do {
            if !readOnly { try connection.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL") }
            let tables = try connection.tableNames()
            if tables.isEmpty { throw JournalError.notStartedError(path) }
            guard tables.contains("journal_meta") else {
                throw JournalError.corrupt(path, "it is not a sessmigrate journal (no journal_meta table)")
            }
            let meta = try readMeta(connection, path: path)
            let variables = try readVariables(connection)
            let genesis = chainGenesis(meta: meta.rows, variables: variables)
            guard meta.genesis == genesis else {
                throw JournalError.corrupt(
                    path,
                    "its runbook or variables were changed after it was created (they no longer match the start "
                        + "of its hash chain); it is not used")
            }
            let journal = JournalFile(
                path: path, connection: connection, environment: environment, formatVersion: meta.version,
                runbookName: meta.name, runbookText: meta.text, variables: variables, chainGenesis: genesis)
            do {
                _ = try journal.events()
            } catch {
                journal.connection = nil  // Closed below; the chain error is the one to report.
                throw error
            }
            return journal
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
    static func openSQLite(_ path: String, readOnly: Bool) throws -> SQLiteConnection {
        do {
            return try SQLiteConnection.open(path: path, mode: readOnly ? .readOnly : .readWrite)
        } catch {
            if error.code == .notFound { throw JournalError(code: .notFound, message: "no journal at \(path)") }
            if error.code == .corrupt { throw JournalError.corrupt(path, "it is not a SQLite file") }
            throw error
        }
    }

    /// The `journal_meta` rows the chain covers, in chain order; the stored `chain_genesis`; the
    /// format version, the runbook's name and text.
    private static func readMeta(
        _ connection: SQLiteConnection, path: String
    ) throws -> (version: Int, name: String, text: String, rows: [(key: String, value: String)], genesis: String?) {
        var rows: [String: String] = [:]
        let statement = try connection.prepare("SELECT key, value FROM journal_meta")
        while try statement.step() { rows[statement.text(at: 0)] = statement.text(at: 1) }
        guard let versionText = rows["format_version"], let version = Int(versionText) else {
            throw JournalError.corrupt(path, "it has no format_version")
        }
        guard version <= currentFormatVersion else { throw JournalError.newerFormat(path, version) }
        guard version == currentFormatVersion else {
            throw JournalError.previousFormat(path, version, writtenBy: rows["created_by"])
        }
        guard let name = rows["runbook_name"], let text = rows["runbook_text"] else {
            throw JournalError.corrupt(path, "it does not hold its runbook")
        }
        return (version, name, text, chainedMetaKeys.map { (key: $0, value: rows[$0] ?? "") }, rows["chain_genesis"])
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
func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
        Glibc.open(path, flags, mode)
    #else
        Darwin.open(path, flags, mode)
    #endif
}

/// `close(2)`, named apart from ``JournalFile/close()``.
func posixClose(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
        Glibc.close(descriptor)
    #else
        Darwin.close(descriptor)
    #endif
}
