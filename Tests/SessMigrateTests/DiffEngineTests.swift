import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// The diff engine between real SQLite files of both layouts.
@Suite struct DiffEngineTests {
    func stores(_ directory: String) -> (StoreAddress, StoreAddress) {
        (
            .sqlite(SQLiteAddress(path: directory + "/a.db", newFileLayout: .sqliteSessionService)),
            .sqlite(SQLiteAddress(path: directory + "/b.db", newFileLayout: .database))
        )
    }

    func diff(_ a: StoreAddress, _ b: StoreAddress) throws -> (DiffSummary, [SessionDifference]) {
        var found: [SessionDifference] = []
        let (summary, _, _) = try DiffJob(a: a, b: b, engine: DiffEngine(batchSize: 2, detailed: true)).run { found.append($0) }
        return (summary, found)
    }

    @Test func identicalStoresAreIdentical() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = stores(directory)
            let sessions = try sampleSessions()
            try write(sessions, to: a)
            try write(sessions, to: b)
            let (summary, found) = try diff(a, b)
            #expect(summary.isIdentical)
            #expect(found.isEmpty)
            #expect(summary.identical == sessions.count)
            #expect(summary.eventsInA == summary.eventsInB)
        }
    }

    @Test func findsEveryKindOfDifferenceInOnePass() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = stores(directory)
            var sessions = try sampleSessions()
            try write(sessions, to: a)
            let onlyInA = sessions.removeLast()
            var extra = sessions[3]
            extra.key.sessionId = "only-in-b"
            sessions.append(extra)
            sessions[0].state["n"] = .number(JSONNumber(2))
            var changedEvent = sessions[0].events[1].data
            changedEvent["author"] = .string("model")
            sessions[0].events[1] = try Event(data: changedEvent)
            sessions[2].events.removeLast()
            try write(sessions, to: b)

            let (summary, found) = try diff(a, b)
            #expect(!summary.isIdentical)
            #expect(summary.onlyInA == 1)
            #expect(summary.onlyInB == 1)
            #expect(summary.changed == 2)
            #expect(found.contains { $0.kind == .onlyInA && $0.key == onlyInA.key })
            #expect(found.contains { $0.kind == .onlyInB && $0.key == extra.key })
            let first = try #require(found.first { $0.key == sessions[0].key })
            #expect(first.changes.contains(.stateKey(scope: .session, key: "n", side: .changed)))
            #expect(first.changes.contains(.event(id: "e2", positionInA: 1, positionInB: 1, side: .changed, fields: ["author"])))
            let long = try #require(found.first { $0.key == sessions[2].key })
            #expect(long.changes.contains(.event(id: "ev-0249", positionInA: 249, positionInB: nil, side: .onlyInA, fields: [])))
        }
    }

    /// Both stores are read at once; progress counts both, a line every batch of either side on the
    /// caller's thread however the two threads interleave, and ends with the whole count; differences
    /// come in key order.
    @Test func progressCountsBothSidesAndDifferencesComeInKeyOrder() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = stores(directory)
            let sessions = try ScaleData.sessions(40)
            try write(sessions, to: a)
            try write(Array(sessions.dropFirst(5)), to: b)
            var began: Int?
            var counts: [Int] = []
            var ended = 0
            var found: [SessionDifference] = []
            let caller = Thread.current
            var offThread = 0
            let (summary, _, _) = try DiffJob(a: a, b: b, engine: DiffEngine(batchSize: 4, detailed: false)).run(
                events: { event in
                    if Thread.current != caller { offThread += 1 }
                    switch event {
                    case .began(_, let total): began = total
                    case .advanced(let progress): counts.append(progress.sessions)
                    case .ended: ended += 1
                    default: break
                    }
                }, report: { found.append($0) })
            #expect(began == 75 && ended == 1 && offThread == 0)
            // One line per 4 sessions of either side, whichever thread read them, then the whole count.
            #expect(counts == Array(stride(from: 4, through: 72, by: 4)) + [75], "\(counts)")
            #expect(summary.onlyInA == 5 && summary.identical == 35)
            #expect(found.map(\.key) == found.map(\.key).sorted() && found.count == 5)
        }
    }
}
