import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// diff and verify between every ordered pair of store kinds, against the real servers.
@Suite(.serialized, .enabled(if: TestStores.serversAvailable, "needs SESSMIGRATE_MYSQL_URL and SESSMIGRATE_REDIS_URL"))
struct StorePairTests {
    static let pairs: [(TestStores.Kind, TestStores.Kind)] = TestStores.Kind.allCases.flatMap { a in
        TestStores.Kind.allCases.filter { $0 != a }.map { (a, $0) }
    }

    func differences(_ a: StoreAddress, _ b: StoreAddress) throws -> (DiffSummary, [SessionDifference]) {
        var found: [SessionDifference] = []
        let (summary, _, _) = try DiffJob(a: a, b: b, engine: DiffEngine(batchSize: 3, detailed: true)).run { found.append($0) }
        return (summary, found)
    }

    @Test(arguments: pairs)
    func diffFindsEveryKindOfDifference(kindA: TestStores.Kind, kindB: TestStores.Kind) throws {
        defer { TestStores.dropMySQL(slots: 0..<2) }
        try withTemporaryDirectory { directory in
            let a = try TestStores.make(kindA, slot: 0, directory: directory)
            let b = try TestStores.make(kindB, slot: 1, directory: directory)
            var sessions = try sampleSessions()
            try write(sessions, to: a)
            var options = CopyRequest(batchSize: 3)
            options.ttl.origin = .now  // The sample sessions are from 2023: counted from their update, they have expired.
            _ = try CopyJob(source: a, target: b, options: options).run()
            let (clean, none) = try differences(a, b)
            #expect(clean.isIdentical, "\(kindA) -> \(kindB) copy differs: \(none.prefix(3))")

            // Only in A, only in B, a changed state key, a changed event.
            let onlyInA = try session("only-a-\(kindA)", template: sessions[3])
            try write([onlyInA], to: a)
            let onlyInB = try session("only-b-\(kindB)", template: sessions[3])
            try write([onlyInB], to: b)
            sessions[4].state["i"] = .string("changed")
            var data = sessions[0].events[2].data
            data["author"] = .string("model")
            sessions[0].events[2] = try Event(data: data)
            try write([sessions[4], sessions[0]], to: b)

            for (x, y, flipped) in [(a, b, false), (b, a, true)] {
                let (summary, found) = try differences(x, y)
                #expect(summary.onlyInA == 1 && summary.onlyInB == 1 && summary.changed == 2, "\(kindA)/\(kindB) flipped=\(flipped): \(summary)")
                #expect(found.contains { $0.key == (flipped ? onlyInB : onlyInA).key && $0.kind == .onlyInA })
                #expect(found.contains { $0.key == (flipped ? onlyInA : onlyInB).key && $0.kind == .onlyInB })
                let state = found.first { $0.key == sessions[4].key }?.changes ?? []
                #expect(state == [.stateKey(scope: .session, key: "i", side: .changed)])
                let event = found.first { $0.key == sessions[0].key }?.changes ?? []
                #expect(event == [.event(id: "e3", positionInA: 2, positionInB: 2, side: .changed, fields: ["author"])])
            }
        }
    }

    func session(_ id: String, template: Session) throws -> Session {
        var session = template
        session.key.sessionId = id
        return session
    }
}
