internal import CHiredis
import DriverCore

/// The byte pipe under a ``RedisConnection``: a ``RedisSocket``, TLS through a ``RedisTLSSession``
/// when asked, and hiredis' ``RedisReader`` for the replies. Plaintext and TLS share everything
/// but the session.
///
/// An exchange writes a whole pipeline while reading replies as they come (so neither side's
/// buffers can fill up and stall the other), and fails with `timeout` when nothing moves for the
/// reply timeout. After any error the transport is unusable (the stream position is lost).
final class RedisTransport {
    private let socket: RedisSocket
    private let tls: RedisTLSSession?
    private let reader: RedisReader
    private let received: UnsafeMutableRawBufferPointer
    private var failure: RedisError?
    /// TLS records OpenSSL wrote after the last request went out (a key update answer): sent first next time.
    private var leftover = RedisByteQueue()
    /// Whether any byte ever came back: a server closing a fresh plaintext connection without a
    /// word is usually a TLS port.
    private var heardFromServer = false

    /// Reads of 16 KiB, as hiredis does (and the largest TLS record).
    private static let readSize = 16 << 10
    /// Request bytes encrypted at a time.
    private static let sealSize = 64 << 10

    /// Connects (and runs the TLS handshake when `tls` is given) within `connectTimeout` seconds.
    init(_ endpoint: RedisEndpoint, tls options: RedisTLSOptions?, connectTimeout: Double) throws {
        let deadline = RedisDeadline(seconds: connectTimeout)
        var session: RedisTLSSession?
        if let options {
            guard case .tcp(let host, _) = endpoint else {
                throw RedisError(
                    code: .unsupported, message: "TLS over a Unix socket is not supported (Redis serves its socket in plaintext)",
                    context: "connect \(endpoint)")
            }
            session = try RedisTLSSession(options: options, host: host, peer: endpoint.description)
        }
        let socket = try RedisSocket.connect(endpoint, deadline: deadline)
        try session?.handshake(over: socket, deadline: deadline)
        (self.socket, self.tls) = (socket, session)
        reader = try RedisReader()
        received = .allocate(byteCount: Self.readSize, alignment: 16)
    }

    deinit {
        socket.close()
        received.deallocate()
    }

    /// `TLS (TLSv1.3, TLS_AES_256_GCM_SHA384)` or `plaintext`.
    var negotiated: String {
        tls.map { "TLS (\($0.negotiated))" } ?? "plaintext"
    }

    /// Closes the socket; later exchanges throw.
    func close() {
        socket.close()
        if failure == nil {
            failure = RedisError(code: .connectionFailed, message: "the connection is closed", context: socket.peer)
        }
    }

    /// Throws the error that made the transport unusable, if any.
    func checkUsable() throws {
        if let failure { throw failure }
    }

    /// Sends `request` (formatted commands) and returns the next `count` replies.
    ///
    /// - Parameter timeout: seconds without any progress (a byte sent or received) before failing
    ///   with `timeout`; `nil` waits forever.
    func exchange(_ request: [UInt8], count: Int, timeout: Double?, context: String) throws -> [RedisReply] {
        try checkUsable()
        do {
            return try run(request, count: count, timeout: timeout, context: context)
        } catch let error as RedisError {
            failure = error
            socket.close()
            throw error
        }
    }

