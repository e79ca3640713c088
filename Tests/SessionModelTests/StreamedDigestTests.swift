import Testing

@testable import SessionModel

/// `CanonicalDigest.feed(json:)` hashes the same bytes as feeding the parsed value, and refuses what the
/// parser refuses.
@Suite struct StreamedDigestTests {
    static func viaTree(_ text: String) throws -> [UInt8] {
        var digest = CanonicalDigest()
        digest.feed(try JSONValue.parse(text))
        return digest.finalize()
    }

    static func streamed(_ text: String) throws -> [UInt8] {
        var digest = CanonicalDigest()
        try feed(&digest, Array(text.utf8))
        return digest.finalize()
    }

    static func feed(_ digest: inout CanonicalDigest, _ bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try digest.feed(json: raw) } }
        try result.get()
    }

    static func parse(_ bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONValue.parse(utf8: raw) } }
        _ = try result.get()
    }

    @Test(arguments: [
        "{}", "[]", "null", "true", "false", #""""#, "0", "-0", "1", "-1", "10", "-10", "0.0", "-0.0", "1.0", "1e-07", "1e-7",
        "2.50", "1E+2", "-1.5e-300", "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "123456789012345678901234567890",
        #"{"b": 1, "a": 2}"#, #"{"a": 1, "a": 2}"#, #"{"b": 1, "a": 2, "b": 3}"#, #"{"a": {"d": [1, {"y": 2, "x": 1}], "c": {}}, "": ""}"#,
        #"{"ab": 1, "a": 2, "abc": 3, "b": 4}"#, #"{"é": 1, "e\u0301": 2, "z": 3, "日本": 4}"#,
        #"{"k9": 9, "k1": 1, "k8": 8, "k2": 2, "k7": 7, "k3": 3, "k6": 6, "k4": 4, "k5": 5, "k10": {}, "k1": "again"}"#,
        #"["\n\t\\\"\/", "\u00e9\ud83e\udd86", "ß🦆", "a\u0000b"]"#, "  [ 1 ,\t2 ,\n{ \"x\" : [ ] } ]  ",
        #"{"content": {"parts": [{"text": "hi"}], "role": "user"}, "invocation_id": "e-1", "author": "user", "actions": {"state_delta": {"k": null}}, "id": "a", "timestamp": 1760000002.619}"#,
    ])
    func sameDigestAsTheTree(text: String) throws {
        #expect(try Self.streamed(text) == Self.viaTree(text))
    }

    /// Random values, written with their members in random orders and either style, digest alike.
    @Test func randomValuesDigestAlike() throws {
        var random = SeededRandom(seed: 15)
        for _ in 0..<2000 {
            let value = Self.randomValue(&random, depth: 0)
            for style in [JSONStyle.python, .compact] {
                let text = value.serialized(style)
                #expect(try Self.streamed(text) == Self.viaTree(text), "\(text)")
            }
        }
    }

    @Test(arguments: [
        "", "{", "[1,]", "[1 2]", #"{"a" 1}"#, #"{"a": 1,}"#, "{1: 2}", "tru", "nul", "1.", "01", "-", "1e", ".5", #""\x""#,
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\u12""#, #""abc"#, "[1] 2", "[Infinit]",
    ])
    func refusesWhatTheParserRefuses(text: String) {
        #expect(throws: JSONError.self) { try Self.viaTree(text) }
        #expect(throws: JSONError.self) { try Self.streamed(text) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() throws {
        for bytes in [[0x22, 0xC3, 0x28, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22], [0x7B, 0x22, 0xE2, 0x82, 0x22, 0x3A, 0x31, 0x7D]] as [[UInt8]] {
            var digest = CanonicalDigest()
            #expect(throws: JSONError.self) { try Self.feed(&digest, bytes) }
            #expect(throws: JSONError.self) { try Self.parse(bytes) }
        }
        let deep = String(repeating: "[", count: 1001) + String(repeating: "]", count: 1001)
        #expect(throws: JSONError.self) { try Self.streamed(deep) }
        let fine = String(repeating: "[", count: 999) + String(repeating: "]", count: 999)
        #expect(try Self.streamed(fine) == Self.viaTree(fine))
    }

    /// Several values fed one after another, some streamed and some as trees, hash as all trees would.
    @Test func mixesWithTheOtherFeeds() throws {
        let texts = [#"{"b": [1, 2.5], "a": "x"}"#, "[]", #"{"z": {"y": null}}"#]
        var trees = CanonicalDigest()
        var mixed = CanonicalDigest()
        for (index, text) in texts.enumerated() {
            trees.feed(tag: "e", Int64(index))
            mixed.feed(tag: "e", Int64(index))
            trees.feed(try JSONValue.parse(text))
            if index == 1 {
                mixed.feed(try JSONValue.parse(text))
            } else {
                try Self.feed(&mixed, Array(text.utf8))
            }
        }
        #expect(trees.finalize() == mixed.finalize())
    }

    static func randomValue(_ random: inout SeededRandom, depth: Int) -> JSONValue {
        let keys = ["a", "b", "ab", "", "é", "e\u{301}", "日本", "k1", "k10", "z", "Z", "🦆", "a\"b", "new\nline"]
        switch random.next() % (depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2:
            let literals = ["0", "-0", "7", "-42", "1.5", "2.50", "1e-07", "-3.5e300", "1e400", "0.000025", "12345678901234567890"]
            return .number(JSONNumber(validatedLiteral: literals[Int(random.next() % UInt64(literals.count))]))
        case 3, 4: return .string(keys[Int(random.next() % UInt64(keys.count))] + String(random.next() % 100))
        case 5: return .array((0..<Int(random.next() % 4)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [(key: String, value: JSONValue)] = []
            for _ in 0..<Int(random.next() % 12) {
                members.append((keys[Int(random.next() % UInt64(keys.count))], randomValue(&random, depth: depth + 1)))
            }
            return .object(JSONObject(members))
        }
    }
}
