import Testing

@testable import SessionModel

/// The transcoder scans strings eight bytes at a time and writes plain keys as they are
/// (``TranscodingPass/needsLook(_:python:)``, ``TranscodingPass/rawKey()``): every byte that needs a
/// look, at every offset of a string and of a key and near the end of the input, still comes out
/// as the tree path writes it, and bad bytes still decline wherever they are.
@Suite struct EventTranscoderOffsetTests {
    /// JSON string contents that need a look: escapes, controls, raw non-ASCII of 2, 3 and 4 bytes, DEL.
    static let pieces = [
        #"\""#, #"\\"#, #"\/"#, #"\n"#, #"\u0001"#, #"\u00e9"#, #"\ud83e\udd86"#, "\u{01}", "\u{1F}", "é", "日", "🦆", "\u{7F}", "~", " ",
    ]

    /// `piece` at every offset of plain strings of 0 to 19 bytes, as a value and as a key, with the
    /// string last in the input too (no bytes after it but the closing brace): the same text as the
    /// tree's (``EventTranscoderTests/check(_:sourceLocation:)``), and declined or not alike at every
    /// offset.
    @Test(arguments: pieces)
    func everyOffset(piece: String) {
        let plain = Array("abcdefghijklmnopqrs")
        var declines: Set<[Int]> = []
        for length in 0..<plain.count {
            for offset in 0...length {
                let content = String(plain[0..<offset]) + piece + String(plain[offset..<length])
                declines.insert([
                    EventTranscoderTests.check(#"{"id": "e", "timestamp": 1, "v": "\#(content)", "w": ["\#(content)x"]}"#),
                    EventTranscoderTests.check(#"{"id": "e", "timestamp": 1, "\#(content)": 1}"#),
                    EventTranscoderTests.check(#"{"id": "e", "timestamp": 1, "v": "\#(content)"}"#),
                ])
            }
        }
        #expect(declines.count == 1, "\(declines)")
    }

    /// Invalid UTF-8 at every offset of a string and of a key declines in both styles.
    @Test func invalidUTF8AtEveryOffset() {
        let plain = Array("abcdefghijklmnop".utf8)
        for bad in [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80]] as [[UInt8]] {
            for offset in 0...plain.count {
                let content = Array(plain[0..<offset]) + bad + Array(plain[offset...])
                for wrapped in [
                    Array(#"{"id": "e", "timestamp": 1, "s": ""#.utf8) + content + Array(#""}"#.utf8),
                    Array(#"{"id": "e", "timestamp": 1, ""#.utf8) + content + Array(#"": 1}"#.utf8),
                ] {
                    for style in [JSONStyle.python, .compact] {
                        var output: [UInt8] = []
                        let fields = wrapped.withUnsafeBytes { EventTranscoder.transcode($0, transform: .none, style: style, into: &output) }
                        #expect(fields == nil && output.isEmpty, "\(bad) at \(offset)")
                    }
                }
            }
        }
    }
}
