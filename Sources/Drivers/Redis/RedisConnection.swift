import DriverCore

/// One blocking connection to a Redis server (RESP2), plaintext or TLS.
///
/// The transport is our own (``RedisTransport``): a non-blocking socket, OpenSSL 3 over memory
/// buffers for `rediss://` (hiredis 0.14 has no TLS), and hiredis' reply
/// reader for both, so every reply is parsed by the same code. A connection must be used by one
/// thread at a time, so this class is not `Sendable`. After an I/O or protocol error the
/// connection is unusable and every later call throws; open a new connection.
///
/// Related hiredis documentation: <https://github.com/redis/hiredis/tree/v0.14.1#reply-parsing-api>
public final class RedisConnection {
    private let transport: RedisTransport
    /// Where this connection goes, for messages.
    public let endpoint: RedisEndpoint
    private let secret: String?
    private let commandTimeout: Double?
    private let tls: RedisTLSOptions?

    private init(transport: RedisTransport, endpoint: RedisEndpoint, options: RedisConnectionOptions) {
        self.transport = transport
        self.endpoint = endpoint
        self.secret = options.password
        self.commandTimeout = options.commandTimeout
        self.tls = options.tls
    }

    deinit {
        // Last resort: callers are expected to call close().
        transport.close()
    }

    /// Connects to `host:port`, then authenticates and selects the database.
    public static func open(host: String, port: Int, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        try open(.tcp(host: host, port: port), options: options)
    }

    /// Connects through a Unix domain socket, then authenticates and selects the database.
    public static func open(socketPath: String, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        try open(.unixSocket(path: socketPath), options: options)
    }

    /// Connects to `endpoint` (with the TLS handshake when `options.tls` is set), then runs `AUTH`
    /// (if a password is given) and `SELECT`. A TLS connection that sends neither sends `PING`, so
    /// that a server refusing it (TLS 1.3 reports a missing client certificate after the
    /// handshake) is reported here, not by the first command.
    public static func open(_ endpoint: RedisEndpoint, options: RedisConnectionOptions = .init()) throws -> RedisConnection {
        let transport = try RedisTransport(endpoint, tls: options.tls, connectTimeout: options.connectTimeout)
        let connection = RedisConnection(transport: transport, endpoint: endpoint, options: options)
        do {
            try connection.authenticate(options)
            if options.database != 0 {
                try connection.expectOK(connection.command(["SELECT", String(options.database)]), context: "SELECT")
            } else if options.tls != nil, options.password == nil {
                if case .error(let message) = try connection.command(["PING"]) { throw connection.error(for: message, context: "PING") }
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

    /// Closes the connection. Safe to call more than once.
    public func close() {
        transport.close()
    }

    /// `TLS (TLSv1.3, TLS_AES_256_GCM_SHA384); certificate verified against ca.pem; IP address
    /// 10.0.0.3 checked against it`, or `plaintext`: for `inspect`.
    public var securityDescription: String {
        guard let tls, case .tcp(let host, _) = endpoint else { return transport.negotiated }
        return "\(transport.negotiated); \(tls.verificationSummary(host: host))"
    }

    /// Sends one command and waits for its reply. Error replies are returned as
    /// ``RedisReply/error(_:)``; only connection failures throw.
    public func command(_ arguments: [[UInt8]]) throws -> RedisReply {
        guard !arguments.isEmpty else { throw RedisError(code: .query, message: "empty command") }
        var request: [UInt8] = []
        RedisCommandFormat.append(arguments, to: &request)
        let replies = try exchange(request, count: 1, context: Self.commandName(arguments))
        guard let reply = replies.first else { throw RedisError(code: .io, message: "no reply", context: Self.commandName(arguments)) }
        return reply
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
        try transport.checkUsable()
        // A closure, not a key path: `\.isEmpty` here cost a twentieth of a time-bounded scan's client time.
        if commands.contains(where: { $0.isEmpty }) { throw RedisError(code: .query, message: "empty command in a pipeline") }
        var request: [UInt8] = []
        request.reserveCapacity(commands.reduce(0) { total, command in total + command.reduce(16) { $0 + $1.count + 16 } })
        for arguments in commands { RedisCommandFormat.append(arguments, to: &request) }
        let replies = try exchange(request, count: commands.count, context: "pipeline of \(commands.count) commands")
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

    /// The single place transport errors leave the connection: with the password scrubbed from
    /// the message as a second line of defence.
    private func exchange(_ request: [UInt8], count: Int, context: String) throws -> [RedisReply] {
        do {
            return try transport.exchange(request, count: count, timeout: commandTimeout, context: context)
        } catch var error as RedisError {
            error.message = RedisError.redact(error.message, secret: secret)
            throw error
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
