internal import CHiredis
internal import COpenSSL
import DriverCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One TLS client session (`SSL`) over memory buffers: the handshake, then ``seal(_:into:)`` turns
/// request bytes into records to send and ``open(_:into:outgoing:)`` turns received records into
/// reply bytes. ``RedisSocket`` does all the I/O, so timeouts, `MSG_NOSIGNAL` and error mapping are
/// the same as for plaintext, and OpenSSL never blocks. Owns the `SSL` (which owns its two memory
/// BIOs) and frees it in `deinit`.
///
/// Related OpenSSL documentation: <https://www.openssl.org/docs/man3.0/man3/SSL_set_bio.html>,
/// <https://www.openssl.org/docs/man3.0/man3/SSL_set1_host.html>
final class RedisTLSSession {
    private let ssl: OpaquePointer
    /// Records received, read by OpenSSL (owned by `ssl`).
    private let input: OpaquePointer
    /// Records OpenSSL wrote, to be sent (owned by `ssl`).
    private let output: OpaquePointer
    private let plain: UnsafeMutableRawBufferPointer
    /// Set by the context's client certificate callback (through the `SSL`'s app data).
    private let certificateRequested: UnsafeMutablePointer<Bool>
    private let host: String
    private let peer: String
    private let options: RedisTLSOptions

