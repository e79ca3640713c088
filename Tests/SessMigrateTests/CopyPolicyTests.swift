import DriverCore
import Foundation
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Dry runs, expiry and mirroring against the real servers.
@Suite(.serialized, .enabled(if: TestStores.serversAvailable, "needs SESSMIGRATE_MYSQL_URL and SESSMIGRATE_REDIS_URL"))
struct CopyPolicyTests {
    @Test(arguments: TestStores.Kind.allCases)
    func dryRunLeavesTheTargetByteIdentical(kind: TestStores.Kind) throws {
        defer { TestStores.dropMySQL(slots: 2..<3) }
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            var sessions = try sampleSessions()
            try write(sessions, to: source)
            let target = try TestStores.make(kind, slot: 2, directory: directory)
            sessions[0].state["only in target"] = .bool(true)
            sessions[1].lastUpdateTime += 1_000
            sessions[2].key.sessionId = "target-only"
            try write(Array(sessions[0..<3]), to: target)
            let before = try TestStores.rawDump(target)

            var options = CopyRequest(batchSize: 2)
            options.dryRun = true
            options.mirror = true
            options.ttl.origin = .now
            options.onConflict = .newer
            let planned = try CopyJob(source: source, target: target, options: options).run()
            #expect(try TestStores.rawDump(target) == before)
            #expect(planned.total.inserted > 0)
            #expect(planned.total.keptNewerTarget == 1)
            #expect(planned.total.deleted == 1)
            #expect(planned.apps.count == 2)
        }
    }

    @Test func aMissingSQLiteTargetIsNotCreatedByADryRun() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            try write(try sampleSessions(), to: source)
            let path = directory + "/new.db"
            var options = CopyRequest()
            options.dryRun = true
            let planned = try CopyJob(source: source, target: .sqlite(SQLiteAddress(path: path, newFileLayout: .database)), options: options).run()
            #expect(planned.total.inserted == planned.total.read)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func expiredSessionsAreSkippedAndCountedUnlessIncluded() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .database))
            let now = Clock.epochSeconds()
            var fresh = try sampleSessions()[3]
            fresh.lastUpdateTime = now - 60
            var stale = try sampleSessions()[4]
            stale.lastUpdateTime = now - 7_200
            try write([fresh, stale], to: source)
            let target = try TestStores.make(.redisADK, slot: 3, directory: directory)
            let copied = try CopyJob(source: source, target: target, options: CopyRequest()).run()
            #expect(copied.total.inserted == 1)
            #expect(copied.total.skippedExpired == 1)
            let stored = try readAll(target)
            #expect(stored[fresh.key] != nil && stored[stale.key] == nil)
            guard case .at(let expiry)? = stored[fresh.key]?.expiry else { Issue.record("no expiry"); return }
            #expect(abs(expiry - (fresh.lastUpdateTime + 3_600)) < 2)

            var options = CopyRequest()
            options.ttl.includeExpired = true
            let revived = try CopyJob(source: source, target: target, options: options).run()
            #expect(revived.total.inserted == 1)
            guard case .at(let later)? = try readAll(target)[stale.key]?.expiry else { Issue.record("stale not written"); return }
            #expect(abs(later - (now + 3_600)) < 30)
        }
    }

    @Test func mirrorDeletesOnlyInsideTheScope() throws {
        try withTemporaryDirectory { directory in
            let source = StoreAddress.sqlite(SQLiteAddress(path: directory + "/src.db", newFileLayout: .sqliteSessionService))
            let sessions = try sampleSessions()
            try write(Array(sessions[2...]), to: source)
            let target = try TestStores.make(.redisCommunity, slot: 4, directory: directory)
            try write(sessions, to: target)
            var options = CopyRequest()
            options.mirror = true
            options.ttl.origin = .now
            options.scope.apps = ["app two"]
            _ = try CopyJob(source: source, target: target, options: options).run()
            let after = try readAll(target)
            #expect(after.count == sessions.count, "app one sessions are outside the scope and stay")
            options.scope = SessionScope()
            options.scope.apps = ["app one"]
            let mirrored = try CopyJob(source: source, target: target, options: options).run()
            #expect(mirrored.total.deleted == 2)
            #expect(try readAll(target).count == sessions.count - 2)
        }
    }
}
