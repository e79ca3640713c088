import DriverCore
import Foundation
import SessionModel
import Testing

@testable import RedisDriver

/// TLS against the real TLS redis-servers of scripts/lib/servers.sh (certificate for IP 127.0.0.1
/// only, signed by a throwaway CA), and against servers of the tests' own.
@Suite(.enabled(if: TestTLS.isAvailable))
struct RedisTLSTests {
    @Test func theRightCAWorksAndInspectSaysWhatWasChecked() throws {
        let connection = try TestTLS.connect(database: 5)
        defer { connection.close() }
        #expect(try connection.command(["SET", "tls-key", "v"]) == .status("OK"))
        #expect(try connection.command(["GET", "tls-key"]) == .string(Array("v".utf8)))
        let security = connection.securityDescription
        #expect(security.hasPrefix("TLS (TLSv1.3, "))
        #expect(security.contains("certificate verified against \(TestTLS.ca)"))
        #expect(security.contains("IP address 127.0.0.1 checked"))
    }

    /// Big pipelines go out while replies come in: 300 values of 100 KiB each way, in one exchange.
    @Test func largePipelinesStreamBothWays() throws {
        let connection = try TestTLS.connect(database: 6)
        defer { connection.close() }
        let value = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sets = (0..<300).map { [Array("SET".utf8), Array("big-\($0)".utf8), value] }
        #expect(try connection.pipeline(sets).allSatisfy { $0 == .status("OK") })
        let gets = (0..<300).map { [Array("GET".utf8), Array("big-\($0)".utf8)] }
        #expect(try connection.pipeline(gets).allSatisfy { $0 == .string(value) })
        _ = try connection.command(["FLUSHDB"])
    }

    @Test func aSessionStoreWorksOverTLS() throws {
        let config = RedisStoreConfig(port: TestTLS.tlsPort, database: 7, layout: .community, tls: TestTLS.options())
        let session = try Samples.richSession(id: "s-tls", expiry: .never)
        let store = try RedisSessionStore.open(config)
        defer { try? store.close() }
        try store.writeSessions([session])
        var read = try store.fetchSessions([session.key])[session.key]
        read?.expiry = session.expiry
        #expect(read == session)
        #expect(store.connectionSecurity?.hasPrefix("TLS (TLSv1.3") == true)
        #expect(config.description.hasPrefix("rediss://"))
        try store.deleteSessions([session.key])
    }

    @Test func anotherCAIsRefusedNamingTheHostAndReason() throws {
        let error = try TestTLS.failure { _ = try TestTLS.connect(tls: TestTLS.options(ca: TestTLS.otherCA)) }
        #expect(error.code == .authentication)
        #expect(!error.isTransient)
        #expect(error.description.contains("certificate verification of 127.0.0.1:\(TestTLS.tlsPort) failed"))
        #expect(error.description.contains("unknown CA"))
        #expect(error.description.contains(TestTLS.otherCA))
    }

    @Test func withoutACAFileTheSystemStoreRefusesAPrivateCA() throws {
        let error = try TestTLS.failure { _ = try TestTLS.connect(tls: TestTLS.options(ca: nil)) }
        #expect(error.code == .authentication)
        #expect(error.description.contains("no ssl_ca_certs was given"))
    }

    @Test func aPlaintextClientOnTheTLSPortIsToldToUseRediss() throws {
        let error = try TestTLS.failure {
            let connection = try RedisConnection.open(host: "127.0.0.1", port: TestTLS.tlsPort, options: .init(connectTimeout: 3))
            defer { connection.close() }
            _ = try connection.command(["PING"])
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("use rediss://"))
    }

    @Test func TLSToAPlaintextPortIsToldToUseRedis() throws {
        guard let url = TestRedis.url, let port = URLComponents(string: url)?.port else { return }
        let error = try TestTLS.failure {
            _ = try RedisConnection.open(.tcp(host: "127.0.0.1", port: port), options: .init(connectTimeout: 1.5, tls: TestTLS.options()))
        }
        // A plaintext Redis either answers the ClientHello with an error reply or waits for a newline.
        #expect(error.code == .unsupported || error.code == .timeout)
        #expect(error.description.contains("use redis://"))
    }

    @Test func mutualTLSNeedsTheClientCertificate() throws {
        let connection = try TestTLS.connect(port: TestTLS.mtlsPort, tls: TestTLS.options(client: true))
        #expect(try connection.command(["PING"]) == .status("PONG"))
        connection.close()
        let error = try TestTLS.failure { _ = try TestTLS.connect(port: TestTLS.mtlsPort) }
        #expect(error.code == .authentication)
        #expect(error.description.contains("client certificate"))
    }

