import Testing

@testable import MySQLDriver

/// Where a clear-text password (`mysql_clear_password`, CloudSQL IAM tokens) may be sent. The fake server
/// of Tests/Secrets checks what libmariadb actually sends in each case.
@Suite struct MySQLClearTextTests {
    @Test(arguments: [
        ("localhost", MySQLTLS.Mode.preferred, true),  // the Unix socket
        ("localhost", .disabled, true),
        ("10.0.0.5", .verifyIdentity, true),
        ("10.0.0.5", .verifyCA, false),  // libmariadb logs in before it finds out the server offers no TLS
        ("10.0.0.5", .required, false),
        ("10.0.0.5", .preferred, false),
        ("127.0.0.1", .disabled, false),
    ])
    func onlyOverASocketOrAVerifiedIdentity(host: String, mode: MySQLTLS.Mode, allowed: Bool) {
        #expect(allowsClearTextPassword(host: host, tls: MySQLTLS(mode: mode, caPath: "/ca.pem")) == allowed)
    }

    @Test func theRestrictedListHasNoClearTextPlugin() {
        let plugins = Set(hashedAuthPlugins.split(separator: ",").map(String.init))
        #expect(plugins.contains("mysql_native_password") && plugins.contains("caching_sha2_password"))
        #expect(plugins.isDisjoint(with: ["mysql_clear_password", "dialog"]))
    }
}
