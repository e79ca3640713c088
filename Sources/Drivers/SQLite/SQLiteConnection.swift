internal import CSQLite
import DriverCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One open SQLite database file: the single owner of a `sqlite3*` handle.
///
/// Synchronous and confined to one thread at a time. Call ``close()`` when done; `deinit` closes
/// as a last resort and asserts in debug builds that ``close()`` was called. Every connection runs
/// `PRAGMA foreign_keys=ON` (as ADK does), uses a 32 MiB page cache, and waits up to 5 s for locks
/// held by other processes. The journal mode is left as the file has it (ADK uses the default).
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/open.html>
public final class SQLiteConnection {
    /// How a file is opened.
    public enum Mode: Sendable {
        /// Read only; a missing file is an error.
        case readOnly
        /// Read and write an existing file; a missing file is an error.
        case readWrite
        /// Read and write, creating the file when it does not exist.
        case create
    }

    /// The raw handle; `nil` once closed.
    private(set) var handle: OpaquePointer?
    /// The path the connection was opened with.
    public let path: String
    /// Group commits, when begun (SQLiteConnection+Groups.swift).
    var groups = WriteGroupLedger()

    private init(handle: OpaquePointer, path: String) {
        self.handle = handle
        self.path = path
    }

    /// Opens `path` (a plain file path, never a URI).
    ///
    /// - Throws: ``SQLiteError`` with ``DriverErrorCode/notFound`` when the file is missing and
    ///   `mode` is not `.create`, ``DriverErrorCode/corrupt`` when it is not a SQLite database,
    ///   ``DriverErrorCode/connectionFailed`` when it cannot be opened.
    public static func open(path: String, mode: Mode) throws(SQLiteError) -> SQLiteConnection {
        if mode != .create, !fileExists(path) {
            throw SQLiteError(code: .notFound, message: "no SQLite file at \(path)")
        }
        if mode == .create { try createPrivateFile(path) }
        var flags = SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        var raw: OpaquePointer?
        let status = sqlite3_open_v2(path, &raw, flags, nil)
        guard status == SQLITE_OK, let raw else {
            let message = raw.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
            // "Whether or not an error occurs when it is opened, resources associated with the
            // database connection handle should be released by passing it to sqlite3_close()."
            sqlite3_close(raw)
            throw SQLiteError(resultCode: status, message: "cannot open \(path): \(message)", statement: nil)
        }
        let connection = SQLiteConnection(handle: raw, path: path)
        do {
            try connection.check(sqlite3_busy_handler(raw, busyRetry, nil))
            // A file this opening may create gets 16 KiB pages (SQLite's default is 4 KiB): the bench's
            // 200,000 events went in at 165,000-167,000 rows/s against 103,000-131,000 (Python, one
            // transaction), with a quarter of the write calls. An existing database keeps its page size
            // (SQLite ignores the pragma once a table exists).
            if mode == .create { try connection.execute("PRAGMA page_size=\(Self.newFilePageSize)") }
            try connection.execute("PRAGMA foreign_keys=ON")
            // A 32 MiB page cache (default 2 MiB) halves the I/O of large batches; per connection,
            // nothing is stored in the file.
            try connection.execute("PRAGMA cache_size=-32768")
            try connection.check(registerShardFunction(raw))
            // Reading the schema now makes a file that is not a database fail at open.
            _ = try connection.tableNames()
        } catch {
            try? connection.close()  // The open error is the one to report.
            throw error
        }
        return connection
    }

    /// The page size of a database file a ``Mode/create`` opening makes.
    public static let newFilePageSize = 16_384

    /// How long a statement waits for another connection's write lock before failing with
    /// `SQLITE_BUSY`: 5 s, polled every ``busyPollMicroseconds``.
    static let busyWaitMicroseconds: Int32 = 5_000_000
    static let busyPollMicroseconds: Int32 = 250

    /// Closes the handle. Committed transactions are already durable (SQLite's default
    /// rollback journal with `synchronous=FULL`), so the file can be renamed or copied afterwards.
    /// Statements still alive keep the handle open until they are released (`sqlite3_close_v2`).
    public func close() throws(SQLiteError) {
        guard let handle else { return }
        // What the open group holds was written whole, call by call: committed, as without groups.
        let committing: SQLiteError?
        do {
            try commitGroup()
            committing = nil
        } catch { committing = error }
        let status = sqlite3_close_v2(handle)
        self.handle = nil
        if status != SQLITE_OK {
            throw SQLiteError(resultCode: status, message: String(cString: sqlite3_errstr(status)), statement: nil)
        }
        if let committing { throw committing }
    }

    deinit {
        assert(handle == nil, "SQLiteConnection was not closed before deinitializing")
        if let handle { sqlite3_close_v2(handle) }
    }

    /// The open handle, or an error once closed.
    func openHandle() throws(SQLiteError) -> OpaquePointer {
        guard let handle else { throw SQLiteError(code: .connectionFailed, message: "connection to \(path) is closed") }
        return handle
    }

    /// SQLite's message for the last failure on this connection.
    func lastErrorMessage(_ resultCode: Int32) -> String {
        guard let handle else { return String(cString: sqlite3_errstr(resultCode)) }
        return String(cString: sqlite3_errmsg(handle))
    }

