import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Copies between the server stores (MySQL, Redis in both layouts) interrupted after every batch
/// and resumed from the last checkpoint, with `--mirror` deleting the target's extra sessions.
/// Uses slots 10 and 11 (Redis databases 74 and 75).
@Suite(.serialized, .enabled(if: TestStores.serversAvailable, "needs SESSMIGRATE_MYSQL_URL and SESSMIGRATE_REDIS_URL"))
struct CopyResumeServerTests {
    static let pairs: [(TestStores.Kind, TestStores.Kind)] = [
        (.sqliteSSS, .mysql), (.mysql, .redisCommunity), (.redisADK, .sqliteDSS), (.redisCommunity, .mysql), (.mysql, .redisADK),
    ]

    @Test(arguments: pairs)
    func crashAfterEveryBatchEndsWithTheTargetEqualToTheSource(sourceKind: TestStores.Kind, targetKind: TestStores.Kind) throws {
        defer { TestStores.dropMySQL(slots: 10..<12) }
        try withTemporaryDirectory { directory in
            let source = try TestStores.make(sourceKind, slot: 10, directory: directory)
            let target = try TestStores.make(targetKind, slot: 11, directory: directory)
            let sessions = try CopyResumeTests.sessions()
            try write(sessions, to: source)
            let extra = try CopyResumeTests.sessions().suffix(4).map { session in
                var session = session
                session.key.sessionId += "-extra"
                return session
            }
            try write(extra, to: target)

            var options = CopyRequest(batchSize: 3)
            options.mirror = true
            options.ttl.origin = .now  // The sample sessions are from 2023: counted from their update, they have expired.
            let outcome = try CrashingCopy.run(
                options: options, source: { try StoreOpener().open(source, forWriting: false) },
                target: { try StoreOpener().open(target, forWriting: true) })

            let batches = (sessions.count + 2) / 3
            let total = outcome.summary.total
            let fromRedis = sourceKind == .redisADK || sourceKind == .redisCommunity
            if fromRedis {
                // A resumed SCAN may repeat sessions of the step it stopped in.
                #expect(outcome.crashes >= batches)
                #expect(total.read >= sessions.count)
            } else {
                #expect(outcome.crashes == batches)
                #expect(total.read == sessions.count)
            }
            #expect(total.inserted + total.updated + total.unchanged == total.read)
            #expect(total.deleted == extra.count)

            let a = try StoreOpener().open(source, forWriting: false)
            defer { try? a.close() }
            let b = try StoreOpener().open(target, forWriting: false)
            defer { try? b.close() }
            let (diff, found) = try CrashingCopy.differences(a, b)
            #expect(diff.isIdentical, "\(sourceKind) -> \(targetKind): \(found.prefix(3))")
            #expect(diff.sessionsInA == sessions.count && diff.sessionsInB == sessions.count)

            // Copying again writes nothing.
            let again = try CopyJob(source: source, target: target, options: options).run()
            #expect(again.total.written == 0 && again.total.deleted == 0)
        }
    }
}
