import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Creating a journal atomically (issue 13 item 5). A kill between creating the file and committing its
// schema used to leave a 0-byte journal that `run` called existing and everything else called damaged.
// Now the journal is built whole under a temporary name in the same directory (mode 0600, synced) and
// linked into place, which fails if the path exists: a kill leaves no journal, or a complete one with
// no event. A journal with no event (or an empty file left by an older version) is not started and is
// replaced in place, in one SQLite transaction, by the next `run`.
extension JournalFile {
    /// Creates a new journal at `path` (mode 0600) holding the runbook and its variables, or replaces
    /// one that was never started (no event, no live lock holder, or an empty file).
    ///
    /// The caller redacts secrets first; as a second line of defence, a variable whose name contains
    /// `PASSWORD`, `SECRET` or `TOKEN` must have the value `***`, and no value may carry a URL with a
    /// password other than `***`.
    ///
    /// - Throws: ``JournalError`` when `path` holds a started journal (a journal is never overwritten)
    ///   or something that is not a journal, when a variable is unredacted or given twice;
    ///   `SQLiteError` when the file cannot be written.
    public static func create(
        path: String, runbookName: String, runbookText: String, variables: [(name: String, value: String)],
        environment: JournalEnvironment = JournalEnvironment()
    ) throws -> JournalFile {
        try checkRedacted(variables)
        let meta = [
            ("format_version", String(currentFormatVersion)), ("runbook_name", runbookName), ("runbook_text", runbookText),
            ("created_at", PythonFloat.repr(environment.now())), ("created_host", environment.host()),
            ("created_by", environment.toolVersion()),
        ].map { (key: $0.0, value: $0.1) }
        let genesis = chainGenesis(meta: meta, variables: variables)
        if !exists(path) {
            let temporary = try buildTemporary(for: path, meta: meta, genesis: genesis, variables: variables)
            defer { _ = unlink(temporary) }  // After the link it is a second name of the journal.
            if link(temporary, path) == 0 {
                syncDirectory(of: path)
                return try opened(path, environment, runbookName, runbookText, variables, genesis)
            }
            guard errno == EEXIST else {
                throw JournalError(code: .io, message: "cannot create journal \(path): \(String(cString: strerror(errno)))")
            }
        }
        try replaceIfNotStarted(path, meta: meta, genesis: genesis, variables: variables, environment: environment)
        return try opened(path, environment, runbookName, runbookText, variables, genesis)
    }

    private static func opened(
        _ path: String, _ environment: JournalEnvironment, _ name: String, _ text: String,
        _ variables: [(name: String, value: String)], _ genesis: String
    ) throws -> JournalFile {
        let connection = try openSQLite(path, readOnly: false)
        do {
            try connection.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL")
        } catch {
            try? connection.close()  // The pragma error is the one to report.
            throw error
        }
        return JournalFile(
            path: path, connection: connection, environment: environment, formatVersion: currentFormatVersion,
            runbookName: name, runbookText: text, variables: variables, chainGenesis: genesis)
    }

    /// Writes the schema, the meta rows and the variables into `connection`, inside the caller's transaction.
    private static func writeContents(
        _ connection: SQLiteConnection, meta: [(key: String, value: String)], genesis: String,
        variables: [(name: String, value: String)]
    ) throws {
        try connection.execute(schema)
        let insert = try connection.prepare("INSERT INTO journal_meta (key, value) VALUES (?, ?)")
        for (key, value) in meta + [(key: "chain_genesis", value: genesis)] { try insert.run([.text(key), .text(value)]) }
        let variable = try connection.prepare("INSERT INTO journal_variables (name, value) VALUES (?, ?)")
        for item in variables { try variable.run([.text(item.name), .text(item.value)]) }
    }

