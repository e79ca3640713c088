import DriverCore
import Foundation
import Testing

@testable import MySQLDriver

/// TLS against the test server started with `SESSMIGRATE_SERVERS_TLS=1` (scripts/lib/servers.sh):
/// its certificate is signed by `SESSMIGRATE_MYSQL_TLS_CA` for IP 127.0.0.1 only. A plaintext
/// server is refused by the CLI suite Tests/Secrets (it starts one).
/// The TLS test server's files, from the environment scripts/lib/servers.sh exports.
enum TLSTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let available = MySQLTestServer.url != nil && environment["SESSMIGRATE_MYSQL_TLS_CA"] != nil
    static let ca = environment["SESSMIGRATE_MYSQL_TLS_CA"] ?? ""
    static let otherCA = environment["SESSMIGRATE_MYSQL_TLS_OTHER_CA"] ?? ""
    static let socket = environment["SESSMIGRATE_MYSQL_ROOT_SOCKET"]
    static var directory: URL { URL(fileURLWithPath: ca).deletingLastPathComponent() }
}

@Suite(.enabled(if: TLSTestServer.available, "needs SESSMIGRATE_MYSQL_URL and SESSMIGRATE_MYSQL_TLS_CA"))
struct MySQLTLSTests {
    func connect(_ tls: MySQLTLS, host: String? = nil, socket: String? = nil, user: String? = nil) throws -> MySQLConnection {
        let base = try #require(MySQLTestServer.base)
        return try MySQLConnection.open(
            host: host ?? base.host, port: base.port, user: user ?? base.user, password: base.password,
            database: user == nil ? base.database : "", unixSocket: socket, tls: tls)
    }

    /// `Ssl_cipher` of the session as the server sees it (empty when not encrypted).
    func serverCipher(_ connection: MySQLConnection) throws -> String {
        let rows = try connection.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'", buffered: true).collect()
        return (rows.first?[1] ?? nil) ?? ""
    }

    @Test(arguments: [MySQLTLS.Mode.preferred, .required])
    func encryptedWhenAskedOrOffered(mode: MySQLTLS.Mode) throws {
        let connection = try connect(MySQLTLS(mode: mode))
        defer { connection.close() }
        #expect(try !serverCipher(connection).isEmpty)
        #expect(connection.tlsCipher == (try serverCipher(connection)))
        #expect(connection.securityDescription.hasPrefix("TLS ("))
    }

    @Test func disabledIsPlaintext() throws {
        let connection = try connect(MySQLTLS(mode: .disabled))
        defer { connection.close() }
        #expect(try serverCipher(connection).isEmpty)
        #expect(connection.tlsCipher == nil)
        #expect(connection.securityDescription == "plaintext")
    }

    @Test(arguments: [MySQLTLS.Mode.verifyCA, .verifyIdentity])
    func verifiedWithTheRightCA(mode: MySQLTLS.Mode) throws {
        let connection = try connect(MySQLTLS(mode: mode, caPath: TLSTestServer.ca))
        defer { connection.close() }
        #expect(try !serverCipher(connection).isEmpty)
    }

    @Test(arguments: [MySQLTLS.Mode.required, .verifyCA, .verifyIdentity])
    func refusedWithAnotherCA(mode: MySQLTLS.Mode) throws {
        let base = try #require(MySQLTestServer.base)
        let error = try #require(throws: MySQLError.self) { try connect(MySQLTLS(mode: mode, caPath: TLSTestServer.otherCA)) }
        #expect(error.code == .authentication)
        #expect(!error.isTransient)
        #expect(error.description.contains("TLS (ssl-mode=\(mode.rawValue)) refused"))
        #expect(error.description.contains("certificate"))
        #expect(!error.description.contains(base.password))
    }

    /// The certificate names 127.0.0.1 only: over the socket (`localhost`) the chain verifies but
    /// the host name does not, so verify-identity refuses while verify-ca accepts.
    @Test(.enabled(if: TLSTestServer.socket != nil))
    func verifyIdentityChecksTheHostName() throws {
        let socket = try #require(TLSTestServer.socket)
        let error = try #require(throws: MySQLError.self) {
            try connect(MySQLTLS(mode: .verifyIdentity, caPath: TLSTestServer.ca), host: "localhost", socket: socket)
        }
        #expect(error.code == .authentication)
        #expect(error.message.contains("Validation of SSL server certificate failed"))
        let connection = try connect(MySQLTLS(mode: .verifyCA, caPath: TLSTestServer.ca), host: "localhost", socket: socket)
        defer { connection.close() }
        #expect(try !serverCipher(connection).isEmpty)
    }

    @Test func verifyModesNeedACAFile() throws {
        for mode in [MySQLTLS.Mode.verifyCA, .verifyIdentity] {
            let error = try #require(throws: MySQLError.self) { try connect(MySQLTLS(mode: mode)) }
            #expect(error.code == .unsupported)
            #expect(error.message.contains("needs ssl-ca"))
        }
        #expect(MySQLTLS(mode: .disabled, caPath: "x").problem != nil)
        #expect(MySQLTLS(mode: .required, certificatePath: "c").problem == "ssl-cert and ssl-key go together")
    }

    /// A user created `REQUIRE X509` (no privileges: no database) logs in only with a client certificate signed by the CA.
    @Test func clientCertificate() throws {
        let base = try #require(MySQLTestServer.base)
        let user = "smt_x509_\(getpid())"
        let admin = try MySQLTestServer.connect(base)
        defer { admin.close() }
        try admin.execute("CREATE OR REPLACE USER '\(user)'@'127.0.0.1' IDENTIFIED BY '\(base.password)' REQUIRE X509")
        defer { _ = try? admin.execute("DROP USER IF EXISTS '\(user)'@'127.0.0.1'") }
        let without = try #require(throws: MySQLError.self) { try connect(MySQLTLS(mode: .verifyCA, caPath: TLSTestServer.ca), user: user) }
        #expect(without.code == .authentication)
        let with = MySQLTLS(
            mode: .verifyIdentity, caPath: TLSTestServer.ca, certificatePath: TLSTestServer.directory.appendingPathComponent("client-cert.pem").path,
            keyPath: TLSTestServer.directory.appendingPathComponent("client-key.pem").path)
        let connection = try connect(with, user: user)
        defer { connection.close() }
        #expect(try !serverCipher(connection).isEmpty)
    }

    @Test func storeReportsItsConnection() throws {
        var config = try #require(MySQLTestServer.base)
        config.tls = MySQLTLS(mode: .verifyIdentity, caPath: TLSTestServer.ca)
        let store = try MySQLSessionStore.open(config, forWriting: false)
        defer { try? store.close() }
        #expect(store.connectionSecurity?.hasPrefix("TLS (") == true)
        config.tls = MySQLTLS(mode: .disabled)
        let plain = try MySQLSessionStore.open(config, forWriting: false)
        defer { try? plain.close() }
        #expect(plain.connectionSecurity == "plaintext")
    }
}