    /// Compiles one statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(connection: self, sql: sql)
    }

    /// Runs one or more statements that take no parameters and return no rows of interest.
    public func execute(_ sql: String) throws(SQLiteError) {
        let handle = try openHandle()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard status == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage(status)
            throw SQLiteError(resultCode: status, message: message, statement: sql)
        }
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` by default, so the write lock is taken up
    /// front), commits when it returns and rolls back when it throws. With group commits begun, an
    /// immediate transaction is a savepoint of the open group instead (``groupedTransaction(seconds:_:)``).
    public func withTransaction<R>(immediate: Bool = true, _ body: () throws -> R) throws -> R {
        if immediate, let seconds = groups.seconds { return try groupedTransaction(seconds: seconds, body) }
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        let result: R
        do {
            result = try body()
        } catch {
            // The body's error is the one to report; a failed rollback leaves nothing to undo
            // because SQLite rolls back on its own when the transaction cannot continue.
            try? execute("ROLLBACK")
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        return result
    }

    /// Runs `body` in a read transaction (`BEGIN`, deferred: the first read takes a shared lock
    /// that lasts until `COMMIT`), so all its reads see the file as of one moment; inside a
    /// transaction already open on this connection, `body` just runs in it.
    public func withReadTransaction<R>(_ body: () throws -> R) throws -> R {
        guard let handle, sqlite3_get_autocommit(handle) != 0 else { return try body() }
        return try withTransaction(immediate: false, body)
    }

    /// Names of the user tables, sorted.
    public func tableNames() throws(SQLiteError) -> [String] {
        let statement = try prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        var names: [String] = []
        while try statement.step() { names.append(statement.text(at: 0)) }
        return names
    }

    /// Columns of `table` with their declared types (`PRAGMA table_info`), in table order; empty
    /// when the table does not exist.
    public func columns(of table: String) throws(SQLiteError) -> [(name: String, declaredType: String)] {
        let statement = try prepare("SELECT name, type FROM pragma_table_info(?) ORDER BY cid")
        try statement.bind(table, at: 1)
        var columns: [(name: String, declaredType: String)] = []
        while try statement.step() { columns.append((statement.text(at: 0), statement.text(at: 1))) }
        return columns
    }

    /// Runs `PRAGMA integrity_check` and returns the problems found; empty when the file is sound.
    public func integrityCheck() throws(SQLiteError) -> [String] {
        let statement = try prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.text(at: 0)) }
        return lines == ["ok"] ? [] : lines
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int {
        handle.map { Int(sqlite3_changes64($0)) } ?? 0
    }

    /// Creates `path` with mode 0600 whatever the umask, unless it exists: session data is private.
    /// SQLite gives its `-journal`, `-wal` and `-shm` files the mode of the database file.
    private static func createPrivateFile(_ path: String) throws(SQLiteError) {
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return }
            throw SQLiteError(code: .io, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { _ = Glibc.close(descriptor) }  // Nothing was written through it.
        // The umask may only have removed bits; set the mode exactly.
        guard fchmod(descriptor, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            _ = unlink(path)
            throw SQLiteError(code: .io, message: "cannot set the mode of \(path): \(reason)")
        }
    }

    private static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}

@available(*, unavailable)
extension SQLiteConnection: Sendable {}

/// Registers the shard functions every store evaluates, so a shard (``Shard``) is selected in SQL:
/// `sessmigrate_crc32(text)`, the CRC-32 of the text's UTF-8 bytes (``CRC32``; `sessmigrate_crc32(id)
/// % N = i`), and `sessmigrate_slot(text)`, the Redis Cluster hash slot of those bytes
/// (``RedisHashSlot``, hash tags included; `sessmigrate_slot(key) * N / 16384 = i`). NULL for NULL.
private func registerShardFunction(_ handle: OpaquePointer) -> Int32 {
    let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS
    let crc = sqlite3_create_function_v2(
        handle, "sessmigrate_crc32", 1, flags, nil,
        { context, count, values in resultOfText(context, count, values) { Int64(CRC32.checksum($0)) } }, nil, nil, nil)
    guard crc == SQLITE_OK else { return crc }
    return sqlite3_create_function_v2(
        handle, "sessmigrate_slot", 1, flags, nil,
        { context, count, values in resultOfText(context, count, values) { Int64(RedisHashSlot.slot(of: $0)) } }, nil, nil, nil)
}

/// Sets a one-argument SQL function's result to `compute` of its text's bytes, or NULL for NULL.
private func resultOfText(
    _ context: OpaquePointer?, _ count: Int32, _ values: UnsafeMutablePointer<OpaquePointer?>?, _ compute: (UnsafeBufferPointer<UInt8>) -> Int64
) {
    guard count == 1, let value = values?[0], sqlite3_value_type(value) != SQLITE_NULL else {
        sqlite3_result_null(context)
        return
    }
    let length = Int(sqlite3_value_bytes(value))
    let bytes = sqlite3_value_text(value).map { UnsafeBufferPointer(start: $0, count: length) } ?? UnsafeBufferPointer(start: nil, count: 0)
    sqlite3_result_int64(context, compute(bytes))
}

/// The busy handler of every connection: retries every 0.25 ms for up to 5 s. SQLite's own
/// (`sqlite3_busy_timeout`) sleeps 1, 2, 5 … 100 ms between tries, so a copy's workers writing one
/// file (each its own connection, taking turns at the write lock that is held a few milliseconds a
/// batch) slept 16 ms a wait on average, 2.2 s of a 10,000-session copy with 2 workers.
private func busyRetry(_ context: UnsafeMutableRawPointer?, _ tries: Int32) -> Int32 {
    guard tries < SQLiteConnection.busyWaitMicroseconds / SQLiteConnection.busyPollMicroseconds else { return 0 }
    usleep(useconds_t(SQLiteConnection.busyPollMicroseconds))
    return 1
}
