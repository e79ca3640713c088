import Testing

@testable import SessionModel

/// `update(with:)`, `StateScopes.split` and `merge` are linear (a hash index), and mean exactly what
/// setting the keys one at a time means (Python's `dict.update`).
@Suite struct JSONObjectUpdateTests {
    /// Setting each key in turn: the definition the indexed versions must match.
    static func naiveUpdate(_ base: JSONObject, _ other: JSONObject) -> JSONObject {
        var result = base
        for (key, value) in other { result[key] = value }
        return result
    }

    static func object(_ keys: [Int], tag: Int) -> JSONObject {
        JSONObject(keys.map { (key: "k\($0)", value: JSONValue.number(JSONNumber($0 * 10 + tag))) })
    }

    static func dictionary(_ object: JSONObject) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: object.members.map { ($0.key, $0.value) })
    }

    @Test(arguments: [(0, 0), (3, 5), (9, 2), (20, 20), (50, 7), (7, 50)])
    func updateMatchesSettingKeysOneByOne(baseCount: Int, otherCount: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let base = Self.object((0..<baseCount).map { _ in Int.random(in: 0..<60, using: &generator) }, tag: 1)
            let other = Self.object((0..<otherCount).map { _ in Int.random(in: 0..<60, using: &generator) }, tag: 2)
            var updated = base
            updated.update(with: other)
            #expect(updated == Self.naiveUpdate(base, other))
        }
    }

    @Test func splitAndMergeOfALargeStateAreLinearAndExact() {
        let count = 60_000
        var members: [(key: String, value: JSONValue)] = []
        for index in 0..<count {
            let prefix = ["", "app:", "user:", "temp:"][index % 4]
            members.append((key: "\(prefix)key\(index)", value: .number(JSONNumber(index))))
        }
        let state = JSONObject(members)
        let split = StateScopes.split(state)  // seconds per call when quadratic; milliseconds now
        #expect(split.session.count == count / 4 && split.app.count == count / 4 && split.user.count == count / 4)
        #expect(split.app["key1"] == .number(JSONNumber(1)))
        let merged = StateScopes.merge(session: split.session, app: split.app, user: split.user)
        #expect(Self.dictionary(merged) == Self.dictionary(StateScopes.droppingTemp(state)))
        #expect(merged.count == 3 * count / 4)
        var updated = merged
        updated.update(with: merged)
        #expect(updated == merged)
    }
}
