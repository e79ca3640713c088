import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import Testing

@testable import SessMigrate

/// A copy connects to each store once: the probe's connections are the ones the copy uses, and the
/// same-store check asks over them (``OpenMemo`` parks them). Counted with a password command that
/// notes every run (it runs once per new connection). Redis databases 24, 27 and 36; MySQL databases
/// `smt_conncount_<pid>` and `smt_conncount_t_<pid>`.
@Suite(.enabled(if: TestStores.serversAvailable))
struct ConnectionCountTests {
    let empty = BotEnvironment(variables: [:])

    /// `?password-command=`: appends a line to `counter`, then prints `password`.
    func countingCommand(_ counter: String, password: String) -> String {
        "echo x >> \(counter); echo \(password)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    func lines(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    func resetCounter(_ path: String) throws { try "".write(toFile: path, atomically: true, encoding: .utf8) }

    /// Copies `source` (holding `sessions` sessions) into `target` twice, into the empty target and then
    /// into the filled one (nothing written), and expects one new connection each time.
    func copyTwiceConnectingOnce(from source: StoreAddress, into target: StoreAddress, sessions: Int, request: CopyRequest, counter: String) throws {
        let summary = try CopyJob(source: source, target: target, options: request).run()
        #expect(summary.total.written == sessions)
        #expect(lines(counter) == 1)
        try resetCounter(counter)
        let again = try CopyJob(source: source, target: target, options: request).run()
        #expect(again.total.written == 0 && again.total.read == sessions)
        #expect(lines(counter) == 1)
    }

    /// Runs `body` with a Redis ACL user `user` (password `tok-SECRET`) on emptied database `database`:
    /// the admin connection, a temporary directory, the counter file and the address of that database
    /// whose password command counts into it. The user is deleted afterwards.
    func withCountedRedis(
        user: String, database: Int, _ body: (RedisConnection, String, String, StoreAddress) throws -> Void
    ) throws {
        guard case .redis(let base) = try StoreAddress.parse(try #require(TestStores.environment["SESSMIGRATE_REDIS_URL"]), environment: empty) else {
            Issue.record("not redis"); return
        }
        let admin = try RedisConnection.open(host: base.host, port: base.port, options: RedisConnectionOptions(database: database))
        defer {
            _ = try? admin.command(["ACL", "DELUSER", user])
            admin.close()
        }
        _ = try admin.command(["FLUSHDB"])
        try admin.expectOK(admin.command(["ACL", "SETUSER", user, "on", "resetpass", ">tok-SECRET", "~*", "+@all"]), context: "ACL")
        try withTemporaryDirectory { directory in
            let counter = directory + "/counter"
            let address = try StoreAddress.parse(
                "redis://\(user)@\(base.host):\(base.port)/\(database)?layout=community&password-command=\(countingCommand(counter, password: "tok-SECRET"))",
                environment: empty)
            try body(admin, directory, counter, address)
        }
    }

    /// Runs `body` with a MySQL user `user` (password `tok-SECRET`) owning a new database `database`: a
    /// temporary directory, the counter file and the address of that database whose password command
    /// counts into it. The user and the database are dropped afterwards.
    func withCountedMySQL(user: String, database: String, _ body: (String, String, StoreAddress) throws -> Void) throws {
        guard case .mysql(let base) = try StoreAddress.parse(try #require(TestStores.environment["SESSMIGRATE_MYSQL_URL"]), environment: empty) else {
            Issue.record("not mysql"); return
        }
        let socket = try #require(TestStores.environment["SESSMIGRATE_MYSQL_ROOT_SOCKET"])
        let admin = try MySQLConnection.open(host: "localhost", port: 0, user: "root", password: "", database: "mysql", unixSocket: socket)
        defer {
            _ = try? admin.execute("DROP USER IF EXISTS '\(user)'@'\(base.host)'")
            _ = try? admin.execute("DROP DATABASE IF EXISTS `\(database)`")
            admin.close()
        }
        _ = try admin.execute("DROP DATABASE IF EXISTS `\(database)`")
        _ = try admin.execute("CREATE DATABASE `\(database)`")
        _ = try admin.execute("CREATE USER IF NOT EXISTS '\(user)'@'\(base.host)' IDENTIFIED BY 'tok-SECRET'")
        _ = try admin.execute("GRANT ALL ON `\(database)`.* TO '\(user)'@'\(base.host)'")
        try withTemporaryDirectory { directory in
            let counter = directory + "/counter"
            let address = try StoreAddress.parse(
                "mysql://\(user)@\(base.host):\(base.port)/\(database)?password-command=\(countingCommand(counter, password: "tok-SECRET"))",
                environment: empty)
            try body(directory, counter, address)
        }
    }

    /// Settling `--shard-by auto` against the source (or A) takes no connection of its own: a sharded
    /// copy from Redis and a sharded verify of it still connect to that store once.
    @Test func settlingTheShardFunctionConnectsOnce() throws {
        try withCountedRedis(user: "smt_conncount_shard_\(getpid())", database: 36) { _, directory, counter, redis in
            let sessions = try sampleSessions()
            try write(sessions, to: redis)
            try resetCounter(counter)
            var request = try CopyRequest.parse(RequestInput(values: [.shard: "0/2", .workers: "1"]))
            request.ttl = TTLPolicy(origin: .now)
            #expect(request.scope.unsettledShardChoice == .auto)
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/t.db", newFileLayout: .database))
            let copied = try CopyJob(source: redis, target: target, options: request).run()
            #expect(copied.total.read == sessions.filter { request.scope.matches($0) }.count)
            #expect(lines(counter) == 1)
            try resetCounter(counter)
            var job = DiffJob(a: redis, b: target, engine: DiffEngine(detailed: false, scope: request.scope))
            var scope = request.scope
            try job.settleShard(&scope)
            #expect(scope.unsettledShardChoice == nil && scope.shard?.function == .sessionId, "auto on a standalone server: id")
            job.engine.scope = scope
            let (summary, _, _) = try job.run { _ in }
            #expect(summary.isIdentical)
            #expect(lines(counter) == 1)
        }
    }

    @Test func aCopyIntoRedisConnectsToTheTargetOnce() throws {
        try withCountedRedis(user: "smt_conncount_\(getpid())", database: 24) { admin, directory, counter, target in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
            let sessions = try sampleSessions()
            try write(sessions, to: source)
            var request = CopyRequest(batchSize: 3)
            request.ttl = TTLPolicy(origin: .now)
            request.workers = 1
            // The probe's connection served the same-store check, the target check and the writes; into a
            // target that already holds sessions (its layout is sampled, its keys checked) still one.
            try copyTwiceConnectingOnce(from: source, into: target, sessions: sessions.count, request: request, counter: counter)
            // Two workers: one connection each, the first worker's the probe's.
            try resetCounter(counter)
            _ = try admin.command(["FLUSHDB"])
            request.workers = 2
            let pooled = try CopyJob(source: source, target: target, options: request).run()
            #expect(pooled.total.written == sessions.count)
            #expect(lines(counter) == 2)
        }
    }

    @Test func aCopyFromMySQLConnectsToTheSourceOnce() throws {
        try withCountedMySQL(user: "smt_cc_\(getpid())", database: "smt_conncount_\(getpid())") { directory, counter, source in
            let sessions = try sampleSessions()
            try write(sessions, to: source)
            try resetCounter(counter)
            let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst.db", newFileLayout: .database))
            var request = CopyRequest(batchSize: 3)
            request.workers = 1
            let summary = try CopyJob(source: source, target: target, options: request).run()
            #expect(summary.total.written == sessions.count)
            #expect(lines(counter) == 1)
        }
    }

    /// The target's first look (probe, identity, same-store check) is upgraded for writing: one
    /// connection into an empty database (the schema made on it) and into one that holds sessions.
    @Test func aCopyIntoMySQLConnectsToTheTargetOnce() throws {
        try withCountedMySQL(user: "smt_cct_\(getpid())", database: "smt_conncount_t_\(getpid())") { directory, counter, target in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
            let sessions = try sampleSessions()
            try write(sessions, to: source)
            var request = CopyRequest(batchSize: 3)
            request.workers = 1
            try copyTwiceConnectingOnce(from: source, into: target, sessions: sessions.count, request: request, counter: counter)
        }
    }

    /// A time-bounded scan of a standalone Redis reads its `SCAN` steps on a second connection
    /// (`RedisScanAhead`), which runs the password command too; a scan without time bounds does not.
    @Test func aTimeBoundedRedisScanAddsItsScanningConnection() throws {
        try withCountedRedis(user: "smt_conncount_tb_\(getpid())", database: 27) { _, directory, counter, source in
            let sessions = try sampleSessions()
            try write(sessions, to: source)
            var request = CopyRequest(batchSize: 3)
            request.workers = 1
            for (scope, connections) in [(SessionScope.all, 1), (SessionScope(updatedSince: 0), 2)] {
                try resetCounter(counter)
                request.scope = scope
                let target = StoreAddress.sqlite(SQLiteAddress(path: directory + "/dst-\(connections).db", newFileLayout: .database))
                let summary = try CopyJob(source: source, target: target, options: request).run()
                #expect(summary.total.written == sessions.count)
                #expect(lines(counter) == connections, "\(scope)")
            }
        }
    }
}
