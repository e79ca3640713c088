import Testing

@testable import SessMigrate

@Suite struct StoreAddressTests {
    let empty = BotEnvironment(variables: [:])

    @Test func mysqlWithEverything() throws {
        let address = try StoreAddress.parse("mysql://bot:p%40ss:w/rd@10.0.0.5:3307/sessions", environment: empty)
        guard case .mysql(let mysql) = address else { Issue.record("not mysql"); return }
        #expect(mysql.user == "bot")
        #expect(mysql.password == "p@ss:w/rd")
        #expect(mysql.host == "10.0.0.5")
        #expect(mysql.port == 3307)
        #expect(mysql.database == "sessions")
        #expect(address.description == "mysql://bot:***@10.0.0.5:3307/sessions")
    }

    @Test func cloudsqlAliasWithProxySocketAndDriverSuffix() throws {
        for text in ["cloudsql://bot:pw@/db?socket=/cloudsql/p:r:i", "mysql+aiomysql://bot:pw@/db?socket=/cloudsql/p:r:i"] {
            guard case .mysql(let mysql) = try StoreAddress.parse(text, environment: empty) else { Issue.record("not mysql"); return }
            #expect(mysql.socket == "/cloudsql/p:r:i")
            #expect(mysql.database == "db")
        }
    }

    /// Issue 13 item 9: `?socket=` with a host used to be ignored (TCP to the host) while the printed
    /// address claimed the socket. A host other than `localhost` with a socket is refused, naming both.
    @Test(arguments: ["mysql://bot:pw@db.example.com/db?socket=/cloudsql/p:r:i", "mysql://bot:pw@10.0.0.5:3307/db?unix_socket=/s.sock"])
    func socketWithAnotherHostIsRefused(text: String) throws {
        let error = try #require(throws: AddressError.self) { try StoreAddress.parse(text, environment: empty) }
        let host = text.contains("db.example.com") ? "db.example.com" : "10.0.0.5"
        #expect(error.message.contains(host) && error.message.contains(text.contains("/s.sock") ? "/s.sock" : "/cloudsql/p:r:i"), "\(error)")
        #expect(!error.message.contains("pw"), "\(error)")
    }

    /// `localhost` (any case) with a socket is the conventional socket address: the socket is used.
    @Test(arguments: ["mysql://bot:pw@localhost/db?socket=/run/m.sock", "mysql://bot:pw@LocalHost:3306/db?socket=/run/m.sock"])
    func socketWithLocalhostUsesTheSocket(text: String) throws {
        let address = try StoreAddress.parse(text, environment: empty)
        guard case .mysql(let mysql) = address else { Issue.record("not mysql"); return }
        #expect(mysql.socket == "/run/m.sock" && mysql.host == "localhost")
        #expect(address.description == "mysql://bot:***@localhost/db?socket=/run/m.sock")
    }

    @Test func passwordWithAtSignAndQuestionMarkIsKeptWhole() throws {
        guard case .mysql(let mysql) = try StoreAddress.parse("mysql://u:a@b?c@h:1/d", environment: empty) else {
            Issue.record("not mysql"); return
        }
        #expect(mysql.password == "a@b?c")
        #expect(mysql.host == "h")
    }

    @Test func redisWithLayoutTTLAndCredentials() throws {
        let address = try StoreAddress.parse("redis://default:sekret@127.0.0.1:6390/3?layout=adk-redis&ttl=60", environment: empty)
        guard case .redis(let redis) = address else { Issue.record("not redis"); return }
        #expect(redis.database == 3)
        #expect(redis.layout == .adkRedis)
        #expect(redis.ttlSeconds == 60)
        #expect(redis.password == "sekret")
        #expect(!address.description.contains("sekret"))
    }

