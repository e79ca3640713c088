import DriverCore
import SessionModel
import Testing

@testable import RedisDriver

/// ``SessionBlobCodec/encode(_:layout:)`` splices each event's text into the blob: the bytes must
/// be those of the whole blob built as a tree and serialized, whether events are carried as trees
/// or as text of either style.
@Suite struct BlobSpliceTests {
    static func sessions() throws -> [Session] {
        let rich = try Samples.richSession(id: "s1", expiry: nil)
        var empty = rich
        empty.events = []
        var carried = rich
        carried.events = rich.events.enumerated().map { index, event in
            Event(transcoding: event.data.serialized(.python), from: .none, style: index % 2 == 0 ? .compact : .python) ?? event
        }
        #expect(carried.events.allSatisfy { $0.isText })
        var one = carried
        one.events = [carried.events[1]]
        return [rich, empty, carried, one]
    }

    @Test(arguments: RedisLayout.allCases)
    func splicedBlobIsTheSerializedTree(layout: RedisLayout) throws {
        for session in try Self.sessions() {
            let style: JSONStyle = layout.isCommunity ? .compact : .python
            let expected = SessionBlobCodec.encodeObject(session, layout: layout).serializedBytes(style)
            #expect(SessionBlobCodec.encode(session, layout: layout) == expected, "\(layout) \(session.events.count) events")
        }
    }
}

/// ``SessionBlobCodec/decode(_:storageKey:layout:eventStyle:)`` cuts the events out of the blob as
/// text: the session must be the one the tree decode gives, and a bad blob must be refused in the
/// same words.
@Suite struct BlobTextDecodeTests {
    static let layouts: [RedisLayout] = [.community, .adkRedis]

    @Test(arguments: layouts, [JSONStyle.python, .compact])
    func carriedEventsAreTheTreesSession(layout: RedisLayout, style: JSONStyle) throws {
        for session in try BlobSpliceTests.sessions() {
            let bytes = SessionBlobCodec.encode(session, layout: layout)
            let tree = try SessionBlobCodec.decode(bytes, storageKey: "k", layout: layout)
            let carried = try SessionBlobCodec.decode(bytes, storageKey: "k", layout: layout, eventStyle: style)
            #expect(carried.key == tree.key)
            #expect(carried.state == tree.state)
            #expect(carried.lastUpdateTime == tree.lastUpdateTime)
            #expect(carried.events == tree.events)
            #expect(carried.events.map { $0.data } == tree.events.map { $0.data })
            #expect(carried.events.allSatisfy { $0.isText })
        }
    }

    /// google-adk-community's own blob (explicit nulls, standard base64, orjson floats).
    @Test func communityBlobWithNullsReadsAsTheTree() throws {
        let blob =
            ##"{"id":"s","app_name":"a","user_id":"u","state":{"k":null,"f":2.5e-05},"events":[{"id":"e1","invocation_id":null,"timestamp":1700000000.5,"content":{"parts":[{"inline_data":{"data":"ab+/","mime_type":null}}]},"actions":{"state_delta":{"x":null}},"error_code":null}],"last_update_time":1700000000.5}"##
        let bytes = Array(blob.utf8)
        let tree = try SessionBlobCodec.decode(bytes, storageKey: "k", layout: .community)
        let carried = try SessionBlobCodec.decode(bytes, storageKey: "k", layout: .community, eventStyle: .python)
        #expect(carried.events == tree.events)
        #expect(carried.events.first?.isText == true)
        #expect(carried.events.first?.serializedData(.python) == tree.events.first?.data.serialized(.python))
        #expect(carried.state == tree.state)
    }

    @Test(arguments: [
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e1","timestamp":1},{"id":"e1","timestamp":2}],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e1"}],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[1],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":{},"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":[],"events":[],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e1","timestamp":1]],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":"2"}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":2,"events":[]}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e1","timestamp":1e300}],"last_update_time":2}"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":2} x"#,
        #"{"id":"s","app_name":"a","user_id":"u","state":{},"events":[{"id":"e1","timestamp":1,"t":"\ud800"}],"last_update_time":2}"#,
        #"{"app_name":"a","user_id":"u","state":{},"events":[],"last_update_time":2}"#,
    ])
    func badBlobsAreRefusedInTheSameWords(blob: String) {
        let bytes = Array(blob.utf8)
        let tree = Result { try SessionBlobCodec.decode(bytes, storageKey: "k", layout: .community) }
        let carried = Result { try SessionBlobCodec.decode(bytes, storageKey: "k", layout: .community, eventStyle: .compact) }
        switch (tree, carried) {
        case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)")
        case (.success(let a), .success(let b)): #expect(a.events == b.events)
        default: Issue.record("tree \(tree), carried \(carried)")
        }
    }
}
