import DriverCore
import Testing

@testable import MySQLDriver

/// Error text rules that need no server.
@Suite struct MySQLErrorTextTests {
    @Test func syntaxErrorsLoseTheQuotedSQL() {
        let message =
            "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB"
            + " server version for the right syntax to use near 'VALUES ('secret payload')' at line 1"
        let redacted = MySQLError.redact(message, secret: nil)
        #expect(!redacted.contains("secret payload"))
        #expect(redacted.hasSuffix("near '…' at line 1"))
    }

    @Test func passwordIsReplaced() {
        #expect(MySQLError.redact("oops hunter22 oops", secret: "hunter22") == "oops *** oops")
        #expect(MySQLError.redact("Access denied", secret: "Acc") == "Access denied")
    }

    @Test func contextKeepsKindAndTableOnly() {
        #expect(MySQLError.context(ofSQL: "INSERT INTO events (id, app_name) VALUES ('x')") == "INSERT INTO events")
        let update = "UPDATE app_states SET state = '{}' WHERE app_name = 'a'"
        #expect(MySQLError.context(ofSQL: update) == "UPDATE app_states")
        #expect(MySQLError.context(ofSQL: "DELETE FROM events WHERE (app_name = 'a')") == "DELETE FROM events")
        #expect(MySQLError.context(ofSQL: "SELECT 'secret'") == "SELECT")
    }

    @Test func codes() {
        #expect(MySQLError.code(forErrorNumber: 1045) == .authentication)
        #expect(MySQLError.code(forErrorNumber: 2003) == .connectionFailed)
        #expect(MySQLError.code(forErrorNumber: 1049) == .notFound)
        #expect(MySQLError.code(forErrorNumber: 1062) == .constraint)
        #expect(MySQLError(code: .query, errorNumber: 1213, message: "deadlock").isTransient)
        #expect(!MySQLError(code: .constraint, errorNumber: 1062, message: "dup").isTransient)
    }

    @Test func configDescriptionHidesPassword() {
        let config = MySQLStoreConfig(host: "h", user: "u", password: "s3cr3t-pw", database: "d")
        #expect(!String(describing: config).contains("s3cr3t-pw"))
        #expect(!String(reflecting: config).contains("s3cr3t-pw"))
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("s3cr3t-pw"))
    }
}

@Suite(.enabled(if: MySQLTestServer.url != nil))
struct MySQLConnectionTests {
    @Test func wrongPasswordIsAuthenticationAndNeverShowsThePassword() throws {
        var config = try #require(MySQLTestServer.base)
        config.password = "not-the-password-4711"
        do {
            let connection = try MySQLTestServer.connect(config)
            connection.close()
            Issue.record("connected with a wrong password")
        } catch let error as MySQLError {
            #expect(error.code == .authentication)
            #expect(error.errorNumber == 1045)
            #expect(!String(describing: error).contains("not-the-password-4711"))
            #expect(!String(reflecting: error).contains("not-the-password-4711"))
        }
        #expect(throws: MySQLError.self) { try MySQLSessionStore.open(config, forWriting: false) }
    }

    @Test func unreachablePortIsConnectionFailed() throws {
        var config = try #require(MySQLTestServer.base)
        config.host = "127.0.0.1"
        config.port = 1
        let error = try #require(throws: MySQLError.self) { try MySQLTestServer.connect(config) }
        #expect(error.code == .connectionFailed)
    }

    @Test func unknownDatabaseIsNotFound() throws {
        var config = try #require(MySQLTestServer.base)
        config.database = "smt_mysql_does_not_exist"
        let error = try #require(throws: MySQLError.self) { try MySQLSessionStore.open(config, forWriting: true) }
        #expect(error.code == .notFound)
        #expect(error.errorNumber == 1049)
    }

    @Test func escapingStreamingAndTransactions() throws {
        try MySQLTestServer.withDatabase("conn") { _, connection throws in
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY, v LONGTEXT)")
            let nasty = "it's a \"quote\" \\ back\nslash \u{0}nul 😀 é"
            try connection.execute("INSERT INTO t VALUES (1, '\(try connection.escape(nasty))')")
            #expect(try connection.query("SELECT v FROM t").collect() == [[nasty]])

            // Rollback on error, commit on success.
            #expect(throws: MySQLError.self) {
                try connection.withTransaction {
                    try connection.execute("INSERT INTO t VALUES (2, 'x')")
                    try connection.execute("INSERT INTO t VALUES (1, 'duplicate')")
                }
            }
            _ = try connection.withTransaction { try connection.execute("INSERT INTO t VALUES (3, NULL)") }
            let rows = try connection.query("SELECT id, v FROM t ORDER BY id").collect()
            #expect(rows == [["1", nasty], ["3", nil]])

            // A streaming result is freed by the next statement; reading it again throws.
            let result = try connection.query("SELECT id FROM t ORDER BY id")
            #expect(result.columnNames == ["id"])
            #expect(try result.next() == ["1"])
            try connection.execute("DO 1")
            #expect(throws: MySQLError.self) { try result.next() }
        }
    }

    @Test func duplicateKeyIsConstraintAndErrorsHideValues() throws {
        try MySQLTestServer.withDatabase("dup") { _, connection throws in
            try connection.execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
            try connection.execute("INSERT INTO t VALUES (1, 'a')")
            let error = try #require(throws: MySQLError.self) {
                try connection.execute("INSERT INTO t VALUES (1, 'payload-text')")
            }
            #expect(error.code == .constraint)
            #expect(error.context == "INSERT INTO t")
            let syntax = try #require(throws: MySQLError.self) {
                try connection.execute("INSERT INTO t VALUES (2, 'payload-text') garbage")
            }
            #expect(syntax.code == .query)
            #expect(!String(describing: syntax).contains("payload-text"))
        }
    }
}
