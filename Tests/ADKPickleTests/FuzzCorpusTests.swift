import ADKPickle
import Foundation
import SessionModel
import Testing

/// The committed corpus of `scripts/fuzz pickle` (Fuzz/corpus/pickle, see docs/FUZZING.md),
/// replayed on every run with the fuzz target's properties.
@Suite struct FuzzCorpusTests {
    static let corpus: [(name: String, bytes: [UInt8])] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/corpus/pickle").standardizedFileURL
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name))).map { (name, [UInt8]($0)) }
        }
    }()

    /// Decoding never traps; decoded actions are valid JSON, and a pickle written from them decodes.
    @Test func corpusDecodesOrFailsCleanly() throws {
        #expect(Self.corpus.count > 30)
        var decoded = 0
        for (name, bytes) in Self.corpus {
            _ = try? PickleDecoder.decode(bytes)
            guard let actions = try? EventActionsPickle.decode(bytes) else { continue }
            decoded += 1
            #expect(try JSONValue.parse(actions.serialized(.compact)) == .object(actions), "\(name)")
            for version in [4, 5] {
                #expect(throws: Never.self, "\(name)") { _ = try EventActionsPickle.decode(try EventActionsPickle.encode(actions, protocol: version)) }
            }
        }
        #expect(decoded > 0)
    }

    /// `{"state_delta": {0: None, 1: None, …}}` as a protocol 4 pickle of a plain dict.
    static func stateDelta(count: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x80, 4, UInt8(ascii: "}"), 0x8C, 11] + Array("state_delta".utf8) + [UInt8(ascii: "}"), UInt8(ascii: "(")]
        for key in 0..<Int32(count) { bytes += [UInt8(ascii: "J")] + withUnsafeBytes(of: key.littleEndian, Array.init) + [UInt8(ascii: "N")] }
        return bytes + [UInt8(ascii: "u"), UInt8(ascii: "s"), UInt8(ascii: ".")]
    }

    /// Found reading the decoder for hangs: objects were built key by key (`object[key] = value`
    /// scans the members), so a 1 MB pickle of a 160,000-key state took minutes. Now linear.
    @Test func largeDictsDecodeInLinearTime() throws {
        let bytes = Self.stateDelta(count: 100_000)
        let start = ContinuousClock.now
        let actions = try EventActionsPickle.decode(bytes)
        #expect(ContinuousClock.now - start < .seconds(10))
        let delta = try #require(actions["state_delta"]?.objectValue)
        #expect(delta.count == 100_000)
        #expect(delta.keys.prefix(3) == ["0", "1", "2"])
        #expect(delta["99999"] == .null)
    }

    /// Keys that convert to the same text keep the first position and the last value (json.loads
    /// of pydantic's output, which writes both).
    @Test func keysThatConvertAlikeKeepTheLastValue() throws {
        let pair: [UInt8] = [
            UInt8(ascii: "K"), 1, 0x8C, 1, UInt8(ascii: "a"), 0x8C, 1, UInt8(ascii: "x"), UInt8(ascii: "N"),
            0x8C, 1, UInt8(ascii: "1"), 0x8C, 1, UInt8(ascii: "b"),
        ]
        let bytes: [UInt8] =
            [0x80, 4, UInt8(ascii: "}"), 0x8C, 11] + Array("state_delta".utf8) + [UInt8(ascii: "}"), UInt8(ascii: "(")]
            + pair + [UInt8(ascii: "u"), UInt8(ascii: "s"), UInt8(ascii: ".")]
        let delta = try #require(try EventActionsPickle.decode(bytes)["state_delta"]?.objectValue)
        #expect(delta == ["1": .string("b"), "x": .null])
    }
}
