import DriverCore
import Testing

@testable import SessMigrate
@testable import SessionModel

/// The prefetcher's hand-offs: batches in source order with their tokens, and events serialized in
/// the target's style on the reading thread.
@Suite struct BatchPrefetcherTests {
    /// Sessions `s0` … of one event each, with a token after each.
    final class ListCursor: SessionCursor {
        let sessions: [Session]
        var position = 0
        init(_ sessions: [Session]) { self.sessions = sessions }
        func next() throws -> Session? {
            guard position < sessions.count else { return nil }
            position += 1
            return sessions[position - 1]
        }
        var resumeToken: String? { position == 0 ? nil : "after-\(position)" }
        func takeSkipped() -> [SkippedSession] { [] }
    }

    static func sessions(_ count: Int) throws -> [Session] {
        try (0..<count).map { index in
            let event = try Event(data: ["id": .string("e\(index)"), "timestamp": .number(JSONNumber(1.5)), "text": .string("ünï")])
            return Session(key: SessionKey(appName: "a", userId: "u", sessionId: "s\(index)"), events: [event], lastUpdateTime: 1.5)
        }
    }

    @Test(arguments: [1, 3, 7])
    func everyBatchInOrderWithItsEventsSerialized(batchSize: Int) throws {
        let sessions = try Self.sessions(20)
        let reader = BatchPrefetcher(cursor: ListCursor(sessions), batchSize: batchSize, scope: SessionScope(), eventDataStyle: .python)
        defer { reader.close() }
        var seen: [String] = []
        while let batch = try reader.next() {
            #expect(batch.resumeToken == "after-\(seen.count + batch.sessions.count)")
            for session in batch.sessions {
                seen.append(session.key.sessionId)
                // Serialized on the reading thread, in the style asked for; the event is unchanged.
                let event = try #require(session.events.first)
                #expect(event.preparedStyle == .python)
                #expect(event.serializedData(.python) == event.data.serialized(.python))
                #expect(event == sessions[seen.count - 1].events[0])
            }
        }
        #expect(seen == sessions.map(\.key.sessionId))
        #expect(try reader.next() == nil)  // the end is final
    }

    @Test func nothingIsSerializedWithoutAStyle() throws {
        let reader = BatchPrefetcher(cursor: ListCursor(try Self.sessions(3)), batchSize: 2, scope: SessionScope())
        defer { reader.close() }
        while let batch = try reader.next() { #expect(batch.sessions.allSatisfy { $0.events.allSatisfy { $0.preparedStyle == nil } }) }
    }
}
