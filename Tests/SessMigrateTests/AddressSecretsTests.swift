import Foundation
import MySQLDriver
import Testing

@testable import SessMigrate

/// Passwords from files, `--password-file` ambiguity rules, MySQL TLS parameters, redaction.
@Suite struct AddressSecretsTests {
    let empty = BotEnvironment(variables: [:])
    static let secret = "Pw-7c1f9e-SECRET"

    /// Writes `text` to a new file with `mode`, returns its path.
    func file(_ directory: String, _ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test(arguments: ["\(secret)", "\(secret)\n", "\(secret)\r\n"])
    func passwordFileLosesOneTrailingLineBreak(content: String) throws {
        try withTemporaryDirectory { directory in
            let path = try file(directory, "pw", content)
            var warnings: [String] = []
            #expect(try PasswordFile.read(path) { warnings.append($0) } == Self.secret)
            #expect(warnings.isEmpty)
            #expect(try PasswordFile.read(try file(directory, "spaces", " a b \n")) == " a b ")
        }
    }

    @Test func badPasswordFilesNameThePathNeverTheContent() throws {
        try withTemporaryDirectory { directory in
            let cases: [(String, String)] = [
                (try file(directory, "two-lines", "\(Self.secret)\nsecond\n"), "more than one line"),
                (try file(directory, "empty", "\n"), "is empty"),
                (try file(directory, "big", String(repeating: Self.secret, count: 300)), "bytes"),
                (directory + "/missing", "No such file"),
                (directory, "not a regular file"),
            ]
            for (path, problem) in cases {
                let error = try #require(throws: AddressError.self) { try PasswordFile.read(path) }
                #expect(error.message.contains(path) && error.message.contains(problem), "\(error)")
                #expect(!error.message.contains(Self.secret) && !error.message.contains("second"))
            }
        }
    }

    @Test func worldReadablePasswordFileWarnsWithoutTheSecret() throws {
        try withTemporaryDirectory { directory in
            let path = try file(directory, "pw", Self.secret, mode: 0o644)
            var warnings: [String] = []
            #expect(try PasswordFile.read(path) { warnings.append($0) } == Self.secret)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("chmod 600 \(path)") == true)
            #expect(warnings.first?.contains(Self.secret) == false)
        }
    }

    @Test func passwordFileParameterOnBothSchemes() throws {
        try withTemporaryDirectory { directory in
            let path = try file(directory, "pw", Self.secret + "\n")
            let mysql = try StoreAddress.parse("mysql://bot@db.internal/app?password-file=\(path)", environment: empty)
            guard case .mysql(let m) = mysql else { Issue.record("not mysql"); return }
            #expect(m.password == Self.secret && m.passwordFile == path)
            #expect(mysql.description == "mysql://bot@db.internal:3306/app?password-file=\(path)")
            let redis = try StoreAddress.parse("redis://svc@10.0.0.3:6379/2?layout=community&password_file=\(path)", environment: empty)
            guard case .redis(let r) = redis else { Issue.record("not redis"); return }
            #expect(r.username == "svc" && r.password == Self.secret)
            #expect(redis.description == "redis://svc@10.0.0.3:6379/2?layout=community&ttl=3600&password-file=\(path)")
            #expect(throws: AddressError.self) { try StoreAddress.parse("mysql://bot:x@h/app?password-file=\(path)", environment: empty) }
            // Redaction never reads the file (and so never fails on it).
            #expect(StoreAddress.redacted("mysql://bot@h/app?password-file=/nonexistent") == "mysql://bot@h:3306/app?password-file=/nonexistent")
            #expect(StoreAddress.redacted("mysql://bot:\(Self.secret)@h:99999/app") == "mysql://***@h:99999/app")
        }
    }

    @Test func messagesQuotingAddressesAreRedacted() {
        let message = "Error: Unexpected argument 'mysql://bot:\(Self.secret)@h:1/db' and 'redis://:\(Self.secret)@r/0', not x@y"
        #expect(StoreAddress.redactingAddresses(in: message) == "Error: Unexpected argument 'mysql://***@h:1/db' and 'redis://***@r/0', not x@y")
        let error = #expect(throws: AddressError.self) { try StoreAddress.parse("bot:\(Self.secret)@host/db", environment: empty) }
        #expect(error?.message.contains(Self.secret) == false)
    }

    @Test func passwordFileOptionGoesToTheOneAddressThatNeedsIt() throws {
        let parse = { (text: String) throws -> StoreAddress in try StoreAddress.parse(text, environment: self.empty) }
        let mysqlNoPassword = try parse("mysql://app@h/db")
        let redisAnonymous = try parse("redis://h:6379/0")
        let redisUser = try parse("redis://svc@h:6379/1")
        let withPassword = try parse("mysql://app:pw@h/db2")
        let sqlite = try parse("x.db")

        // A named user wins over an anonymous Redis address.
        var result = try PasswordFile.apply(Self.secret, file: "/run/pw", to: [mysqlNoPassword, redisAnonymous])
        guard case .mysql(let m) = result[0], case .redis(let r) = result[1] else { Issue.record("kinds"); return }
        #expect(m.password == Self.secret && r.password == nil)
        #expect(!result[0].description.contains(Self.secret) && result[0].description.contains("password-file=/run/pw"))
        // The only address lacking a password takes it, whatever its kind.
        result = try PasswordFile.apply(Self.secret, file: "/run/pw", to: [withPassword, redisAnonymous])
        guard case .redis(let r2) = result[1] else { Issue.record("kinds"); return }
        #expect(r2.password == Self.secret)
        result = try PasswordFile.apply(Self.secret, file: "/run/pw", to: [sqlite, redisUser])
        guard case .redis(let r3) = result[1] else { Issue.record("kinds"); return }
        #expect(r3.password == Self.secret && r3.username == "svc")

        for ambiguous in [[mysqlNoPassword, redisUser], [redisAnonymous, redisAnonymous], [mysqlNoPassword, mysqlNoPassword]] {
            let error = try #require(throws: AddressError.self) { try PasswordFile.apply(Self.secret, file: "/run/pw", to: ambiguous) }
            #expect(error.message.contains("ambiguous") && !error.message.contains(Self.secret))
        }
        let none = try #require(throws: AddressError.self) { try PasswordFile.apply(Self.secret, file: "/run/pw", to: [withPassword, sqlite]) }
        #expect(none.message.contains("no address here takes a password"))
    }

    @Test func mysqlTLSParameters() throws {
        try withTemporaryDirectory { directory in
            let ca = try file(directory, "ca.pem", "not checked here")
            let address = try StoreAddress.parse("mysql://u:p@h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=\(ca)", environment: empty)
            guard case .mysql(let mysql) = address else { Issue.record("not mysql"); return }
            #expect(mysql.tls == MySQLTLS(mode: .verifyIdentity, caPath: ca))
            #expect(address.description == "mysql://u:***@h:3306/db?ssl-mode=verify-identity&ssl-ca=\(ca)")
            guard case .mysql(let plain) = try StoreAddress.parse("mysql://u:p@h/db", environment: empty) else { return }
            #expect(plain.tls.mode == .preferred)
            for (text, problem) in [
                ("mysql://u:p@h/db?ssl-mode=verify-ca", "needs ssl-ca"),
                ("mysql://u:p@h/db?ssl-mode=sometimes", "unknown ssl-mode"),
                ("mysql://u:p@h/db?ssl-mode=disabled&ssl-ca=\(ca)", "disabled cannot use"),
                ("mysql://u:p@h/db?ssl-mode=required&ssl-cert=\(ca)", "go together"),
                ("mysql://u:p@h/db?ssl-mode=verify-ca&ssl-ca=\(directory)/missing.pem", "cannot be read"),
                ("mysql://u:p@h/db?sslmode=required", "unknown parameter"),
            ] {
                let error = try #require(throws: AddressError.self) { try StoreAddress.parse(text, environment: empty) }
                #expect(error.message.contains(problem), "\(text): \(error)")
            }
        }
    }

    @Test func cloudsqlWordTakesThePasswordFromTheEnvironmentOrTheFile() throws {
        let variables = ["CLOUDSQL_HOST": "10.1.2.3", "CLOUDSQL_DATABASE": "bot", "CLOUDSQL_USER": "svc"]
        var environment = BotEnvironment(variables: variables.merging(["CLOUDSQL_PASSWORD": Self.secret]) { $1 })
        guard case .mysql(let fromEnvironment) = try StoreAddress.parse("cloudsql", environment: environment) else { return }
        #expect(fromEnvironment.password == Self.secret)
        #expect(!StoreAddress.mysql(fromEnvironment).description.contains(Self.secret))
        environment = BotEnvironment(variables: variables)
        let bare = try StoreAddress.parse("cloudsql", environment: environment)
        guard case .mysql(let fromFile) = try PasswordFile.apply(Self.secret, file: "/run/pw", to: [bare])[0] else { return }
        #expect(fromFile.password == Self.secret)
    }
}
