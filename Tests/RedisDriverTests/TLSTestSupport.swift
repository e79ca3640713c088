import DriverCore
import Foundation

@testable import RedisDriver

/// The TLS servers of `scripts/lib/servers.sh` (`SESSMIGRATE_SERVERS_TLS=1`): `SESSMIGRATE_REDIS_TLS_URL`
/// (no client certificate needed), `SESSMIGRATE_REDIS_MTLS_URL` (`--tls-auth-clients yes`) and the
/// throwaway CA's files in `SESSMIGRATE_TLS_DIR`. Their certificate names IP 127.0.0.1 only.
enum TestTLS {
    private static let environment = ProcessInfo.processInfo.environment
    static let directory = environment["SESSMIGRATE_TLS_DIR"]
    static var isAvailable: Bool { directory != nil && port(of: "SESSMIGRATE_REDIS_TLS_URL") != nil }

    static func path(_ name: String) -> String { (directory ?? "/nonexistent") + "/" + name }
    static var ca: String { path("ca.pem") }
    static var otherCA: String { path("other-ca.pem") }

    /// The port of a `rediss://127.0.0.1:PORT` variable.
    static func port(of variable: String) -> Int? {
        environment[variable].flatMap { URLComponents(string: $0)?.port }
    }

    static var tlsPort: Int { port(of: "SESSMIGRATE_REDIS_TLS_URL") ?? 1 }
    static var mtlsPort: Int { port(of: "SESSMIGRATE_REDIS_MTLS_URL") ?? 1 }

    /// Options trusting the test CA (and presenting the test client certificate when `client`).
    static func options(ca: String? = TestTLS.ca, client: Bool = false, checkHostname: Bool = true) -> RedisTLSOptions {
        RedisTLSOptions(
            caFile: ca, certificateFile: client ? path("client-cert.pem") : nil, keyFile: client ? path("client-key.pem") : nil,
            checkHostname: checkHostname)
    }

    /// A connection to the TLS server, database `database`.
    static func connect(host: String = "127.0.0.1", port: Int = tlsPort, database: Int = 0, tls: RedisTLSOptions = options()) throws -> RedisConnection {
        try RedisConnection.open(.tcp(host: host, port: port), options: .init(connectTimeout: 3, database: database, tls: tls))
    }

    /// The error `body` throws, which must be a ``RedisError``.
    static func failure(_ body: () throws -> Void) throws -> RedisError {
        do {
            try body()
        } catch let error as RedisError {
            return error
        }
        throw TestFailure("expected a RedisError, but nothing was thrown")
    }
}

/// A `redis-server` child process of one test (TLS with a certificate of the test CA, or plaintext on
/// a Unix socket), with a plaintext admin port for setup and for `SHUTDOWN NOSAVE` (the test runner
/// blocks signals, and children inherit the mask, so SIGTERM would be ignored).
final class ThrowawayRedis {
    let process: Process
    let port: Int
    let adminPort: Int
    let socketPath: String?
    private let directory: String

    private init(process: Process, port: Int, socketPath: String?, directory: String) {
        (self.process, self.port, self.adminPort, self.socketPath, self.directory) = (process, port, port + 1, socketPath, directory)
    }

    var tls: RedisTLSOptions? { socketPath == nil ? TestTLS.options(client: true) : nil }
    var endpoint: RedisEndpoint { socketPath.map { .unixSocket(path: $0) } ?? .tcp(host: "127.0.0.1", port: port) }

    /// A TLS-only server presenting `certificate` (a file in the test TLS directory).
    static func tls(certificate: String = "server-cert.pem", key: String = "server-key.pem") throws -> ThrowawayRedis {
        try start { port, _ in
            [
                "--port", String(port + 1), "--tls-port", String(port), "--tls-cert-file", TestTLS.path(certificate), "--tls-key-file", TestTLS.path(key),
                "--tls-ca-cert-file", TestTLS.ca, "--tls-auth-clients", "optional",
            ]
        }
    }

    /// A plaintext server listening on a Unix socket only.
    static func unixSocket() throws -> ThrowawayRedis {
        try start { port, directory in ["--port", String(port + 1), "--unixsocket", directory + "/redis.sock", "--unixsocketperm", "700"] }
    }

    private static func start(_ arguments: (Int, String) -> [String]) throws -> ThrowawayRedis {
        for _ in 0..<5 {
            let port = Int.random(in: 17000..<19999)
            let directory = try FileManager.default.url(
                for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: "/tmp"), create: true
            ).path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
            process.arguments =
                arguments(port, directory) + [
                    "--bind", "127.0.0.1", "--daemonize", "no", "--save", "", "--appendonly", "no", "--logfile", "", "--dir", directory,
                ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let socket = arguments(port, directory).contains("--unixsocket") ? directory + "/redis.sock" : nil
            let server = ThrowawayRedis(process: process, port: port, socketPath: socket, directory: directory)
            for _ in 0..<150 where process.isRunning {
                if let connection = try? server.admin() {
                    connection.close()
                    return server
                }
                usleep(20_000)
            }
            server.stop()
        }
        throw TestFailure("could not start a throwaway redis-server")
    }

    func connect(database: Int = 0) throws -> RedisConnection {
        try RedisConnection.open(endpoint, options: .init(connectTimeout: 2, database: database, tls: tls))
    }

    /// A plaintext connection to the admin port.
    func admin() throws -> RedisConnection {
        try RedisConnection.open(host: "127.0.0.1", port: adminPort, options: .init(connectTimeout: 2))
    }

    func stop() {
        if process.isRunning, let connection = try? admin() {
            _ = try? connection.command(["SHUTDOWN", "NOSAVE"])
            connection.close()
        }
        for _ in 0..<150 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
