internal import COpenSSL
import DriverCore

/// An OpenSSL client context (`SSL_CTX`) for one ``RedisTLSOptions``: TLS 1.2 or higher, peer
/// verification on, the trusted CAs loaded, and the client certificate if any. Owns the context
/// and frees it in `deinit`; each ``RedisTLSSession`` made from it holds its own reference
/// (OpenSSL counts them), so the context may go before its sessions.
///
/// Related OpenSSL documentation: <https://www.openssl.org/docs/man3.0/man3/SSL_CTX_new.html>,
/// <https://www.openssl.org/docs/man3.0/man3/SSL_CTX_load_verify_locations.html>
final class RedisTLSContext {
    let context: OpaquePointer

    /// - Throws: ``RedisError`` (`authentication`, never transient) naming the file that cannot be
    ///   used and OpenSSL's reason; never a key or certificate content.
    init(options: RedisTLSOptions, peer: String) throws {
        let step = "TLS setup for \(peer)"
        if let problem = options.problem { throw RedisError(code: .unsupported, message: problem, context: step) }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw RedisTLSContext.failure("cannot create a TLS context", code: .io, step: step)
        }
        self.context = context
        guard copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw Self.failure("cannot require TLS 1.2 or higher", code: .io, step: step)
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        // Never prompt on the terminal for a key passphrase: an encrypted key fails to load instead.
        SSL_CTX_set_default_passwd_cb(context) { _, _, _, _ in 0 }
        if let caFile = options.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw Self.failure("cannot load the CA certificates in ssl_ca_certs=\(caFile)", step: step)
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw Self.failure("cannot load the system's CA certificates", step: step)
        }
        if options.certificateFile == nil {
            // Called when the server asks for a client certificate and there is none: noted (in the
            // session's app data, see RedisTLSSession) to explain the closed connection that follows
            // on a server that requires one; the handshake goes on without a certificate.
            SSL_CTX_set_client_cert_cb(context) { ssl, _, _ in
                SSL_get_ex_data(ssl, 0)?.storeBytes(of: true, as: Bool.self)
                return 0
            }
        }
        if let certificate = options.certificateFile, let key = options.keyFile {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw Self.failure("cannot load the client certificate ssl_certfile=\(certificate)", step: step)
            }
            let mismatch = "ssl_keyfile=\(key) is not the key of ssl_certfile=\(certificate)"
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                // OpenSSL compares the key with the certificate as it loads it.
                if oldestErrorHasReason(X509_R_KEY_VALUES_MISMATCH) { throw Self.failure(mismatch, step: step) }
                throw Self.failure("cannot load the client key ssl_keyfile=\(key) (an encrypted key is not supported)", step: step)
            }
            guard SSL_CTX_check_private_key(context) == 1 else { throw Self.failure(mismatch, step: step) }
        }
    }

    deinit { SSL_CTX_free(context) }

    private static func failure(_ what: String, code: DriverErrorCode = .authentication, step: String) -> RedisError {
        let reason = openSSLReason()
        return RedisError(code: code, message: what + (reason.map { ": \($0)" } ?? ""), context: step)
    }

    /// True when the oldest error in this thread's OpenSSL queue has the reason `reason` (the queue is kept).
    private func oldestErrorHasReason(_ reason: Int32) -> Bool {
        copenssl_error_reason(ERR_peek_error()) == reason
    }

    /// The reason text of the oldest error in this thread's OpenSSL error queue (`certificate
    /// verify failed`, `no such file`), and empties the queue.
    static func openSSLReason() -> String? {
        let first = ERR_get_error()
        while ERR_get_error() != 0 {}
        guard first != 0 else { return nil }
        if let text = ERR_reason_error_string(first) { return String(cString: text) }
        return "OpenSSL error \(String(first, radix: 16))"
    }
}

@available(*, unavailable)
extension RedisTLSContext: Sendable {}
