import DriverCore
import Foundation
import Testing

@testable import RedisDriver

@Suite struct ConnectionFailureTests {
    @Test func unreachablePortIsConnectionFailed() throws {
        let error = try #require(throws: RedisError.self) {
            try RedisConnection.open(host: "127.0.0.1", port: 1, options: .init(connectTimeout: 2, password: "s3cret-pass"))
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("127.0.0.1:1"))
        #expect(!error.description.contains("s3cret-pass"))
    }

    @Test func missingSocketIsConnectionFailed() throws {
        let error = try #require(throws: RedisError.self) {
            try RedisSessionStore.open(RedisStoreConfig(socketPath: "/nonexistent/redis.sock"))
        }
        #expect(error.code == .connectionFailed)
    }

    /// A throwaway server with a password (`requirepass s3cret`) on a random local port.
    @Test func wrongPasswordIsAuthenticationWithoutThePassword() throws {
        guard let server = try PasswordServer.start() else { return }
        defer { server.stop() }
        let port = server.port
        for options in [
            RedisConnectionOptions(password: "wrong-password-123"),
            RedisConnectionOptions(username: "default", password: "wrong-password-123"),
        ] {
            let error = try #require(throws: RedisError.self) {
                try RedisConnection.open(host: "127.0.0.1", port: port, options: options)
            }
            #expect(error.code == .authentication)
            #expect(!error.description.contains("wrong-password-123"))
            #expect(!String(reflecting: error).contains("wrong-password-123"))
        }
        let noAuth = try #require(throws: RedisError.self) {
            try RedisConnection.open(host: "127.0.0.1", port: port, options: .init(database: 3))
        }
        #expect(noAuth.code == .authentication)
        let store = try RedisSessionStore.open(RedisStoreConfig(port: port, database: 2, username: "default", password: "s3cret"))
        #expect(store.layout.name == "empty")
        try store.close()
    }
}

/// A `redis-server --requirepass s3cret` child process, stopped with `SHUTDOWN NOSAVE` (the test
/// runner blocks signals, and children inherit the mask, so SIGTERM would be ignored).
private final class PasswordServer {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts a server, or returns `nil` when `redis-server` is not installed.
    static func start() throws -> PasswordServer? {
        let path = "/usr/bin/redis-server"
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        for _ in 0..<5 {
            let port = Int.random(in: 16400..<16999)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--requirepass", "s3cret", "--daemonize", "no",
                "--save", "", "--appendonly", "no", "--logfile", "",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let server = PasswordServer(process: process, port: port)
            for _ in 0..<100 where process.isRunning {
                if let connection = try? RedisConnection.open(host: "127.0.0.1", port: port, options: .init(password: "s3cret")) {
                    connection.close()
                    return server
                }
                usleep(20_000)
            }
            server.stop()
        }
        throw TestFailure("could not start a throwaway redis-server")
    }

    func stop() {
        if process.isRunning, let connection = try? RedisConnection.open(host: "127.0.0.1", port: port, options: .init(password: "s3cret")) {
            _ = try? connection.command(["SHUTDOWN", "NOSAVE"])
            connection.close()
        }
        for _ in 0..<150 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

@Suite(.enabled(if: TestRedis.isAvailable))
struct ConnectionTests {
    @Test func repliesConvertFromTheServer() throws {
        try TestRedis.withEmptyDatabase(40) { connection in
            let key: [UInt8] = Array("bin\0key".utf8)
            let value: [UInt8] = [0, 255, 10, 13, 0]
            #expect(try connection.command([Array("SET".utf8), key, value]) == .status("OK"))
            #expect(try connection.command([Array("GET".utf8), key]) == .string(value))
            #expect(try connection.command(["GET", "missing"]) == .null)
            #expect(try connection.command(["INCRBY", "n", "-5"]) == .integer(-5))
            #expect(try connection.command(["RPUSH", "l", "a", ""]) == .integer(2))
            #expect(try connection.command(["LRANGE", "l", "0", "-1"]) == .array([.string(Array("a".utf8)), .string([])]))
            guard case .error(let message) = try connection.command(["HGET", "l", "f"]) else {
                Issue.record("expected WRONGTYPE")
                return
            }
            #expect(message.hasPrefix("WRONGTYPE"))
            let replies = try connection.pipeline([
                [Array("PING".utf8)], [Array("GET".utf8), key], [Array("NOSUCHCOMMAND".utf8)], [Array("EXISTS".utf8), key],
            ])
            #expect(replies.count == 4)
            #expect(replies[0] == .status("PONG"))
            #expect(replies[1] == .string(value))
            #expect(replies[2].kind == "error")
            #expect(replies[3] == .integer(1))
        }
    }

    @Test func slowRepliesTimeOut() throws {
        var config = try TestRedis.config(database: 40)
        config.commandTimeoutSeconds = 0.3
        let connection = try RedisConnection.open(config.endpoint, options: config.connectionOptions)
        defer { connection.close() }
        let error = try #require(throws: RedisError.self) { try connection.command(["BLPOP", "timeout-test-list", "5"]) }
        #expect(error.code == .timeout)
        // hiredis contexts are unusable after an I/O error.
        #expect(throws: RedisError.self) { try connection.command(["PING"]) }
    }

    @Test func transactionsAndScanThroughTheKeyspace() throws {
        try TestRedis.withEmptyDatabase(48) { _ in }
        let config = try TestRedis.config(database: 48)
        let keyspace = RedisStandaloneKeyspace(connection: try RedisConnection.open(config.endpoint, options: config.connectionOptions))
        defer { keyspace.close() }
        let groups = (0..<250).map { index in
            [
                RedisCommand([Array("SET".utf8), Array("k\(index)".utf8), Array("v".utf8)], keyIndex: 1),
                RedisCommand([Array("INCR".utf8), Array("counter".utf8)], keyIndex: 1),
            ]
        }
        let results = try keyspace.executeTransactions(groups)
        #expect(results.count == 250)
        #expect(results.last == [.status("OK"), .integer(250)])
        let scan = keyspace.scanKeys(match: "k*", count: 10)
        var seen = Set<[UInt8]>()
        while let batch = try scan.next() { seen.formUnion(batch) }
        #expect(seen.count == 250)
        #expect(scan.position == nil)
        #expect(try keyspace.fetchServerVersion() >= RedisServerVersion(major: 5, minor: 0, patch: 0))
    }
}
