import SessionModel
import Testing

@testable import SessMigrate

/// What `generate` writes is what ADK writes (the real ADK loads it in Tests/Interop/generate_replay.py).
@Suite struct SessionGeneratorTests {
    static func isUUID4(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.map(\.count) == [8, 4, 4, 4, 12], parts.joined().allSatisfy({ "0123456789abcdef".contains($0) }) else { return false }
        return parts[2].first == "4" && "89ab".contains(parts[3].first ?? "x")
    }

    @Test(arguments: [1, 2, 3, 20_261_204] as [UInt64])
    func inlineDataIsTheBase64OfBytesAndIdsAreUUID4(seed: UInt64) throws {
        var generator = SessionGenerator(seed: seed, eventsPerSession: 8)
        var inlineParts = 0
        for index in 0..<300 {
            let session = generator.session(index)
            #expect(Self.isUUID4(session.key.sessionId), "\(session.key)")
            for event in session.events {
                #expect(Self.isUUID4(event.id))
                #expect(event.data["node_info"] == .object(["path": .string("")]))
                guard case .object(let content)? = event.data["content"], case .array(let parts)? = content["parts"] else { continue }
                for case .object(let part) in parts {
                    guard case .object(let blob)? = part["inline_data"], let text = blob["data"]?.stringValue else { continue }
                    inlineParts += 1
                    // Only the encoding of bytes round-trips: pydantic refuses non-zero padding bits.
                    let bytes = try #require(Base64.decode(text))
                    #expect(Base64.urlSafe(bytes) == text, "\(session.key) event \(event.id)")
                    #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                }
            }
        }
        #expect(inlineParts > 50)
    }
}
