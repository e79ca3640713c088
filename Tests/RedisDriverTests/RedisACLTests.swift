import DriverCore
import Foundation
import SessionModel
import Testing

@testable import RedisDriver

/// `redis://USER:PASS@…` logs in with `AUTH USER PASS` (Redis 6 ACL users). Each test creates its
/// own user allowed only what sessmigrate needs, and deletes it. Database 47 belongs to these tests.
@Suite(.serialized, .enabled(if: TestRedis.isAvailable, "needs SESSMIGRATE_REDIS_URL"))
struct RedisACLTests {
    static let database = 47
    static let password = "Pw-acl-\(getpid())-SECRET"

    /// The commands sessmigrate sends, on the key prefixes ADK's layouts and the run lock use.
    static let rules = [
        "on", ">\(password)", "resetkeys", "~session:*", "~app:*", "~user:*", "~sessmigrate:*", "resetchannels", "-@all",
        "+auth", "+select", "+ping", "+info", "+scan", "+type", "+get", "+set", "+del", "+pttl", "+pexpire", "+pexpireat",
        "+persist", "+hgetall", "+hset", "+sadd", "+srem", "+multi", "+exec", "+discard",
        // Fenced writes (a compare-and-set script), the server clock, community index reads, scoped scans.
        "+script|load", "+evalsha", "+eval", "+time", "+smembers", "+getrange",
    ]

    /// Creates the user `name` with `rules`, runs `body`, deletes the user (also on failure).
    func withUser<T>(_ name: String, rules: [String] = rules, _ body: (RedisStoreConfig) throws -> T) throws -> T {
        try TestRedis.withEmptyDatabase(Self.database) { admin in
            try admin.expectOK(admin.command(["ACL", "SETUSER", name, "reset"] + rules), context: "ACL SETUSER")
            defer { _ = try? admin.command(["ACL", "DELUSER", name]) }
            var config = try TestRedis.config(database: Self.database, layout: .community)
            (config.username, config.password) = (name, Self.password)
            return try body(config)
        }
    }

    @Test func aclUserCopiesSessionsWithTheCommandsItIsAllowed() throws {
        try withUser("smt_acl_\(getpid())") { config in
            let session = try Samples.richSession(id: "acl-1", expiry: Samples.fromNow(600))
            let store = try RedisSessionStore.open(config)
            defer { try? store.close() }
            try store.writeSessions([session])
            #expect(try store.fetchSessions([session.key])[session.key] != nil)
            // The copy's fenced write (the compare-and-set script) of a changed session.
            let stored = try #require(try store.fetchVersionedSessions([session.key])[session.key])
            var changed = session
            changed.state["acl"] = .string("fenced")
            #expect(try store.writeSessions(fenced: [FencedWrite(session: changed, expected: stored.version)]).isEmpty, "nothing refused")
            #expect(try store.fetchSessions([session.key])[session.key]?.state["acl"] == .string("fenced"))
            _ = try store.serverTime()
            #expect(try store.fetchStats().sessions == 1)
            try store.acquireRunLock(owner: "test")
            store.releaseRunLock(owner: "test")
            let identity = try #require(try store.fetchIdentity())
            #expect(identity.description.contains("database \(Self.database)"))
            #expect(config.description.contains("smt_acl_") && !config.description.contains(Self.password))
        }
    }

    @Test func wrongPasswordOrUserIsAnAuthenticationErrorWithoutThePassword() throws {
        try withUser("smt_acl_wrong_\(getpid())") { config in
            var wrongPassword = config
            wrongPassword.password = "Pw-wrong-\(getpid())-SECRET"
            var wrongUser = config
            wrongUser.username = "smt_nobody_\(getpid())"
            for bad in [wrongPassword, wrongUser] {
                let error = try #require(throws: RedisError.self) { try RedisSessionStore.open(bad) }
                #expect(error.code == .authentication)
                #expect(error.serverErrorPrefix == "WRONGPASS")
                #expect(!error.description.contains(Self.password) && !error.description.contains(bad.password ?? "?"))
            }
        }
    }

    /// Without `+info` the store cannot tell its identity; copying then compares addresses only.
    @Test func identityIsUnknownWithoutINFO() throws {
        try withUser("smt_acl_noinfo_\(getpid())", rules: Self.rules.filter { $0 != "+info" }) { config in
            let store = try RedisSessionStore.open(config)
            defer { try? store.close() }
            #expect(try store.fetchIdentity() == nil)
        }
    }
}
