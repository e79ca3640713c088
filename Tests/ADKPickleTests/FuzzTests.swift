import ADKPickle
import SessionModel
import Testing

/// SplitMix64: a small seeded generator, so every run tries the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Property: no input crashes, hangs or escapes as anything but a `PickleError`.
@Suite struct FuzzTests {
    static let seeds = PickleFixture.all.filter {
        ["full_p4", "rich_state_p5", "stdlib_state_p4", "auth_more_p4", "state_p2", "confirm_payloads_p3", "escalate_p5"].contains($0.name)
    }

    /// The pickle without its `FRAME` (protocols 4 and 5), so that a truncated copy is read up to
    /// the cut instead of failing at the frame length.
    static func unframed(_ bytes: [UInt8]) -> [UInt8] {
        bytes.count > 11 && bytes[2] == 0x95 ? Array(bytes[..<2] + bytes[11...]) : bytes
    }

    /// Decodes through both layers; true if it decoded. (Typed throws: any failure is a `PickleError`.)
    static func attempt(_ bytes: [UInt8]) -> Bool {
        (try? EventActionsPickle.decode(bytes)) != nil
    }

    @Test(arguments: seeds.filter { $0.bytes.count < 2_000 })
    func everyTruncationFails(_ fixture: PickleFixture) throws {
        for bytes in [fixture.bytes, Self.unframed(fixture.bytes)] {
            #expect(try EventActionsPickle.decode(bytes).isEmpty == false)
            for length in 0..<bytes.count {
                #expect(throws: PickleError.self) { try PickleDecoder.decode(Array(bytes[..<length])) }
            }
        }
    }

    /// 200,000 random inputs: raw bytes, and opcode soup that gets past the first few opcodes.
    @Test(.timeLimit(.minutes(1)))
    func randomInputNeverCrashes() {
        var random = SeededGenerator(state: 20_261_127)
        let opcodes =
            Array("()]}0125KMJNabdehjlpqrstuGBCX.".utf8)
            + [0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x8F, 0x90, 0x91, 0x93, 0x94, 0x95]
        var decoded = 0, failed = 0
        for round in 0..<200_000 {
            let count = Int.random(in: 0...48, using: &random)
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes =
                    [0x80, 4]
                    + (0..<count).map { _ in
                        Bool.random(using: &random) ? opcodes.randomElement(using: &random) ?? 0 : UInt8.random(in: 0...8, using: &random)
                    }
            }
            if Self.attempt(bytes) { decoded += 1 } else { failed += 1 }
        }
        #expect(failed > 100_000)
        #expect(decoded + failed == 200_000)
    }

    /// Bit flips, inserted, deleted and duplicated bytes in real pickles.
    @Test(.timeLimit(.minutes(1)), arguments: seeds)
    func mutatedFixturesNeverCrash(_ fixture: PickleFixture) {
        var random = SeededGenerator(state: UInt64(fixture.bytes.count))
        let original = fixture.bytes
        for _ in 0..<1_500 {
            var bytes = Self.unframed(original)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &random)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                case 2: bytes.remove(at: index)
                default: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 16)], at: index)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            _ = Self.attempt(bytes)
        }
    }

    /// Integers of up to 300 digits survive JSON → pickle (`LONG1`/`LONG4`) → JSON exactly.
    @Test func bigIntegersRoundTrip() throws {
        var random = SeededGenerator(state: 7)
        for _ in 0..<300 {
            let digits = Int.random(in: 1...300, using: &random)
            var text = String(Int.random(in: 1...9, using: &random))
            for _ in 1..<digits { text += String(Int.random(in: 0...9, using: &random)) }
            if Bool.random(using: &random) { text = "-" + text }
            let actions = try JSONValue.parseObject("{\"state_delta\": {\"n\": \(text)}}")
            let decoded = try EventActionsPickle.decode(try EventActionsPickle.encode(actions))
            #expect(decoded["state_delta"]?.objectValue?["n"] == actions["state_delta"]?.objectValue?["n"])
            #expect(decoded["state_delta"]?.objectValue?["n"]?.serialized(.compact) == text)
        }
    }
}
