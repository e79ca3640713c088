import Foundation
import Testing

@testable import SessionModel

/// The committed fuzz corpus (Fuzz/corpus/TARGET, see docs/FUZZING.md) and the inputs the fuzzers
/// found, replayed on every test run.
enum FuzzCorpus {
    /// The inputs of Fuzz/corpus/`target`, sorted by name; empty when the directory is missing.
    static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/corpus/\(target)").standardizedFileURL
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name))).map { (name, [UInt8]($0)) }
        }
    }
}

@Suite struct FuzzRegressionTests {
    /// Found by the snapshot fuzzers: `sessions.update_time = 1e13` made the digest trap
    /// (`Int64(whole) * 1_000_000` overflowed), and NaN/infinite JSON timestamps trapped in
    /// `Int64(_:)`. Such times now saturate, in the digest and in DATETIME text alike.
    @Test(arguments: [1e13, -1e13, 9.2e12, -9.2e12, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude])
    func timesBeyondInt64MicrosecondsSaturate(seconds: Double) throws {
        let micros = PythonTime.microseconds(fromEpoch: seconds)
        #expect(micros == (seconds.isNaN || seconds < 0 ? Int64.min : Int64.max))
        #expect(!PythonTime.naiveUTC(fromEpoch: seconds).isEmpty)
        let event = try Event(data: ["id": .string("e"), "timestamp": .number(JSONNumber(seconds))])
        let session = Session(
            key: SessionKey(appName: "a", userId: "u", sessionId: "s"), events: [event], createTime: seconds, lastUpdateTime: seconds)
        #expect(session.digest(includingCreateTime: true).count == 32)
    }

    @Test func timesJustInsideTheRangeStayExact() {
        #expect(PythonTime.microseconds(fromEpoch: 9.1e12) == 9_100_000_000_000_000_000)
        #expect(PythonTime.microseconds(fromEpoch: -9.1e12 + 0.5) == -9_099_999_999_999_500_000)
        #expect(PythonTime.naiveUTC(fromEpoch: 253_402_300_799) == "9999-12-31 23:59:59.000000")
    }

    /// What `scripts/fuzz json` checks, over the committed corpus: parsing never traps, and what
    /// parses survives both writers (compact exactly, Python text equivalently and stably).
    @Test func jsonCorpusRoundTrips() throws {
        let corpus = FuzzCorpus.inputs("json")
        #expect(corpus.count > 20)
        for (name, bytes) in corpus {
            let parsed = bytes.withUnsafeBytes { raw in try? JSONValue.parse(utf8: raw) }
            guard let value = parsed else { continue }
            #expect(try JSONValue.parse(value.serialized(.compact)) == value, "\(name)")
            let python = value.serialized(.python)
            let fromPython = try JSONValue.parse(python)
            #expect(fromPython.isEquivalent(to: value), "\(name)")
            #expect(fromPython.serialized(.python) == python, "\(name)")
        }
    }
}