    /// Prepares a session to `host` (a name: SNI and, when checked, the certificate's DNS names;
    /// an IP address: no SNI, the certificate's IP addresses).
    init(options: RedisTLSOptions, host: String, peer: String) throws {
        let context = try RedisTLSContext(options: options, peer: peer)
        let step = "TLS setup for \(peer)"
        guard let ssl = SSL_new(context.context) else {
            throw RedisError(code: .io, message: "cannot create a TLS session", context: step)
        }
        guard let input = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw RedisError(code: .io, message: "cannot create TLS buffers", context: step)
        }
        guard let output = BIO_new(BIO_s_mem()) else {
            BIO_free(input)
            SSL_free(ssl)
            throw RedisError(code: .io, message: "cannot create TLS buffers", context: step)
        }
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
        (self.ssl, self.input, self.output) = (ssl, input, output)
        (self.host, self.peer, self.options) = (host, peer, options)
        plain = .allocate(byteCount: 16 << 10, alignment: 16)
        certificateRequested = .allocate(capacity: 1)
        certificateRequested.initialize(to: false)
        SSL_set_ex_data(ssl, 0, certificateRequested)
        try configureName()
    }

    deinit {
        SSL_free(ssl)
        plain.deallocate()
        certificateRequested.deallocate()
    }

    /// True when the server asked for a client certificate and none was configured.
    var certificateRequestedButNotGiven: Bool { certificateRequested.pointee }

    private func configureName() throws {
        let isIP = Self.isIPAddress(host)
        if !isIP, !host.isEmpty, copenssl_set_sni(ssl, host) != 1 {
            throw RedisError(code: .unsupported, message: "cannot send the server name \(host)", context: "TLS setup for \(peer)")
        }
        guard options.checkHostname else { return }
        if !isIP { SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)) }
        let set = isIP ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
        guard set == 1 else {
            throw RedisError(code: .unsupported, message: "cannot check the certificate against \(host)", context: "TLS setup for \(peer)")
        }
    }

    /// True for an IPv4 or IPv6 address literal.
    static func isIPAddress(_ host: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// Runs the handshake over `socket` until `deadline`.
    ///
    /// - Throws: ``RedisError``: a certificate that does not verify (`authentication`, naming the
    ///   host and OpenSSL's reason: expired, unknown CA, name mismatch…), a server refusing us
    ///   (`authentication`: no client certificate…), a plaintext server (`unsupported`), no answer
    ///   (`timeout`) or a closed connection (`connectionFailed`).
    func handshake(over socket: RedisSocket, deadline: RedisDeadline) throws {
        var firstByte: UInt8?
        while true {
            ERR_clear_error()
            let status = SSL_do_handshake(ssl)
            let failure = status == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, status)
            let reason = failure == SSL_ERROR_SSL ? RedisTLSContext.openSSLReason() : nil
            try flush(to: socket, deadline: deadline)
            if status == 1 { return }
            guard failure == SSL_ERROR_WANT_READ else { throw handshakeError(reason: reason, firstByte: firstByte) }
            guard try socket.wait(readable: true, writable: false, deadline: deadline) else {
                throw RedisError(
                    code: .timeout, hiredisError: REDIS_ERR_IO,
                    message: "no TLS answer (a plaintext Redis port waits silently for more: if this is one, use redis://)",
                    context: handshakeStep)
            }
            switch try socket.receive(into: plain, step: handshakeStep) {
            case .bytes(let count):
                if firstByte == nil { firstByte = plain.load(as: UInt8.self) }
                BIO_write(input, plain.baseAddress, Int32(count))
            case .wouldBlock:
                continue
            case .closed:
                throw RedisError(
                    code: .connectionFailed, hiredisError: REDIS_ERR_EOF,
                    message: "server closed the connection during the TLS handshake", context: handshakeStep)
            }
        }
    }

    private var handshakeStep: String { "TLS handshake with \(peer)" }

    /// Sends everything OpenSSL has written (handshake records), waiting for the socket as needed.
    private func flush(to socket: RedisSocket, deadline: RedisDeadline) throws {
        var pending = RedisByteQueue()
        drainOutput(into: &pending)
        while !pending.isEmpty {
            let sent = try pending.withPending { try socket.send($0, step: handshakeStep) }
            pending.consume(sent)
            if sent == 0, try !socket.wait(readable: false, writable: true, deadline: deadline) {
                throw RedisError(code: .timeout, hiredisError: REDIS_ERR_IO, message: "the server does not read", context: handshakeStep)
            }
        }
    }

    private func handshakeError(reason: String?, firstByte: UInt8?) -> RedisError {
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            return RedisError(code: .authentication, message: verificationMessage(verification), context: handshakeStep)
        }
        if let firstByte, Array("+-$*:".utf8).contains(firstByte) {
            return RedisError(
                code: .unsupported, message: "the server answered in plaintext (Redis protocol), not TLS: this port does not speak TLS; use redis://",
                context: handshakeStep)
        }
        let text = reason ?? "handshake failed"
        if text.contains("alert") {
            return RedisError(code: .authentication, message: "the server refused the TLS handshake: \(text)\(Self.alertHint(text))", context: handshakeStep)
        }
        return RedisError(
            code: .unsupported, message: "TLS handshake failed: \(text) (if this is a plaintext port, use redis://)", context: handshakeStep)
    }

    private func verificationMessage(_ result: Int) -> String {
        let reason = String(cString: X509_verify_cert_error_string(result))
        var text = "certificate verification of \(peer) failed: \(reason)"
        switch Int32(result) {
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
            X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            text +=
                options.caFile.map { " (unknown CA: the certificate was not issued by a CA in ssl_ca_certs=\($0))" }
                ?? " (unknown CA: no ssl_ca_certs was given, so the system's CAs were used; Memorystore signs with its own CA: give ssl_ca_certs=PATH)"
        case X509_V_ERR_HOSTNAME_MISMATCH:
            text += " (the certificate does not name \(host))"
        case X509_V_ERR_IP_ADDRESS_MISMATCH:
            text += " (the certificate's IP addresses do not include \(host))"
        case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
            text += " (check this machine's clock, and that the server's certificate was rotated)"
        default:
            break
        }
        return text
    }

    private static func alertHint(_ reason: String) -> String {
        if reason.contains("certificate required") || reason.contains("handshake failure") {
            return " (the server may require a client certificate: give ssl_certfile and ssl_keyfile)"
        }
        if reason.contains("unknown ca") || reason.contains("bad certificate") {
            return " (the server does not trust the client certificate in ssl_certfile)"
        }
        return ""
    }

    /// Encrypts `bytes` and appends the records to `queue`.
    func seal(_ bytes: UnsafeRawBufferPointer, into queue: inout RedisByteQueue) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        ERR_clear_error()
        var written = 0
        guard SSL_write_ex(ssl, base, bytes.count, &written) == 1, written == bytes.count else {
            throw streamError(SSL_get_error(ssl, 0), step: "TLS write to \(peer)")
        }
        drainOutput(into: &queue)
    }

    /// Decrypts received records into `reader`; records OpenSSL answers with (a key update) are
    /// appended to `outgoing`.
    func open(_ records: UnsafeRawBufferPointer, into reader: RedisReader, outgoing: inout RedisByteQueue) throws {
        if let base = records.baseAddress, !records.isEmpty { BIO_write(input, base, Int32(records.count)) }
        while true {
            ERR_clear_error()
            var count = 0
            if SSL_read_ex(ssl, plain.baseAddress, plain.count, &count) == 1 {
                try reader.feed(UnsafeRawBufferPointer(rebasing: plain[..<count]))
                continue
            }
            let failure = SSL_get_error(ssl, 0)
            if failure == SSL_ERROR_WANT_READ { break }
            throw streamError(failure, step: "TLS read from \(peer)")
        }
        drainOutput(into: &outgoing)
    }

    private func streamError(_ failure: Int32, step: String) -> RedisError {
        if failure == SSL_ERROR_ZERO_RETURN {
            return RedisError(code: .connectionFailed, hiredisError: REDIS_ERR_EOF, message: "server closed the TLS connection", context: step)
        }
        let reason = RedisTLSContext.openSSLReason() ?? "TLS error \(failure)"
        if reason.contains("alert") {
            return RedisError(code: .authentication, message: "the server refused the TLS connection: \(reason)\(Self.alertHint(reason))", context: step)
        }
        return RedisError(code: .connectionFailed, hiredisError: REDIS_ERR_IO, message: "TLS error: \(reason)", context: step)
    }

    private func drainOutput(into queue: inout RedisByteQueue) {
        let pending = BIO_ctrl_pending(output)
        guard pending > 0 else { return }
        queue.append(count: Int(pending)) { buffer in
            Int(max(0, BIO_read(output, buffer.baseAddress, Int32(buffer.count))))
        }
    }

    /// `TLSv1.3, TLS_AES_256_GCM_SHA384`: the protocol and cipher negotiated.
    var negotiated: String {
        let version = String(cString: SSL_get_version(ssl))
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return version }
        return "\(version), \(String(cString: name))"
    }
}

@available(*, unavailable)
extension RedisTLSSession: Sendable {}