    @Test func aNameTheCertificateDoesNotCarryIsRefused() throws {
        let error = try TestTLS.failure { _ = try TestTLS.connect(host: "localhost") }
        #expect(error.code == .authentication)
        #expect(error.description.contains("certificate verification of localhost:\(TestTLS.tlsPort) failed"))
        #expect(error.description.lowercased().contains("hostname mismatch"))
        // The opt-out keeps the chain check and says so.
        let unchecked = try TestTLS.connect(host: "localhost", tls: TestTLS.options(checkHostname: false))
        defer { unchecked.close() }
        #expect(unchecked.securityDescription.contains("host name NOT checked (ssl_check_hostname=false"))
        #expect(unchecked.securityDescription.contains("certificate verified against \(TestTLS.ca)"))
        let wrongCA = try TestTLS.failure { _ = try TestTLS.connect(host: "localhost", tls: TestTLS.options(ca: TestTLS.otherCA, checkHostname: false)) }
        #expect(wrongCA.code == .authentication)
    }

    @Test func anExpiredCertificateIsRefused() throws {
        let server = try ThrowawayRedis.tls(certificate: "expired-cert.pem", key: "expired-key.pem")
        defer { server.stop() }
        let error = try TestTLS.failure { _ = try server.connect() }
        #expect(error.code == .authentication)
        #expect(error.description.contains("certificate has expired"))
        #expect(error.description.contains("127.0.0.1:\(server.port)"))
    }

    /// Memorystore rotates its server certificate and drops the connections: a transient fault, and
    /// a new connection verifies the new certificate.
    @Test func aRotationThatDropsTheConnectionIsTransient() throws {
        let server = try ThrowawayRedis.tls()
        defer { server.stop() }
        let connection = try server.connect()
        defer { connection.close() }
        #expect(try connection.command(["PING"]) == .status("PONG"))
        let admin = try server.admin()
        defer { admin.close() }
        try admin.expectOK(
            admin.command([
                "CONFIG", "SET", "tls-cert-file", TestTLS.path("server2-cert.pem"),
                "tls-key-file", TestTLS.path("server2-key.pem"),
            ]), context: "CONFIG SET")
        _ = try admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        let error = try TestTLS.failure { _ = try connection.command(["PING"]) }
        #expect(error.isTransient)
        #expect(error.code == .connectionFailed)
        let again = try server.connect()
        defer { again.close() }
        #expect(try again.command(["PING"]) == .status("PONG"))
    }

    @Test func slowRepliesTimeOutOverTLS() throws {
        let connection = try RedisConnection.open(
            .tcp(host: "127.0.0.1", port: TestTLS.tlsPort), options: .init(commandTimeout: 0.3, database: 8, tls: TestTLS.options()))
        defer { connection.close() }
        let error = try TestTLS.failure { _ = try connection.command(["BLPOP", "tls-timeout-list", "5"]) }
        #expect(error.code == .timeout)
        #expect(throws: RedisError.self) { try connection.command(["PING"]) }
    }

    @Test func TLSOverAUnixSocketIsRefused() throws {
        let error = try TestTLS.failure {
            _ = try RedisConnection.open(.unixSocket(path: "/tmp/none.sock"), options: .init(tls: TestTLS.options()))
        }
        #expect(error.code == .unsupported)
    }

    @Test func badCertificateFilesAreNamed() throws {
        let error = try TestTLS.failure { _ = try TestTLS.connect(tls: RedisTLSOptions(caFile: TestTLS.path("server.ext"))) }
        #expect(error.description.contains("ssl_ca_certs=\(TestTLS.path("server.ext"))"))
        let keyError = try TestTLS.failure {
            _ = try TestTLS.connect(
                tls: RedisTLSOptions(caFile: TestTLS.ca, certificateFile: TestTLS.path("client-cert.pem"), keyFile: TestTLS.path("server-key.pem")))
        }
        #expect(keyError.description.contains("is not the key of ssl_certfile"))
    }
}

/// Unix sockets go through the same transport.
@Suite struct RedisUnixSocketTests {
    @Test func aUnixSocketConnectionWorks() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else { return }
        let server = try ThrowawayRedis.unixSocket()
        defer { server.stop() }
        let connection = try server.connect(database: 2)
        defer { connection.close() }
        #expect(
            try connection.pipeline([[Array("SET".utf8), Array("k".utf8), Array("v".utf8)], [Array("GET".utf8), Array("k".utf8)]])
                == [.status("OK"), .string(Array("v".utf8))])
        #expect(connection.securityDescription == "plaintext")
    }
}