    /// Builds the whole journal as `.NAME.creating-HOST-PID-RANDOM` beside `path`, mode 0600, and
    /// syncs it; returns its path. Leftovers of dead creators on this host are removed first.
    private static func buildTemporary(
        for path: String, meta: [(key: String, value: String)], genesis: String, variables: [(name: String, value: String)]
    ) throws -> String {
        let url = URL(fileURLWithPath: path)
        let prefix = "." + url.lastPathComponent + ".creating-"
        removeLeftovers(in: url.deletingLastPathComponent().path, prefix: prefix)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(prefix + "\(JournalEnvironment.currentHost())-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let descriptor = posixOpen(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw JournalError(code: .io, message: "cannot create journal \(path): \(String(cString: strerror(errno)))")
        }
        _ = posixClose(descriptor)  // Nothing was written through it; SQLite writes the file below.
        do {
            guard chmod(temporary, 0o600) == 0 else {  // The umask may only have removed bits; set the mode exactly.
                throw JournalError(code: .io, message: "cannot set the mode of journal \(path): \(String(cString: strerror(errno)))")
            }
            let connection = try SQLiteConnection.open(path: temporary, mode: .readWrite)
            do {
                try connection.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL")
                try connection.withTransaction { try writeContents(connection, meta: meta, genesis: genesis, variables: variables) }
                try connection.close()
            } catch {
                try? connection.close()  // The write error is the one to report.
                throw error
            }
            try syncFile(temporary, journal: path)
            return temporary
        } catch {
            _ = unlink(temporary)
            _ = unlink(temporary + "-journal")
            throw error
        }
    }

    /// Replaces a journal that was never started, in place and in one transaction: an empty file (an
    /// older version's interrupted `run`) or a journal with no event and no live lock holder.
    private static func replaceIfNotStarted(
        _ path: String, meta: [(key: String, value: String)], genesis: String, variables: [(name: String, value: String)],
        environment: JournalEnvironment
    ) throws {
        let connection: SQLiteConnection
        do {
            connection = try openSQLite(path, readOnly: false)
        } catch {
            throw JournalError.exists(path)  // Something that is not a journal: never overwritten.
        }
        defer { try? connection.close() }  // Everything was committed (or rolled back) below.
        do {
            try replaceContents(connection, path: path, meta: meta, genesis: genesis, variables: variables, environment: environment)
        } catch let error as SQLiteError where error.code == .corrupt {
            throw JournalError.exists(path)  // Not a SQLite file: never overwritten.
        }
        _ = chmod(path, 0o600)  // Best effort: a file of another owner keeps its mode (and was refused above if not ours to write).
    }

    private static func replaceContents(
        _ connection: SQLiteConnection, path: String, meta: [(key: String, value: String)], genesis: String,
        variables: [(name: String, value: String)], environment: JournalEnvironment
    ) throws {
        try connection.execute("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL")
        try connection.withTransaction {
            let tables = Set(try connection.tableNames())
            if !tables.isEmpty {
                guard tables.isSuperset(of: ["journal_meta", "journal_events", "journal_lock"]) else { throw JournalError.exists(path) }
                let events = try connection.prepare("SELECT 1 FROM journal_events LIMIT 1")
                if try events.step() { throw JournalError.exists(path) }
                let lock = try connection.prepare("SELECT host, pid FROM journal_lock")
                if try lock.step() {
                    let holder = LockHolder(host: lock.text(at: 0), pid: Int32(truncatingIfNeeded: lock.int64(at: 1)), startedAt: 0, runId: "")
                    if environment.host() != holder.host || kill(holder.pid, 0) == 0 || errno == EPERM { throw JournalError.exists(path) }
                }
                try connection.execute(
                    "DROP TABLE journal_events; DROP TABLE journal_lock; DROP TABLE journal_meta; DROP TABLE IF EXISTS journal_variables")
            }
            try writeContents(connection, meta: meta, genesis: genesis, variables: variables)
        }
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `fsync` of a file sessmigrate just wrote.
    private static func syncFile(_ file: String, journal: String) throws {
        let descriptor = posixOpen(file, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { _ = posixClose(descriptor) }
            throw JournalError(code: .io, message: "cannot sync journal \(journal): \(reason)")
        }
        _ = posixClose(descriptor)
    }

    /// Makes a directory entry durable (`fsync` of the directory), so a power loss right after the
    /// first append cannot lose the whole journal.
    static func syncDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = posixOpen(directory, O_RDONLY | O_CLOEXEC, 0)
        guard descriptor >= 0 else { return }
        // Some file systems refuse fsync on a directory (EINVAL); the entry is then as durable as they allow.
        _ = fsync(descriptor)
        _ = posixClose(descriptor)
    }

    /// Removes `PREFIX<host>-<pid>-…` files (and their `-journal`) of creators on this host that are gone.
    private static func removeLeftovers(in directory: String, prefix: String) {
        let host = JournalEnvironment.currentHost()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(prefix + host + "-") {
            let rest = name.dropFirst(prefix.count + host.count + 1)
            guard let pid = Int32(rest.prefix { $0.isNumber }), pid > 0, kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = unlink(directory + "/" + name)
        }
    }
}
