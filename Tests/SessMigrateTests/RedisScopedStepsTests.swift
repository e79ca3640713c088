import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// A time-bounded Redis scan over several `SCAN` steps (a scoped step is 5,000 keys), its steps fetched
/// ahead on a second connection (`RedisScanAhead`): the scan returns exactly the sessions in scope,
/// and resumes from the middle. TestStores slot 30
/// (Redis database 94).
@Suite(.enabled(if: TestStores.serversAvailable)) struct RedisScopedStepsTests {
    static let base = 1_800_000_000.0

    @Test func aScanOfManyStepsReturnsExactlyTheScope() throws {
        try withTemporaryDirectory { directory in
            let address = try TestStores.make(.redisCommunity, slot: 30, directory: directory)
            let sessions = try (0..<12_000).map { n in
                let event = try Event(data: ["id": .string("e\(n)"), "timestamp": .number(JSONNumber(Self.base + Double(n))), "author": .string("user")])
                return Session(
                    key: SessionKey(appName: "app", userId: "u\(n % 7)", sessionId: "s\(n)"), events: [event], lastUpdateTime: Self.base + Double(n))
            }
            try write(sessions, to: address)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            for scope in [
                SessionScope(updatedSince: Self.base + 11_000), SessionScope(updatedSince: Self.base + 100, updatedBefore: Self.base + 9_000.5),
                SessionScope(users: ["u3"], updatedBefore: Self.base + 6_000),
            ] {
                let expected = Set(sessions.filter(scope.matches).map(\.key))
                let (keys, tokens) = try ScopePushdownTests.scan(store, scope, batchSize: 500)
                let exact = keys.count == expected.count && Set(keys) == expected  // (a Bool: a failure prints counts, not the sets)
                #expect(exact, "\(scope): \(keys.count) sessions, \(expected.count) in scope")
                let cut = keys.count / 2
                let rest = try ScopePushdownTests.scan(store, scope, batchSize: 500, resumeAfter: tokens[cut - 1]).keys
                let resumed = Set(keys.prefix(cut)).union(rest)
                let complete = resumed == expected
                #expect(complete, "resumed \(scope): \(resumed.count) sessions, \(expected.count) in scope")
            }
        }
    }
}