    @Test func redisClusterModeAndTheOlderLayouts() throws {
        let address = try StoreAddress.parse("redis://10.0.0.7:6379/0?cluster=no&layout=adk-redis-014", environment: empty)
        guard case .redis(let redis) = address else { Issue.record("not redis"); return }
        #expect(redis.cluster == .no)
        #expect(redis.layout == .adkRedis014)
        #expect(address.description.contains("cluster=no") && address.description.contains("layout=adk-redis-014"))
        let set1 = try StoreAddress.parse("rediss://10.0.0.7:6379/0?layout=community-set1", environment: empty)
        guard case .redis(let other) = set1 else { Issue.record("not redis"); return }
        #expect(other.cluster == .auto && other.layout == .communitySet1)
        #expect(!set1.description.contains("cluster="))
        do {
            _ = try StoreAddress.parse("redis://h/0?layout=adk-redis-013", environment: empty)
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("adk-redis-014") && error.message.contains("community-set1"))
        }
    }

    @Test func redisDefaultsFromEnvironment() throws {
        let environment = BotEnvironment(variables: ["REDIS_URL": "redis://10.1.2.3:6379", "REDIS_SESSION_TTL": "7200"])
        guard case .redis(let redis) = try StoreAddress.parse("redis", environment: environment) else {
            Issue.record("not redis"); return
        }
        #expect(redis.host == "10.1.2.3")
        #expect(redis.database == 0)
        #expect(redis.ttlSeconds == 7200)
        #expect(redis.layout == nil)
    }

    @Test func cloudsqlFromEnvironment() throws {
        let environment = BotEnvironment(variables: [
            "CLOUDSQL_HOST": "127.0.0.1", "CLOUDSQL_PORT": "3307", "CLOUDSQL_DATABASE": "app",
            "CLOUDSQL_USER": "app", "CLOUDSQL_PASSWORD": "apppw",
        ])
        let address = try StoreAddress.parse("cloudsql", environment: environment)
        #expect(address.description == "mysql://app:***@127.0.0.1:3307/app")
    }

    @Test func sqliteForms() throws {
        let cases: [(String, String, SQLiteLayoutName)] = [
            ("sqlite:///relative.db", "relative.db", .sqliteSessionService),
            ("sqlite:////abs/path.db", "/abs/path.db", .sqliteSessionService),
            ("sqlite+aiosqlite:////abs/dss.db", "/abs/dss.db", .database),
            ("sqlite:////abs/x.db?layout=database", "/abs/x.db", .database),
            ("snapshots/today.sqlite", "snapshots/today.sqlite", .sqliteSessionService),
            ("/var/x.db", "/var/x.db", .sqliteSessionService),
        ]
        for (text, path, layout) in cases {
            guard case .sqlite(let sqlite) = try StoreAddress.parse(text, environment: empty) else {
                Issue.record("\(text) not sqlite"); continue
            }
            #expect(sqlite.path == path)
            #expect(sqlite.newFileLayout == layout)
        }
    }

    @Test(arguments: [
        "notanaddress", "ftp://x/y", "mysql://u:pw@h:99999/db", "mysql://h/db", "mysql://u:pw@h:3306/",
        "redis://h:6379/x", "redis://h/0?layout=weird", "redis://h/0?ttl=-5", "redis://h/0?tls=1",
        "redis://h/0?cluster=maybe", "sqlite://x.db", "sqlite:////x.db?layout=nope", "rediss://h:6379/0?ssl_cert_reqs=none", "cloudsql", "redis",
    ])
    func malformedAddressesAreOneLineErrors(text: String) {
        do {
            _ = try StoreAddress.parse(text, environment: empty)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func errorsNeverEchoThePassword() {
        for text in ["mysql://u:TopSecret1@h:notaport/db", "redis://u:TopSecret1@h:6379/notanumber", "weird://u:TopSecret1@h"] {
            do {
                _ = try StoreAddress.parse(text, environment: empty)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(!error.message.contains("TopSecret1"))
            }
        }
    }

    @Test func dotenvParsing() throws {
        let text = """
            # bot settings
            export SESSION_BACKEND=redis
            REDIS_URL="redis://10.0.0.1:6379/0"
            CLOUDSQL_PASSWORD='p#ss word'
            REDIS_SESSION_TTL=900 # seconds
            """
        let values = try BotEnvironment.parseDotenv(text)
        #expect(values["SESSION_BACKEND"] == "redis")
        #expect(values["REDIS_URL"] == "redis://10.0.0.1:6379/0")
        #expect(values["CLOUDSQL_PASSWORD"] == "p#ss word")
        #expect(values["REDIS_SESSION_TTL"] == "900")
        let environment = try BotEnvironment(process: ["REDIS_SESSION_TTL": "60"], dotenv: text)
        #expect(try environment.redisSessionTTL() == 60)
    }
}