    private func run(_ request: [UInt8], count: Int, timeout: Double?, context: String) throws -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        var outgoing = leftover
        leftover = RedisByteQueue()
        if tls == nil { outgoing.append(request) }
        var sealed = 0
        var deadline = RedisDeadline(seconds: timeout)
        while replies.count < count {
            var moved = false
            if let tls, outgoing.isEmpty, sealed < request.count {
                let end = min(request.count, sealed + Self.sealSize)
                try request.withUnsafeBytes { try tls.seal(UnsafeRawBufferPointer(rebasing: $0[sealed..<end]), into: &outgoing) }
                sealed = end
            }
            if !outgoing.isEmpty {
                let sent: Int
                do {
                    sent = try outgoing.withPending { try socket.send($0, step: context) }
                } catch let error as RedisError {
                    throw explained(error, context: context)
                }
                outgoing.consume(sent)
                moved = sent > 0
            }
            if try receive(into: &replies, outgoing: &outgoing, context: context) { moved = true }
            if moved {
                deadline = RedisDeadline(seconds: timeout)
            } else if try !socket.wait(readable: true, writable: !outgoing.isEmpty, deadline: deadline) {
                throw RedisError(code: .timeout, hiredisError: REDIS_ERR_IO, message: "no reply within \(timeout ?? 0) s", context: context)
            }
        }
        if reader.hasPendingBytes || replies.count > count {
            throw RedisError(code: .query, hiredisError: REDIS_ERR_PROTOCOL, message: "more replies than commands", context: context)
        }
        leftover = outgoing
        return replies
    }

    /// Reads what has arrived into the reader and collects finished replies; false when nothing came.
    private func receive(into replies: inout [RedisReply], outgoing: inout RedisByteQueue, context: String) throws -> Bool {
        let outcome: RedisSocket.Received
        do {
            outcome = try socket.receive(into: received, step: context)
        } catch let error as RedisError {
            throw explained(error, context: context)
        }
        switch outcome {
        case .wouldBlock:
            return false
        case .closed:
            throw explained(
                RedisError(code: .connectionFailed, hiredisError: REDIS_ERR_EOF, message: "server closed the connection", context: context),
                context: context)
        case .bytes(let count):
            heardFromServer = true
            let bytes = UnsafeRawBufferPointer(rebasing: received[..<count])
            if let tls { try tls.open(bytes, into: reader, outgoing: &outgoing) } else { try reader.feed(bytes) }
            while let reply = try reader.next(context: context) { replies.append(reply) }
            return true
        }
    }
}

extension RedisTransport {
    /// A connection closed or reset before the server said anything, explained: a TLS port closes a
    /// plaintext connection at its first bytes; a server that requires a client certificate closes a
    /// TLS connection that asked for one and got none (TLS 1.3 reports it after the handshake, and
    /// the alert is often lost to the reset), which is not transient.
    private func explained(_ error: RedisError, context: String) -> RedisError {
        guard error.code == .connectionFailed, !heardFromServer else { return error }
        guard let tls else {
            var explained = error
            explained.message += " before any reply (if this port expects TLS, use rediss://)"
            return explained
        }
        guard tls.certificateRequestedButNotGiven else { return error }
        return RedisError(
            code: .authentication,
            message: "the server asked for a client certificate, none was given, and it closed the connection: "
                + "it requires one (ssl_certfile and ssl_keyfile)",
            context: context)
    }
}

@available(*, unavailable)
extension RedisTransport: Sendable {}

/// Bytes waiting to be sent, consumed from the front without moving the rest each time.
struct RedisByteQueue {
    private var storage: [UInt8]
    private var start = 0

    init(_ bytes: [UInt8] = []) {
        storage = bytes
    }

    var isEmpty: Bool { start == storage.count }

    /// Calls `body` with the bytes not yet consumed.
    func withPending<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Drops `count` bytes from the front.
    mutating func consume(_ count: Int) {
        start += count
        if start == storage.count {
            // Not removeAll(keepingCapacity:): a plaintext request shares its buffer with the caller.
            storage = []
            start = 0
        }
    }

    /// Appends `bytes` (without copying them when the queue is empty).
    mutating func append(_ bytes: [UInt8]) {
        if isEmpty { (storage, start) = (bytes, 0) } else { storage.append(contentsOf: bytes) }
    }

    /// Appends up to `count` bytes written by `fill`, which returns how many it wrote.
    mutating func append(count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) {
        // Whole-buffer copies only: element-wise appends are slow in debug builds.
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = min(count, fill(UnsafeMutableRawBufferPointer(buffer)))
        }
        append(bytes)
    }
}
