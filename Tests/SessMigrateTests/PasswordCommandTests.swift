import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import Testing

@testable import SessMigrate

/// `?password-command=` / `--password-command`: run per connection, output never shown.
@Suite struct PasswordCommandTests {
    let empty = BotEnvironment(variables: [:])
    static let secret = "Pw-7c1f9e-SECRET"

    @Test(arguments: [
        ("gcloud auth print-access-token", "gcloud…", "gcloud"),
        ("/usr/local/bin/get-token", "/usr/local/bin/get-token", "/usr/local/bin/get-token"),
        ("TOKEN=abc123 fetch", "***…", "***"),
        ("  vault read -field=pw secret/x", "vault…", "vault"),
        ("echo $(cat /run/secret)", "echo…", "echo"),
    ])
    func onlyTheFirstWordIsShown(command: String, shown: String, name: String) {
        #expect(PasswordCommand(command).description == shown)
        #expect(PasswordCommand(command).programName == name)
    }

    @Test func theOutputLosesOneTrailingLineBreak() throws {
        #expect(try PasswordCommand("echo '\(Self.secret)'").run() == Self.secret)
        #expect(try PasswordCommand("printf '%s\\r\\n' ' a b '").run() == " a b ")
        #expect(try PasswordCommand("printf tok").run() == "tok")
    }

    @Test(arguments: [
        ("echo \(secret); exit 3", "exited with status 3"),
        ("printf ''", "printed nothing"),
        ("printf '\\n'", "printed nothing"),
        ("printf '\(secret)\\nline two\\n'", "more than one line"),
        ("head -c 70000 /dev/zero", "printed more than 64 KiB"),
        ("kill -9 $$", "was killed by signal 9"),
        ("/nonexistent/get-token", "exited with status 127"),
    ])
    func failuresNameTheCommandNeverItsOutput(command: String, says: String) {
        let error = #expect(throws: PasswordCommandError.self) { try PasswordCommand(command).run() }
        #expect(error?.message.contains(says) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("password command '") == true)
        #expect(error?.message.contains(Self.secret) == false)
        #expect(error?.code == .authentication)
        #expect(error?.isTransient == false)
    }

    /// A command that does not finish is killed with everything it started, and the fault is
    /// transient (the next connection runs it again).
    @Test func aHangingCommandIsKilledWithItsChildren() throws {
        try withTemporaryDirectory { directory in
            let marker = directory + "/still-running"
            let started = Date()
            let error = #expect(throws: PasswordCommandError.self) {
                try PasswordCommand("(sleep 2; touch \(marker)) & sleep 30").run(timeout: 0.5)
            }
            #expect(Date().timeIntervalSince(started) < 2)
            #expect(error?.code == .timeout)
            #expect(error?.isTransient == true)
            #expect(error?.message.contains("did not finish within 1 s") == true)
            Thread.sleep(forTimeInterval: 2.5)
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test func theAddressShowsTheFirstWordAndRunsNothingWhenParsed() throws {
        try withTemporaryDirectory { directory in
            let marker = directory + "/ran"
            let text = "redis://10.0.0.3:6379/0?password-command=touch%20\(marker)%3B%20echo%20tok"
            let address = try StoreAddress.parse(text, environment: empty)
            guard case .redis(let redis) = address else { Issue.record("not redis"); return }
            #expect(redis.password == nil)
            #expect(redis.passwordCommand == PasswordCommand("touch \(marker); echo tok"))
            #expect(address.description == "redis://10.0.0.3:6379/0?ttl=3600&password-command=touch…")
            #expect(StoreAddress.redacted(text) == address.description)
            #expect(!FileManager.default.fileExists(atPath: marker))
            #expect(try redis.currentPassword() == "tok")
            #expect(FileManager.default.fileExists(atPath: marker))
        }
        let mysql = try StoreAddress.parse("mysql://iam-user@10.0.0.5/db?password-command=gcloud%20sql%20generate-login-token", environment: empty)
        #expect(mysql.description == "mysql://iam-user@10.0.0.5:3306/db?password-command=gcloud…")
    }

    @Test func commandTextIsCutInMessagesThatDoNotParse() {
        let message = "Error: Unexpected argument 'rediss://h:1/0?password-command=fetch%20--token%20\(Self.secret)&x=1'"
        let redacted = StoreAddress.redactingAddresses(in: message)
        #expect(!redacted.contains(Self.secret))
        #expect(redacted.contains("password-command=fetch…&x=1"))
        #expect(!StoreAddress.redacted("rediss://h:notaport/0?password_command=get%20\(Self.secret)").contains(Self.secret))
    }

    @Test(arguments: [
        "redis://:pw@h/0?password-command=x", "redis://h/0?password-file=/run/pw&password-command=x",
        "mysql://u:pw@h/db?password-command=x", "mysql://u@h/db?password-command=%20",
    ])
    func oneSourceOfPasswordPerAddress(text: String) {
        let error = #expect(throws: AddressError.self) { try StoreAddress.parse(text, environment: empty, readPasswordFile: { _ in "pw" }) }
        #expect(error?.message.contains("give one") == true || error?.message.contains("empty password-command") == true)
    }

    @Test func theOptionGoesWherePasswordFileWouldGo() throws {
        let parse = { (text: String) throws -> StoreAddress in try StoreAddress.parse(text, environment: self.empty) }
        let command = PasswordCommand("gcloud auth print-access-token")
        let result = try PasswordCommand.apply(command, to: [try parse("mysql://app:pw@h/db"), try parse("rediss://10.0.0.3:6378/0")])
        guard case .redis(let redis) = result[1] else { Issue.record("not redis"); return }
        #expect(redis.passwordCommand == command)
        #expect(result[1].description.hasSuffix("password-command=gcloud…"))
        let ambiguous = #expect(throws: AddressError.self) {
            try PasswordCommand.apply(command, to: [try parse("redis://a/0"), try parse("redis://b/0")])
        }
        #expect(ambiguous?.message.contains("--password-command gcloud… is ambiguous") == true)
        let taken = try parse("redis://h/0?password-command=x")
        let none = #expect(throws: AddressError.self) { try PasswordCommand.apply(command, to: [taken]) }
        #expect(none?.message.contains("no address here takes a password") == true)
    }
}

