@testable import SessionModel

/// Seeded numbers (a 64-bit linear congruential step, its high bits), so failures repeat.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }
}

/// Random ADK-shaped events: the members ``CommunityForm``'s rules look at (free-form fields,
/// `bytes` fields, nulls, floats of every layout) at random depths, with tricky strings.
enum RandomEvent {
    static let keys = [
        "a", "text", "role", "parts", "state_delta", "agent_state", "args", "response", "output", "payload", "part_metadata",
        "set_model_response", "custom_metadata", "inline_data", "data", "thought_signature", "sdk_blob", "mime_type", "é",
        "日本", "k", "", "requested_auth_configs",
    ]
    static let strings = [
        "plain", "ab+/cd-_==", "h\u{e9}llo", "🦆 e\u{301}", "tab\tnew\nline", "quote\"back\\slash", "\u{0}\u{1f}\u{7f}", "",
        "a/b", "+/+/", "-_-_", "日本語",
    ]
    static let numbers = [
        "0", "-0", "7", "-42", "12345678901234567890", "1.5", "2.50", "1e-07", "1e-7", "0.000025", "2.5e-05", "-3.5e300",
        "1E5", "1e+16", "100.0", "1760000002.619", "5e-324", "0.1",
    ]

    static func make(_ random: inout SeededRandom, id: String, asciiKeys: Bool = false) -> JSONObject {
        let keys = asciiKeys ? keys.filter { $0.utf8.allSatisfy { $0 < 0x80 } } : keys
        var members: [(key: String, value: JSONValue)] = [("id", .string(id))]
        members.append(("timestamp", .number(JSONNumber(validatedLiteral: random.pick(["1760000002.619", "1700000001", "1.5", "1e-07"])))))
        switch random.next() % 3 {
        case 0: members.append(("invocation_id", .string("inv-\(random.next() % 9)")))
        case 1: members.append(("invocation_id", .null))
        default: break
        }
        for _ in 0..<Int(random.next() % 6) { members.append((random.pick(keys), value(&random, depth: 0, keys: keys))) }
        // A shuffle: the fields are found wherever they stand.
        for index in members.indices.reversed() { members.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        return JSONObject(members)
    }

    static func value(_ random: inout SeededRandom, depth: Int, keys: [String]) -> JSONValue {
        switch random.next() % (depth > 3 ? 5 : 8) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .number(JSONNumber(validatedLiteral: random.pick(numbers)))
        case 3, 4: return .string(random.pick(strings))
        case 5: return .array((0..<Int(random.next() % 4)).map { _ in value(&random, depth: depth + 1, keys: keys) })
        default:
            var members: [(key: String, value: JSONValue)] = []
            for _ in 0..<Int(random.next() % 6) { members.append((random.pick(keys), value(&random, depth: depth + 1, keys: keys))) }
            return .object(JSONObject(members))
        }
    }
}
