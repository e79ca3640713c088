internal import CMariaDB
import DriverCore

/// How a MySQL connection uses TLS: the `ssl-mode` of MySQL's clients, and the files it needs.
///
/// What each mode does with libmariadb 3.3 (checked against a TLS and a plaintext MariaDB 10.11):
/// - `disabled`: never TLS.
/// - `preferred` (the default, as in the mysql and mariadb command-line clients): TLS when the
///   server offers it, otherwise plaintext. The certificate is not checked unless `caPath` is set.
/// - `required`: TLS or no connection. libmariadb cannot refuse a server that offers no TLS
///   before logging in unless it verifies the certificate, so a plaintext server is detected
///   right after the login exchange (`mysql_native_password` and `caching_sha2_password` never
///   send the password itself; a captured exchange can be attacked offline) and the connection
///   is closed before any statement. With `caPath`, the certificate chain is checked too.
/// - `verifyCA`: `required`, and the server certificate must chain to `caPath`; the host name is
///   not checked (plaintext is refused after login, as for `required`).
/// - `verifyIdentity`: the certificate must chain to `caPath` and name the host connected to
///   (`MYSQL_OPT_SSL_VERIFY_SERVER_CERT`); a server without TLS is refused before login.
public struct MySQLTLS: Sendable, Hashable {
    /// MySQL's `--ssl-mode` values.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case disabled
        case preferred
        case required
        case verifyCA = "verify-ca"
        case verifyIdentity = "verify-identity"
    }

    public var mode: Mode
    /// PEM file of the certificate authorities to trust (`ssl-ca`); needed by the verify modes.
    public var caPath: String?
    /// PEM client certificate (`ssl-cert`), for servers that require one (`REQUIRE X509`).
    public var certificatePath: String?
    /// PEM key of the client certificate (`ssl-key`).
    public var keyPath: String?

    public init(mode: Mode = .preferred, caPath: String? = nil, certificatePath: String? = nil, keyPath: String? = nil) {
        self.mode = mode
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// The problem with this combination, if any (e.g. a verify mode without a CA file).
    public var problem: String? {
        if (certificatePath == nil) != (keyPath == nil) { return "ssl-cert and ssl-key go together" }
        switch mode {
        case .disabled where caPath != nil || certificatePath != nil:
            return "ssl-mode=disabled cannot use ssl-ca, ssl-cert or ssl-key"
        case .verifyCA where caPath == nil, .verifyIdentity where caPath == nil:
            return "ssl-mode=\(mode.rawValue) needs ssl-ca=PATH (the CA that signed the server's certificate)"
        default:
            return nil
        }
    }

    /// True when a connection without TLS must be refused.
    var requiresEncryption: Bool {
        [.required, .verifyCA, .verifyIdentity].contains(mode)
    }

    /// Sets the libmariadb options for this configuration on a fresh handle.
    func apply(to handle: MySQLHandle) {
        guard mode != .disabled else { return }
        // MYSQL_OPT_SSL_ENFORCE makes libmariadb 3.3 ask for TLS whenever the server offers it.
        var yes: my_bool = 1
        mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes)
        // A CA file makes libmariadb check the chain of the certificate the server presents.
        if let caPath { mysql_options(handle, MYSQL_OPT_SSL_CA, caPath) }
        if let certificatePath { mysql_options(handle, MYSQL_OPT_SSL_CERT, certificatePath) }
        if let keyPath { mysql_options(handle, MYSQL_OPT_SSL_KEY, keyPath) }
        // Chain and host name, and no login to a server that does not offer TLS.
        if mode == .verifyIdentity { mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes) }
    }
}

extension MySQLConnection {
    /// The TLS cipher of the connection (`mysql_get_ssl_cipher`), `nil` when it is not encrypted.
    public var tlsCipher: String? {
        guard let handle = rawHandle, let cipher = mysql_get_ssl_cipher(handle) else { return nil }
        return String(cString: cipher)
    }

    /// `TLS (cipher, version)` or `plaintext`.
    public var securityDescription: String {
        guard let cipher = tlsCipher else { return "plaintext" }
        var version: UnsafePointer<CChar>?
        if let handle = rawHandle, mariadb_get_info(handle, MARIADB_CONNECTION_TLS_VERSION, &version) == 0, let version {
            return "TLS (\(cipher), \(String(cString: version)))"
        }
        return "TLS (\(cipher))"
    }
}