/// Against the real servers: a password that changes between connections (an ACL user's in Redis, a
/// user's in MariaDB, rotated by the test) is fetched again for every store opened.
@Suite(.enabled(if: TestStores.serversAvailable))
struct PasswordCommandServerTests {
    let empty = BotEnvironment(variables: [:])

    /// Opens `address` (whose command prints `tok-N` for the N in `counter`) after each rotation.
    func rotate(_ address: StoreAddress, counter: String, setPassword: (String) throws -> Void) throws {
        for round in 1...3 {
            try setPassword("tok-\(round)-SECRET")
            try "\(round)\n".write(toFile: counter, atomically: true, encoding: .utf8)
            let store = try StoreOpener().open(address, forWriting: false)
            try store.close()
        }
        // The server moves on, the command does not: refused, without the password in the error.
        try setPassword("tok-4-SECRET")
        let error = #expect(throws: StoreError.self) { try StoreOpener().open(address, forWriting: false) }
        #expect(error?.code == .authentication)
        #expect(error?.description.contains("SECRET") == false)
    }

    @Test func redisRunsTheCommandForEveryConnection() throws {
        guard case .redis(let base) = try StoreAddress.parse(try #require(TestStores.environment["SESSMIGRATE_REDIS_URL"]), environment: empty) else {
            Issue.record("not redis"); return
        }
        let user = "smt_rotating_\(getpid())"
        let admin = try RedisConnection.open(host: base.host, port: base.port)
        defer {
            _ = try? admin.command(["ACL", "DELUSER", user])
            admin.close()
        }
        try withTemporaryDirectory { directory in
            let counter = directory + "/counter"
            let command = "printf 'tok-%s-SECRET\\n' \"$(cat \(counter))\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let address = try StoreAddress.parse("redis://\(user)@\(base.host):\(base.port)/39?password-command=\(command)", environment: empty)
            try rotate(address, counter: counter) { password in
                try admin.expectOK(admin.command(["ACL", "SETUSER", user, "on", "resetpass", ">" + password, "~*", "+@all"]), context: "ACL")
            }
        }
    }

    @Test func mysqlRunsTheCommandForEveryConnection() throws {
        guard case .mysql(let base) = try StoreAddress.parse(try #require(TestStores.environment["SESSMIGRATE_MYSQL_URL"]), environment: empty) else {
            Issue.record("not mysql"); return
        }
        let user = "smt_rot_\(getpid())"
        // root over the socket: the app user may not grant.
        let socket = try #require(TestStores.environment["SESSMIGRATE_MYSQL_ROOT_SOCKET"])
        let admin = try MySQLConnection.open(host: "localhost", port: 0, user: "root", password: "", database: "mysql", unixSocket: socket)
        defer {
            _ = try? admin.execute("DROP USER IF EXISTS '\(user)'@'\(base.host)'")
            admin.close()
        }
        _ = try admin.execute("CREATE USER '\(user)'@'\(base.host)' IDENTIFIED BY 'x'")
        _ = try admin.execute("GRANT SELECT ON `\(base.database)`.* TO '\(user)'@'\(base.host)'")
        try withTemporaryDirectory { directory in
            let counter = directory + "/counter"
            let command = "printf 'tok-%s-SECRET\\n' \"$(cat \(counter))\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let address = try StoreAddress.parse(
                "mysql://\(user)@\(base.host):\(base.port)/\(base.database)?password-command=\(command)", environment: empty)
            try rotate(address, counter: counter) { password in
                _ = try admin.execute("ALTER USER '\(user)'@'\(base.host)' IDENTIFIED BY '\(password)'")
            }
        }
    }
}
