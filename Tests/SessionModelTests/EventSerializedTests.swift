import Testing

@testable import SessionModel

/// ``Event/prepareSerialized(_:)`` keeps `data`'s text for a writer on another thread: the text must be
/// exactly what serializing gives, in the style asked for, and must not make two events differ.
@Suite struct EventSerializedTests {
    static let styles: [JSONStyle] = [.python, .compact]

    func event() throws -> Event {
        let text = #"{"id": "e\u00e9", "timestamp": 1.5e-07, "invocation_id": "i", "content": {"parts": [{"text": "ünï 🦆 \"q\""}]}, "n": 10000000000000000001}"#
        return try Event(data: #require(try JSONValue.parse(text).objectValue))
    }

    @Test(arguments: styles, styles)
    func preparedTextIsTheSerializedText(prepared: JSONStyle, asked: JSONStyle) throws {
        let plain = try event()
        var ready = plain
        ready.prepareSerialized(prepared)
        #expect(ready.serializedData(asked) == plain.data.serialized(asked))
        #expect(plain.serializedData(asked) == plain.data.serialized(asked))
        #expect(ready == plain)
        #expect(ready.hashValue == plain.hashValue)
        #expect(Set([ready, plain]).count == 1)
    }

    @Test func theTwoStylesDiffer() throws {
        // Otherwise the test above could not tell a text of the wrong style.
        let plain = try event()
        #expect(plain.data.serialized(.python) != plain.data.serialized(.compact))
        var ready = plain
        ready.prepareSerialized(.python)
        ready.prepareSerialized(.compact)
        #expect(ready.serializedData(.compact) == plain.data.serialized(.compact))
        #expect(ready.serializedData(.python) == plain.data.serialized(.python))
    }
}
