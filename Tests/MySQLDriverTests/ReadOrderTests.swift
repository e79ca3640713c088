import DriverCore
import SessionModel
import Testing

/// `DatabaseV1Codec.ordered`: the order DatabaseSessionService reads a session's events back in, which
/// diff and verify apply to both sides. No server needed.
struct ReadOrderTests {
    /// Timestamps at microsecond precision first, then ids by UTF-8 bytes, then the order given.
    @Test func sortsByMicrosecondThenIdThenPosition() throws {
        let a = try Fixture.event("b", at: 1_700_000_000.000_001)
        let b = try Fixture.event("a", at: 1_700_000_000.000_001_2)  // the same microsecond as `a`
        let c = try Fixture.event("z", at: 1_699_999_999.5)
        let d = try Fixture.event("a", at: 1_700_000_000.000_001, text: "second of two with one id")
        let session = try Fixture.session("app", "user", "s", events: [a, b, c, d])
        #expect(DatabaseV1Codec.ordered(session).events == [c, b, d, a])
    }

    /// Events already in order come back as they are, including ties the order cannot break.
    @Test func keepsWhatIsAlreadyInOrder() throws {
        let first = try Fixture.event("a", at: 1_700_000_000)
        let tie = try Fixture.event("a", at: 1_700_000_000, text: "same id and time")
        let last = try Fixture.event("b", at: 1_700_000_001)
        for events in [[], [first], [first, tie, last], [tie, first, last]] {
            let session = try Fixture.session("app", "user", "s", events: events)
            #expect(DatabaseV1Codec.ordered(session) == session)
        }
        let reversed = try Fixture.session("app", "user", "s", events: [last, tie, first])
        #expect(DatabaseV1Codec.ordered(reversed).events == [tie, first, last])
    }
}
