import Testing

@testable import SessionModel

/// Strings that are canonically equivalent but not the same bytes (`é` and `e` + U+0301) are `==` to
/// Swift and two different keys to ADK and every store. Each test fails on the `String ==` semantics.
@Suite struct ExactStringTests {
    let composed = "caf\u{E9}"
    let decomposed = "cafe\u{301}"

    @Test func swiftCallsThemEqualTheBytesDiffer() {
        #expect(composed == decomposed)  // The premise: why the model cannot use String's ==.
        #expect(!composed.isExactly(decomposed))
        #expect(composed.isExactly("caf\u{E9}"))
        #expect(ExactString(composed) != ExactString(decomposed))
        #expect(Set([ExactString(composed), ExactString(decomposed)]).count == 2)
        #expect(decomposed.precedesExactly(composed))  // "e" (0x65) < 0xC3
        #expect(!composed.precedesExactly(decomposed))
        #expect(Set([composed]).containsExactly(composed))
        #expect(!Set([composed]).containsExactly(decomposed))
    }

    @Test func anObjectKeepsBothKeysThroughParseAndSerialize() throws {
        let text = #"{"caf\u00e9": "composed", "cafe\u0301": "decomposed"}"#
        let object = try #require(try JSONValue.parse(text).objectValue)
        #expect(object.count == 2)
        #expect(object[composed] == .string("composed"))
        #expect(object[decomposed] == .string("decomposed"))
        let again = try #require(try JSONValue.parse(JSONValue.object(object).serialized(.python)).objectValue)
        #expect(again == object)
        // The same with more than 8 members (the hash-indexed path) and through dict.update.
        var members = (0..<10).map { (key: "k\($0)", value: JSONValue.number(JSONNumber($0))) }
        members += [(key: composed, value: .string("c")), (key: decomposed, value: .string("d"))]
        var large = JSONObject(members)
        #expect(large.count == 12)
        large.update(with: [decomposed: .string("d2")])
        #expect(large[composed] == .string("c") && large[decomposed] == .string("d2") && large.count == 12)
    }

    @Test func valuesKeysAndDigestsTellThemApart() throws {
        #expect(JSONValue.string(composed) != JSONValue.string(decomposed))
        #expect(!JSONValue.string(composed).isEquivalent(to: .string(decomposed)))
        let a: JSONObject = [composed: .number(JSONNumber(1))]
        let b: JSONObject = [decomposed: .number(JSONNumber(1))]
        #expect(a != b)
        #expect(!a.isEquivalent(to: b))
        var first = CanonicalDigest()
        first.feed(a)
        var second = CanonicalDigest()
        second.feed(b)
        #expect(first.finalize() != second.finalize())

        let one = SessionKey(appName: "app", userId: "u", sessionId: composed)
        let other = SessionKey(appName: "app", userId: "u", sessionId: decomposed)
        #expect(one != other)
        #expect(Set([one, other]).count == 2)
        #expect(other < one && !(one < other))
    }

    @Test func scopePrefixesAreMatchedByBytes() {
        // Python: "app:\u0301k".startswith("app:") is True; Swift's hasPrefix says false.
        let split = StateScopes.split(["app:\u{301}k": .string("x"), "user:\(composed)": .number(JSONNumber(1)), "user:\(decomposed)": .number(JSONNumber(2))])
        #expect(split.app.count == 1)
        #expect(split.app["\u{301}k"] == .string("x"))
        #expect(split.user.count == 2)
        #expect(split.session.isEmpty)
    }
}
