internal import CMariaDB
import DriverCore

/// The raw libmariadb connection handle; never leaves this module.
typealias MySQLHandle = UnsafeMutablePointer<MYSQL>

/// `mysql_library_init` is not thread-safe, so it runs once, before the first connection
/// (a global `let` is initialised exactly once, under a lock).
private let libraryIsInitialized: Bool = mysql_server_init(0, nil, nil) == 0

/// One connection to a MariaDB or MySQL server through libmariadb (text protocol, utf8mb4).
///
/// Synchronous: every call blocks the calling thread. Use a connection from one thread at a time;
/// it is deliberately not `Sendable`. Call ``close()`` when done; `deinit` only asserts.
///
/// While a streaming ``MySQLResult`` is open the connection is busy; issuing another statement
/// first frees that result (its `next()` then throws).
public final class MySQLConnection {
    private(set) var handle: MySQLHandle?
    /// Results not yet freed: all are freed before `mysql_close`, and a streaming one before
    /// the next statement (`mysql_free_result` reads the connection of the result).
    private var openResults: [WeakResult] = []

    private struct WeakResult {
        weak var value: MySQLResult?
    }

    private init(handle: MySQLHandle) {
        self.handle = handle
    }

    deinit {
        assert(handle == nil, "MySQLConnection was not closed before deinitializing")
        if let handle { mysql_close(handle) }
    }

