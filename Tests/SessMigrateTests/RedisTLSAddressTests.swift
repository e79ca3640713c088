import Foundation
import RedisDriver
import Testing

@testable import SessMigrate

/// `rediss://` addresses in redis-py's form (the bot's `REDIS_URL`), and what is refused.
@Suite struct RedisTLSAddressTests {
    let empty = BotEnvironment(variables: [:])

    /// Three readable placeholder files (the parser checks that they can be read, not their content).
    func withFiles(_ body: (_ ca: String, _ cert: String, _ key: String) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let paths = ["ca.pem", "cert.pem", "key.pem"].map { directory + "/" + $0 }
            for path in paths { try Data("x".utf8).write(to: URL(fileURLWithPath: path)) }
            try body(paths[0], paths[1], paths[2])
        }
    }

    @Test func redisPyParametersAreRead() throws {
        try withFiles { ca, cert, key in
            let text = "rediss://:tok@10.0.0.3:6378/2?ssl_ca_certs=\(ca)&ssl_certfile=\(cert)&ssl_keyfile=\(key)&ssl_cert_reqs=required&layout=community"
            let address = try StoreAddress.parse(text, environment: empty)
            guard case .redis(let redis) = address else { Issue.record("not redis"); return }
            #expect(redis.tls == RedisTLSOptions(caFile: ca, certificateFile: cert, keyFile: key, checkHostname: true))
            #expect((redis.host, redis.port, redis.database, redis.password) == ("10.0.0.3", 6378, 2, "tok"))
            // Printed in redis-py's form, and that parses back to the same settings.
            #expect(address.description.hasPrefix("rediss://:***@10.0.0.3:6378/2?layout=community&ttl=3600&ssl_ca_certs=\(ca)&ssl_certfile="))
            guard case .redis(let again) = try StoreAddress.parse(address.description.replacing(":***@", with: "@"), environment: empty) else {
                Issue.record("not redis"); return
            }
            #expect(again.tls == redis.tls)
        }
    }

    @Test(arguments: [("true", true), ("YES", true), ("1", true), ("t", true), ("false", false), ("No", false), ("0", false), ("F", false)])
    func checkHostnameTakesRedisPyBooleans(value: String, expected: Bool) throws {
        try withFiles { ca, _, _ in
            guard case .redis(let redis) = try StoreAddress.parse("rediss://h:6379/0?ssl_ca_certs=\(ca)&ssl_check_hostname=\(value)", environment: empty) else {
                Issue.record("not redis"); return
            }
            #expect(redis.tls?.checkHostname == expected)
            #expect(StoreAddress.redis(redis).description.contains("ssl_check_hostname=false") == !expected)
        }
    }

    @Test func hostnamesAreCheckedByDefault() throws {
        guard case .redis(let redis) = try StoreAddress.parse("rediss://10.0.0.3:6378", environment: empty) else { Issue.record("not redis"); return }
        #expect(redis.tls == RedisTLSOptions())
        #expect(redis.tls?.checkHostname == true)
    }

    @Test(arguments: [
        ("rediss://h/0?ssl_cert_reqs=none", "ssl_cert_reqs=none turns off certificate verification"),
        ("rediss://h/0?ssl_cert_reqs=sometimes", "is not one of required, optional, none"),
        ("rediss://h/0?ssl_check_hostname=off", "is not true or false"),
        ("rediss://h/0?ssl_check_hostname=", "is not true or false"),
        ("redis://h/0?ssl_ca_certs=/etc/hostname", "use rediss://"),
        ("rediss://h/0?ssl_ca_certs=/nonexistent/ca.pem", "ssl_ca_certs file /nonexistent/ca.pem cannot be read"),
        ("rediss://h/0?ssl_certfile=/etc/hostname", "ssl_certfile and ssl_keyfile go together"),
        ("rediss://h/0?ssl_ciphers=ALL", "unknown parameter 'ssl_ciphers'"),
    ])
    func unsafeOrMalformedTLSIsRefused(text: String, says: String) {
        let error = #expect(throws: AddressError.self) { try StoreAddress.parse(text, environment: empty) }
        #expect(error?.message.contains(says) == true, "\(error?.message ?? "")")
    }

    @Test func theBotsRedisURLFromDotenvCarriesTLS() throws {
        try withFiles { ca, _, _ in
            let dotenv = "REDIS_URL=rediss://:auth-string@10.0.0.3:6378/0?ssl_ca_certs=\(ca)\nREDIS_SESSION_TTL=900\n"
            let environment = try BotEnvironment(process: [:], dotenv: dotenv)
            guard case .redis(let redis) = try StoreAddress.parse("redis", environment: environment) else { Issue.record("not redis"); return }
            #expect(redis.tls?.caFile == ca)
            #expect(redis.ttlSeconds == 900)
            #expect(redis.password == "auth-string")
        }
    }
}
