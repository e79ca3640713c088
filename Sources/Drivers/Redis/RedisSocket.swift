internal import CHiredis
import DriverCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One connected stream socket to a Redis server (TCP or a Unix domain socket), non-blocking,
/// owned here and closed in exactly one place (``close()``, or `deinit` as a last resort).
///
/// Every system call of the Redis transport is made here, for plaintext and TLS alike: TLS runs
/// over memory buffers (see ``RedisTLSSession``), so OpenSSL never touches the descriptor. Writes
/// use `MSG_NOSIGNAL`: a server that closed the connection is an error, never a `SIGPIPE`.
final class RedisSocket {
    private var descriptor: Int32
    /// `host:port` or `unix:PATH`, for messages.
    let peer: String

    private init(descriptor: Int32, peer: String) {
        self.descriptor = descriptor
        self.peer = peer
    }

    deinit { close() }

    /// What a non-blocking read found.
    enum Received {
        case bytes(Int)
        case wouldBlock
        case closed
    }

    /// Connects to `endpoint` within `deadline` (a TCP host is resolved first and each address is
    /// tried in turn, as hiredis does). `TCP_NODELAY` is set: pipelines are written whole.
    static func connect(_ endpoint: RedisEndpoint, deadline: RedisDeadline) throws -> RedisSocket {
        switch endpoint {
        case .unixSocket(let path): return try connectUnix(path: path, deadline: deadline, peer: endpoint.description)
        case .tcp(let host, let port): return try connectTCP(host: host, port: port, deadline: deadline, peer: endpoint.description)
        }
    }

    private static func connectTCP(host: String, port: Int, deadline: RedisDeadline, peer: String) throws -> RedisSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw RedisError(code: .connectionFailed, hiredisError: REDIS_ERR_OTHER, message: "cannot resolve \(host): \(reason)", context: "connect \(peer)")
        }
        defer { freeaddrinfo(list) }
        var lastError = RedisError(code: .connectionFailed, message: "no address for \(host)", context: "connect \(peer)")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                let socket = try open(family: info.pointee.ai_family, peer: peer)
                try socket.finishConnect(info.pointee.ai_addr, info.pointee.ai_addrlen, deadline: deadline)
                var yes: Int32 = 1
                // Best effort: a socket without TCP_NODELAY is only slower.
                _ = setsockopt(socket.descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                return socket
            } catch let error as RedisError {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connectUnix(path: String, deadline: RedisDeadline, peer: String) throws -> RedisSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity else {
            throw RedisError(code: .connectionFailed, message: "socket path is longer than \(capacity - 1) bytes", context: "connect \(peer)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let socket = try open(family: AF_UNIX, peer: peer)
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                try socket.finishConnect(raw, socklen_t(MemoryLayout<sockaddr_un>.size), deadline: deadline)
            }
        }
        return socket
    }

    private static func open(family: Int32, peer: String) throws -> RedisSocket {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw systemError(errno, step: "connect \(peer)") }
        return RedisSocket(descriptor: descriptor, peer: peer)
    }

    /// A non-blocking `connect`, waited for until `deadline`.
    private func finishConnect(_ address: UnsafePointer<sockaddr>?, _ length: socklen_t, deadline: RedisDeadline) throws {
        let step = "connect \(peer)"
        if Glibc.connect(descriptor, address, length) == 0 { return }
        guard errno == EINPROGRESS else { throw Self.systemError(errno, step: step) }
        guard try wait(readable: false, writable: true, deadline: deadline) else {
            throw RedisError(code: .timeout, hiredisError: REDIS_ERR_IO, message: "Connection timed out", context: step)
        }
        var failure: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &size) == 0 else { throw Self.systemError(errno, step: step) }
        if failure != 0 { throw Self.systemError(failure, step: step) }
    }

    /// Writes what the kernel takes now; 0 when it takes nothing (the socket buffer is full).
    func send(_ bytes: UnsafeRawBufferPointer, step: String) throws -> Int {
        guard !bytes.isEmpty else { return 0 }
        while true {
            let written = Glibc.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if written >= 0 { return written }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: throw Self.systemError(errno, step: step)
            }
        }
    }

    /// Reads what has arrived, without waiting.
    func receive(into buffer: UnsafeMutableRawBufferPointer, step: String) throws -> Received {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw Self.systemError(errno, step: step)
            }
        }
    }

    /// Waits until the socket is readable (or writable, when asked) or `deadline` passes;
    /// false on the deadline. Errors and hang-ups count as ready (the next call reports them).
    func wait(readable: Bool, writable: Bool, deadline: RedisDeadline) throws -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16((readable ? POLLIN : 0) | (writable ? POLLOUT : 0)), revents: 0)
        while true {
            let ready = poll(&entry, 1, deadline.pollMilliseconds())
            if ready > 0 { return true }
            if ready == 0 {
                if deadline.hasPassed { return false }
                continue
            }
            if errno != EINTR { throw Self.systemError(errno, step: "poll \(peer)") }
        }
    }

    /// Closes the descriptor. Safe to call more than once.
    func close() {
        guard descriptor >= 0 else { return }
        // The descriptor is gone whatever close(2) says; nothing is left to retry.
        _ = Glibc.close(descriptor)
        descriptor = -1
    }

    /// An error for `code` (an errno value): refused, reset and unreachable are connection
    /// failures, timeouts are timeouts; all of them transient.
    static func systemError(_ code: Int32, step: String) -> RedisError {
        let message = String(cString: strerror(code))
        let kind: DriverErrorCode = code == ETIMEDOUT ? .timeout : .connectionFailed
        return RedisError(code: kind, hiredisError: REDIS_ERR_IO, message: message, context: step)
    }
}

@available(*, unavailable)
extension RedisSocket: Sendable {}

/// A point in time to wait until, or none (wait forever), on the monotonic clock.
struct RedisDeadline {
    private let end: Double?

    /// `seconds` from now; `nil` never passes.
    init(seconds: Double?) {
        end = seconds.map { Self.now() + max(0, $0) }
    }

    var hasPassed: Bool { end.map { Self.now() >= $0 } ?? false }

    /// Milliseconds left for `poll` (rounded up; -1 for none).
    func pollMilliseconds() -> Int32 {
        guard let end else { return -1 }
        let left = (end - Self.now()) * 1000
        return Int32(clamping: Int(max(0, left.rounded(.up))))
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
