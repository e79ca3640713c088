import Testing

@testable import SessionModel

/// An event carried as text (``Event/init(transcoding:from:style:)``) is the event the tree path
/// builds: the same `data`, fields and texts in every style and form.
@Suite struct EventTextTests {
    static let texts =
        EventTranscoderTests.adkEvents + [
            #"{"id": "ex", "timestamp": 2, "invocation_id": 5, "v": [1.5, -0, "\u00e9"]}"#,
            #"{"timestamp": 1760000002.619, "id": "a", "actions": {"state_delta": {"k": null}}, "invocation_id": "i"}"#,
        ]

    static func tree(_ text: String, _ transform: EventTransform) throws -> Event {
        let object = try JSONValue.parseObject(text)
        return try Event(data: transform == .toCanonical ? CommunityForm.canonicalEvent(object) : object)
    }

    @Test(arguments: texts, [EventTransform.none, .toCanonical])
    func carriedTextIsTheTreesEvent(text: String, transform: EventTransform) throws {
        let tree = try Self.tree(text, transform)
        for style in [JSONStyle.python, .compact] {
            guard let carried = Event(transcoding: text, from: transform, style: style) else { continue }
            #expect(carried.isText)
            #expect(carried == tree)
            #expect(carried.hashValue == tree.hashValue)
            #expect(carried.data == tree.data)
            #expect((carried.id, carried.invocationId, carried.timestamp) == (tree.id, tree.invocationId, tree.timestamp))
            for asked in [JSONStyle.python, .compact] {
                #expect(carried.serializedData(asked) == tree.data.serialized(asked))
                var prepared = carried
                prepared.prepareSerialized(asked)
                #expect(prepared.serializedData(asked) == tree.data.serialized(asked))
                #expect(prepared.preparedStyle == asked)
            }
            #expect(carried.communityText() == CommunityForm.communityEvent(tree.data).serialized(.compact))
        }
    }

    @Test func everyTextIsCarriedInSomeStyle() {
        for text in Self.texts {
            #expect(Event(transcoding: text, from: .none, style: .compact) != nil, "\(text)")
        }
    }

    /// Python's style re-prints `2.50` as `2.5`: carrying that text would change the literal the
    /// tree keeps, so the event is left to the tree path (a conversion's output still re-prints).
    @Test func pythonStyleKeepsLiteralsOrDeclines() throws {
        let text = #"{"id": "e", "timestamp": 1.5, "v": 2.50}"#
        #expect(Event(transcoding: text, from: .none, style: .python) == nil)
        let carried = try #require(Event(transcoding: text, from: .none, style: .compact))
        #expect(carried.serializedData(.python) == #"{"id": "e", "timestamp": 1.5, "v": 2.5}"#)
        #expect(carried.data["v"] == .number(JSONNumber(validatedLiteral: "2.50")))
        #expect(Event(transcoding: #"{"id": "e", "timestamp": 1.5, "v": 2.5}"#, from: .none, style: .python) != nil)
    }

    @Test func differentDataIsNotEqual() throws {
        let a = try #require(Event(transcoding: #"{"id": "e", "timestamp": 1.5, "v": 1}"#, from: .none, style: .compact))
        let b = try #require(Event(transcoding: #"{"id": "e", "timestamp": 1.5, "v": 2}"#, from: .none, style: .compact))
        let c = try #require(Event(transcoding: #"{"id": "e", "timestamp": 1.5, "v": 1}"#, from: .none, style: .python))
        #expect(a != b)
        #expect(a == c)
        #expect(b != c)
    }
}

/// A session's digest is the same whether its events are carried as text or as trees.
@Suite struct EventTextDigestTests {
    @Test func digestOfCarriedEventsIsTheTreesDigest() throws {
        for style in [JSONStyle.python, .compact] {
            let trees = try EventTextTests.texts.map { try EventTextTests.tree($0, .none) }
            let carried = zip(EventTextTests.texts, trees).map { Event(transcoding: $0, from: .none, style: style) ?? $1 }
            #expect(carried.filter(\.isText).count >= trees.count - 1)
            let a = Session(key: SessionKey(appName: "a", userId: "u", sessionId: "s"), events: trees, lastUpdateTime: 2)
            var b = a
            b.events = carried
            #expect(a.digest() == b.digest())
            b.events.swapAt(0, 1)
            #expect(a.digest() != b.digest())
        }
    }
}