    /// Connects with `utf8mb4` as the connection character set.
    ///
    /// - Parameters:
    ///   - host: Host name or address. `localhost` means the Unix socket to libmariadb; use
    ///     `127.0.0.1` for TCP.
    ///   - unixSocket: Socket path, used when `host` is `localhost` or empty (`nil`: the default).
    ///   - connectTimeout: Seconds to wait for the TCP connection and handshake.
    ///   - tls: TLS mode and files (see ``MySQLTLS``); by default TLS when the server offers it.
    /// - Throws: ``MySQLError``; its message never contains `password`. A server that does not
    ///   offer the TLS `tls` requires is ``DriverErrorCode/unsupported``; a certificate that does not
    ///   verify is ``DriverErrorCode/authentication`` (neither is transient).
    public static func open(
        host: String, port: Int, user: String, password: String, database: String,
        unixSocket: String? = nil, connectTimeout: Int = 10, tls: MySQLTLS = MySQLTLS()
    ) throws -> MySQLConnection {
        guard libraryIsInitialized else {
            throw MySQLError(code: .connectionFailed, message: "mysql_library_init failed", context: "connect")
        }
        if let problem = tls.problem { throw MySQLError(code: .unsupported, message: problem, context: "connect") }
        guard let raw = mysql_init(nil) else {
            throw MySQLError(code: .connectionFailed, message: "mysql_init: out of memory", context: "connect")
        }
        var timeout = UInt32(clamping: max(1, connectTimeout))
        mysql_options(raw, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        mysql_options(raw, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        tls.apply(to: raw)
        // An empty host with a socket path (a CloudSQL proxy socket) means the socket.
        let host = host.isEmpty && unixSocket != nil ? "localhost" : host
        let target = host == "localhost" ? unixSocket ?? "the default socket" : "\(host):\(port)"
        let clearTextAllowed = allowsClearTextPassword(host: host, tls: tls)
        if !clearTextAllowed { mysql_options(raw, MARIADB_OPT_RESTRICTED_AUTH, hashedAuthPlugins) }
        let connected = mysql_real_connect(
            raw, host, user, password, database, UInt32(clamping: port), unixSocket, 0)
        guard connected != nil else {
            // The handle is half-open: read the error, then release it.
            var error = makeError(raw, context: "connect to \(target)", secret: password)
            if tls.mode != .disabled, error.errorNumber == 2026 {
                // Not a transient failure: retrying cannot make the server prove its identity.
                error.code = error.message.contains("does not support") ? .unsupported : .authentication
                error.message = "TLS (ssl-mode=\(tls.mode.rawValue)) refused: \(error.message)"
            }
            if !clearTextAllowed, error.errorNumber == pluginNotAllowed {
                error.code = .unsupported
                error.message = clearTextRefusal
            }
            mysql_close(raw)
            throw error
        }
        let connection = MySQLConnection(handle: raw)
        if tls.requiresEncryption, connection.tlsCipher == nil {
            connection.close()
            throw MySQLError(
                code: .unsupported,
                message: "ssl-mode=\(tls.mode.rawValue) but the server does not support TLS; closed before any statement",
                context: "connect to \(target)")
        }
        return connection
    }

    /// Closes the connection (freeing any open result first). Safe to call twice.
    public func close() {
        for result in openResults { result.value?.close() }
        openResults = []
        if let handle { mysql_close(handle) }
        handle = nil
    }

    /// True until ``close()``.
    public var isOpen: Bool { handle != nil }

    /// The handle for this module's extensions; `nil` once closed.
    var rawHandle: MySQLHandle? { handle }

    // MARK: - Statements

    /// Runs a statement and discards any rows it returns.
    /// - Returns: The number of affected rows (`mysql_affected_rows`).
    @discardableResult
    public func execute(_ sql: String) throws -> UInt64 {
        var sql = sql
        return try sql.withUTF8 { try execute(raw: UnsafeRawBufferPointer($0), context: nil) }
    }

    /// Runs a statement given as UTF-8 bytes (as built by ``MySQLStatementBuilder``).
    @discardableResult
    func execute(bytes: [UInt8], context: String? = nil) throws -> UInt64 {
        try bytes.withUnsafeBytes { try execute(raw: $0, context: context) }
    }

    private func execute(raw sql: UnsafeRawBufferPointer, context: String?) throws -> UInt64 {
        let handle = try send(sql, context: context)
        if mysql_field_count(handle) > 0, let result = mysql_store_result(handle) {
            mysql_free_result(result)
        }
        try check(mysql_errno(handle) == 0, handle, sql: sql, context: context)
        return mysql_affected_rows(handle)
    }

    /// Runs a query and returns its rows.
    ///
    /// - Parameter buffered: `false` (the default) streams rows with `mysql_use_result`: memory
    ///   stays constant but the connection is busy until the result is drained or closed. `true`
    ///   reads the whole result with `mysql_store_result`; use it for bounded pages.
    public func query(_ sql: String, buffered: Bool = false) throws -> MySQLResult {
        var sql = sql
        return try sql.withUTF8 {
            try query(raw: UnsafeRawBufferPointer($0), buffered: buffered, context: nil)
        }
    }

    /// ``query(_:buffered:)`` for a statement given as UTF-8 bytes.
    func query(bytes: [UInt8], buffered: Bool = false, context: String? = nil) throws -> MySQLResult {
        try bytes.withUnsafeBytes { try query(raw: $0, buffered: buffered, context: context) }
    }

    private func query(raw sql: UnsafeRawBufferPointer, buffered: Bool, context: String?) throws -> MySQLResult {
        let handle = try send(sql, context: context)
        let label = context ?? MySQLError.context(ofSQL: String(decoding: sql.prefix(400), as: UTF8.self))
        guard mysql_field_count(handle) > 0 else {
            return MySQLResult(connection: self, result: nil, streaming: false, context: label)
        }
        let raw = buffered ? mysql_store_result(handle) : mysql_use_result(handle)
        try check(raw != nil, handle, sql: sql, context: context)
        let result = MySQLResult(connection: self, result: raw, streaming: !buffered, context: label)
        openResults.removeAll { $0.value == nil }
        openResults.append(WeakResult(value: result))
        return result
    }

    /// Frees any open result, then sends `sql`.
    private func send(_ sql: UnsafeRawBufferPointer, context: String?) throws -> MySQLHandle {
        let handle = try requireHandle()
        for result in openResults where result.value?.isStreaming == true { result.value?.close() }
        let status = mysql_real_query(handle, sql.baseAddress?.assumingMemoryBound(to: CChar.self), UInt(sql.count))
        try check(status == 0, handle, sql: sql, context: context)
        return handle
    }

    // MARK: - Transactions

    /// `START TRANSACTION`.
    public func begin() throws { try execute("START TRANSACTION") }

    /// `COMMIT`.
    public func commit() throws { try execute("COMMIT") }

    /// `ROLLBACK`.
    public func rollback() throws { try execute("ROLLBACK") }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws (the
    /// body's error is the one rethrown). With `isolation`, that transaction alone runs at that
    /// level (`SET TRANSACTION ISOLATION LEVEL …` without a scope applies to the next transaction
    /// only); the connection's own level applies to every other one.
    ///
    /// Related documentation: <https://mariadb.com/kb/en/set-transaction/>
    public func withTransaction<R>(isolation: MySQLIsolationLevel? = nil, _ body: () throws -> R) throws -> R {
        if let isolation { try execute("SET TRANSACTION ISOLATION LEVEL \(isolation.rawValue)") }
        try begin()
        do {
            let value = try body()
            try commit()
            return value
        } catch {
            try? rollback()
            throw error
        }
    }

    // MARK: - Escaping

    /// Escapes `string` for use inside a single-quoted SQL literal
    /// (`mysql_real_escape_string`, which honours the connection's charset and `NO_BACKSLASH_ESCAPES`).
    public func escape(_ string: String) throws -> String {
        var bytes: [UInt8] = []
        try appendEscaped(string, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the escaped UTF-8 bytes of `string` (without quotes) to `buffer`.
    func appendEscaped(_ string: String, to buffer: inout [UInt8]) throws {
        let handle = try requireHandle()
        var string = string
        string.withUTF8 { source in
            let from = UnsafeRawPointer(source.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: source.count * 2 + 1) { target in
                let written = mysql_real_escape_string(handle, target.baseAddress, from, UInt(source.count))
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: target.baseAddress, count: Int(written)))
            }
        }
    }

    // MARK: - Errors

    private func requireHandle() throws -> MySQLHandle {
        guard let handle else {
            throw MySQLError(code: .connectionFailed, message: "the connection is closed")
        }
        return handle
    }

    /// The single status check: throws the connection's current error unless `succeeded`.
    private func check(
        _ succeeded: Bool, _ handle: MySQLHandle, sql: UnsafeRawBufferPointer, context: String?
    ) throws {
        guard !succeeded else { return }
        let label = context ?? MySQLError.context(ofSQL: String(decoding: sql.prefix(400), as: UTF8.self))
        throw Self.makeError(handle, context: label, secret: nil)
    }

    /// Reads the connection's current error; fetching rows from a result reports errors this way.
    func currentError(context: String) -> MySQLError? {
        guard let handle, mysql_errno(handle) != 0 else { return nil }
        return Self.makeError(handle, context: context, secret: nil)
    }

    private static func makeError(_ handle: MySQLHandle, context: String, secret: String?) -> MySQLError {
        let number = mysql_errno(handle)
        let message = MySQLError.redact(String(cString: mysql_error(handle)), secret: secret)
        return MySQLError(
            code: MySQLError.code(forErrorNumber: number), errorNumber: number,
            sqlState: String(cString: mysql_sqlstate(handle)), message: message, context: context)
    }
}

@available(*, unavailable)
extension MySQLConnection: Sendable {}

// MARK: - Clear-text passwords

/// The authentication plugins allowed when the password could be seen on the way: all but the two
/// that send it in clear text (`mysql_clear_password`, which CloudSQL IAM database authentication
/// asks for, and `dialog`, PAM's). libmariadb 3.3 sends a clear-text password to any server that asks
/// for it, even with `MYSQL_OPT_SSL_ENFORCE` to a server that offers no TLS (checked with a fake
/// server in Tests/Secrets), so the list is set on every connection that is not known to be private.
///
/// Related documentation: <https://mariadb.com/kb/en/mysql_optionsv/> (`MARIADB_OPT_RESTRICTED_AUTH`)
let hashedAuthPlugins = "mysql_native_password,caching_sha2_password,sha256_password,client_ed25519,mysql_old_password"

/// True when a clear-text password cannot be seen by anyone else: over a Unix socket (host
/// `localhost`), or with `ssl-mode=verify-identity`, the one mode in which libmariadb refuses a server
/// without TLS (or with a certificate for another name) before anything is sent. `required` and
/// `verify-ca` log in before they find out that the server offered no TLS.
func allowsClearTextPassword(host: String, tls: MySQLTLS) -> Bool {
    host == "localhost" || tls.mode == .verifyIdentity
}

/// `CR_PLUGIN_NOT_ALLOWED` (errmsg.h): the server asked for a plugin outside `hashedAuthPlugins`.
let pluginNotAllowed: UInt32 = 5010

let clearTextRefusal =
    "the server asks for the password in clear text (mysql_clear_password, e.g. CloudSQL IAM database authentication); "
    + "sessmigrate sends it only over a Unix socket (?socket=, e.g. the Cloud SQL Auth Proxy's) or with "
    + "ssl-mode=verify-identity, never where it could be read on the way"

/// An InnoDB transaction isolation level (``MySQLConnection/withTransaction(isolation:_:)``).
public enum MySQLIsolationLevel: String, Sendable {
    /// Each statement reads the latest committed rows; a locking read locks the rows it finds and
    /// no gaps (a key with no row is not locked).
    case readCommitted = "READ COMMITTED"
    /// One snapshot per transaction; a locking read also locks the gaps it scans (next-key locks).
    case repeatableRead = "REPEATABLE READ"
}
