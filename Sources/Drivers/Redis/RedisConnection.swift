internal import CHiredis
import DriverCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hiredis context pointer; never leaves this module.
typealias RedisContextPointer = UnsafeMutablePointer<redisContext>

/// One blocking connection to a Redis server through hiredis 0.14 (RESP2, no TLS).
///
/// Owns its `redisContext` and frees it in ``close()`` (or, as a last resort, in `deinit`).
/// A hiredis context must be used by one thread at a time, so this class is not `Sendable`.
/// Once hiredis reports an I/O or protocol error the context is unusable and every later call
/// throws; open a new connection.
///
/// Related hiredis documentation: <https://github.com/redis/hiredis/tree/v0.14.1#synchronous-api>
public final class RedisConnection {
    private var context: RedisContextPointer?
    /// Where this connection goes, for messages.
    public let endpoint: RedisEndpoint
    private let secret: String?

    private init(context: RedisContextPointer, endpoint: RedisEndpoint, secret: String?) {
        self.context = context
        self.endpoint = endpoint
        self.secret = secret
    }

    deinit {
        // Last resort: callers are expected to call close().
        if let context { redisFree(context) }
    }

    /// Connects to `host:port`, then authenticates and selects the database.
    public static func open(host: String, port: Int, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        try open(.tcp(host: host, port: port), options: options)
    }

    /// Connects through a Unix domain socket, then authenticates and selects the database.
    public static func open(socketPath: String, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        try open(.unixSocket(path: socketPath), options: options)
    }

    /// Connects to `endpoint`, then runs `AUTH` (if a password is given) and `SELECT`.
    public static func open(_ endpoint: RedisEndpoint, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        let step = "connect \(endpoint)"
        let timeout = timeval(seconds: options.connectTimeout)
        let raw: RedisContextPointer? =
            switch endpoint {
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(clamping: port), timeout)
            case .unixSocket(let path): redisConnectUnixWithTimeout(path, timeout)
            }
        guard let raw else {
            throw RedisError(code: .connectionFailed, message: "hiredis could not allocate a context", context: step)
        }
        let connection = RedisConnection(context: raw, endpoint: endpoint, secret: options.password)
        do {
            try connection.check(raw.pointee.err == 0 ? REDIS_OK : REDIS_ERR, context: step, connecting: true)
            if let seconds = options.commandTimeout {
                try connection.check(redisSetTimeout(raw, timeval(seconds: seconds)), context: step, connecting: true)
            }
            try connection.authenticate(options)
            if options.database != 0 {
                try connection.expectOK(connection.command(["SELECT", String(options.database)]), context: "SELECT")
            }
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private func authenticate(_ options: RedisConnectionOptions) throws {
        guard let password = options.password else { return }
        var arguments: [[UInt8]] = [Array("AUTH".utf8)]
        if let username = options.username { arguments.append(Array(username.utf8)) }
        arguments.append(Array(password.utf8))
        let reply = try command(arguments)
        if case .error(let message) = reply {
            var error = RedisError.server(message, context: "AUTH", secret: secret)
            error.code = .authentication
            throw error
        }
        try expectOK(reply, context: "AUTH")
    }

    /// Frees the hiredis context. Safe to call more than once.
    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Sends one command and waits for its reply. Error replies are returned as
    /// ``RedisReply/error(_:)``; only connection failures throw.
    public func command(_ arguments: [[UInt8]]) throws -> RedisReply {
        let context = try liveContext()
        let name = Self.commandName(arguments)
        guard !arguments.isEmpty else { throw RedisError(code: .query, message: "empty command") }
        let raw = RedisArgv.with(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        } ?? nil
        guard let raw else {
            try check(REDIS_ERR, context: name)
            throw RedisError(code: .io, message: "no reply", context: name)
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return RedisReply(copying: reply)
    }

    /// ``command(_:)`` with string arguments (UTF-8).
    public func command(_ arguments: [String]) throws -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends all commands in one write, then reads one reply per command, in order.
    /// Error replies are returned in place; connection failures throw, and so does a server that
    /// is not ready (`LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN`: a transient ``RedisError``), once
    /// every reply is read, so such a reply is never taken for data.
    public func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let context = try liveContext()
        if commands.contains(where: \.isEmpty) { throw RedisError(code: .query, message: "empty command in a pipeline") }
        for arguments in commands {
            let status = RedisArgv.with(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            } ?? REDIS_ERR
            try check(status, context: "pipeline of \(commands.count) commands")
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for arguments in commands {
            var raw: UnsafeMutableRawPointer?
            let status = redisGetReply(context, &raw)
            defer { if let raw { freeReplyObject(raw) } }
            try check(status, context: Self.commandName(arguments))
            guard let raw else { throw RedisError(code: .io, message: "no reply", context: Self.commandName(arguments)) }
            replies.append(RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self)))
        }
        for (arguments, reply) in zip(commands, replies) {
            if case .error(let message) = reply, RedisError.notReadyPrefixes.contains(String(message.prefix { $0 != " " })) {
                throw RedisError.server(message, context: Self.commandName(arguments), secret: secret)
            }
        }
        return replies
    }

    /// Throws unless `reply` is the status `OK`.
    public func expectOK(_ reply: RedisReply, context: String) throws {
        switch reply {
        case .status("OK"): return
        case .error(let message): throw RedisError.server(message, context: context, secret: secret)
        default: throw RedisError(code: .query, message: "unexpected reply \(reply.kind)", context: context)
        }
    }

    /// A server error reply as an error, with the password scrubbed.
    func error(for reply: String, context: String) -> RedisError {
        RedisError.server(reply, context: context, secret: secret)
    }

    private func liveContext() throws -> RedisContextPointer {
        guard let context else {
            throw RedisError(code: .connectionFailed, message: "the connection is closed", context: "\(endpoint)")
        }
        try check(context.pointee.err == 0 ? REDIS_OK : REDIS_ERR, context: "\(endpoint)")
        return context
    }

    /// The single place hiredis statuses become errors.
    private func check(_ status: Int32, context step: String, connecting: Bool = false) throws {
        guard status != REDIS_OK else { return }
        let savedErrno = errno
        guard let context else {
            throw RedisError(code: .connectionFailed, message: "the connection is closed", context: step)
        }
        let err = context.pointee.err
        let message = RedisError.redact(Self.errorText(context), secret: secret)
        let timedOut = err == REDIS_ERR_IO
            && (savedErrno == EAGAIN || savedErrno == EWOULDBLOCK || savedErrno == ETIMEDOUT
                || message.contains("timed out") || message.contains("temporarily unavailable"))
        let code: DriverErrorCode =
            if timedOut { .timeout }
            else if connecting || err == REDIS_ERR_IO || err == REDIS_ERR_EOF { .connectionFailed }
            else if err == REDIS_ERR_OOM { .io }
            else { .query }
        throw RedisError(code: code, hiredisError: err, message: message.isEmpty ? "hiredis error \(err)" : message, context: step)
    }

    private static func errorText(_ context: RedisContextPointer) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The command's name for messages (the first argument, at most 32 bytes); never its arguments.
    static func commandName(_ arguments: [[UInt8]]) -> String {
        guard let first = arguments.first else { return "empty command" }
        return String(decoding: first.prefix(32), as: UTF8.self).uppercased()
    }
}

@available(*, unavailable)
extension RedisConnection: Sendable {}

extension RedisReply {
    /// The reply's kind, for messages (never its content).
    var kind: String {
        switch self {
        case .string: "bulk string"
        case .integer: "integer"
        case .array: "array"
        case .null: "nil"
        case .status: "status"
        case .error: "error"
        }
    }
}
