import Testing

@testable import SessionModel

@Suite struct StateScopesTests {
    @Test func splitFollowsExtractStateDelta() {
        let state: JSONObject = ["app:theme": .string("dark"), "user:name": .string("Zoë"), "temp:x": .bool(true), "count": .number(JSONNumber(1))]
        let split = StateScopes.split(state)
        #expect(split.app == ["theme": .string("dark")])
        #expect(split.user == ["name": .string("Zoë")])
        #expect(split.session == ["count": .number(JSONNumber(1))])
    }

    @Test func mergeOverwritesSessionKeysWithScopedOnes() {
        let merged = StateScopes.merge(
            session: ["count": .number(JSONNumber(1)), "app:theme": .string("stale")],
            app: ["theme": .string("light")],
            user: ["lang": .string("fr")]
        )
        #expect(merged.keys == ["count", "app:theme", "user:lang"])
        #expect(merged["app:theme"] == .string("light"))
    }

    @Test func eventKeepsColumnsInStep() throws {
        let data = try JSONValue.parseObject(#"{"author": "user", "id": "old", "timestamp": 1700000000.123456}"#)
        let event = try Event(data: data, columnId: "e1", columnInvocationId: "inv", columnTimestamp: 1)
        #expect(event.id == "e1")
        #expect(event.invocationId == "inv")
        #expect(event.timestamp == 1_700_000_000.123456)
        #expect(event.data["id"] == .string("e1"))
    }

    @Test func eventWithoutIdIsRejected() {
        #expect(throws: SessionModelError.self) { try Event(data: ["timestamp": .number(JSONNumber(1.0))]) }
    }
}
