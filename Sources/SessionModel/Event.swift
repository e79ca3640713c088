/// One persisted event.
///
/// `data` is the event as DatabaseSessionService stores it in `event_data`: pydantic's
/// `model_dump(mode="json", exclude_none=True)`: snake_case keys, bytes as URL-safe base64.
/// `id`, `invocation_id` and `timestamp` are inside `data` too and are always kept in step.
///
/// An event read by a copy is carried as the text of `data` in one style (``init(transcoding:from:style:)``,
/// docs/DESIGN.md, "Events as text"): a writer that wants that text takes it as it is, one that
/// wants another style or the community form has it transcoded, and only code that looks inside
/// (merges, fences, diffs) parses it, through ``data``.
public struct Event: Sendable, Hashable {
    private enum Storage: Sendable {
        case tree(JSONObject)
        /// `data.serialized(style)`, exactly: made by ``EventTranscoder`` or the serializer.
        /// `communitySame`: ``communityText()`` is this same text (``EventTextFields/communityTextIsSame``).
        case text(String, JSONStyle, communitySame: Bool)
    }

    private var storage: Storage
    /// `data["id"]`.
    public private(set) var id: String
    /// `data["invocation_id"]` (empty when absent).
    public private(set) var invocationId: String
    /// `data["timestamp"]`, seconds since the Unix epoch.
    public private(set) var timestamp: Double
    /// `data` serialized ahead of a write (``prepareSerialized(_:)``) in a style other than the
    /// carried text's; not part of equality.
    private var serialized: (style: JSONStyle, text: String)?

    /// The event as stored in `event_data` (see the type's documentation). An event carried as
    /// text parses it on each use: code on the copy's path asks for ``serializedData(_:)`` instead.
    public var data: JSONObject {
        switch storage {
        case .tree(let data): return data
        case .text(let text, _, _):
            // The text is the serializer's or the transcoder's output, which always parses.
            guard let data = try? JSONValue.parseObject(text) else { preconditionFailure("an event's text does not parse") }
            return data
        }
    }

    /// Builds an event from its `event_data` object; `id` and `timestamp` must be present.
    public init(data: JSONObject) throws(SessionModelError) {
        guard let id = data["id"]?.stringValue else { throw .invalidEvent("event has no string \"id\"") }
        guard let timestamp = data["timestamp"]?.doubleValue else {
            throw .invalidEvent("event \(id) has no numeric \"timestamp\"")
        }
        self.storage = .tree(data)
        self.id = id
        self.invocationId = data["invocation_id"]?.stringValue ?? ""
        self.timestamp = timestamp
    }

    /// Builds an event from `event_data`, letting row columns win as ADK's `to_event` does:
    /// `id` and `invocation_id` from the columns; `timestamp` from `event_data` when present
    /// (ADK ≥ 2.7), else from the column.
    public init(data: JSONObject, columnId: String, columnInvocationId: String, columnTimestamp: Double) throws(SessionModelError) {
        var data = data
        // Set only where they differ (rarely): setting copies the object's members.
        if data["id"]?.stringValue?.isExactly(columnId) != true { data["id"] = .string(columnId) }
        if data["invocation_id"]?.stringValue?.isExactly(columnInvocationId) != true { data["invocation_id"] = .string(columnInvocationId) }
        if data["timestamp"]?.doubleValue == nil { data["timestamp"] = .number(JSONNumber(columnTimestamp)) }
        try self.init(data: data)
    }

    /// The event whose `event_data` is `bytes` (canonical, or a community blob's event with
    /// `.toCanonical`), carried as its text in `style`; `nil` where ``EventTranscoder`` declines
    /// and the caller must parse (which also names what is wrong).
    public init?(transcoding bytes: UnsafeRawBufferPointer, from transform: EventTransform, style: JSONStyle) {
        precondition(transform != .toCommunity, "an event is carried in canonical form")
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        // Literals kept: the text must parse back to the very `data` the tree path would build.
        guard let fields = EventTranscoder.transcode(bytes, transform: transform, style: style, keepingLiterals: true, into: &output) else {
            return nil
        }
        self.storage = .text(String(decoding: output, as: UTF8.self), style, communitySame: fields.communityTextIsSame)
        self.id = fields.id
        self.invocationId = fields.invocationId
        self.timestamp = fields.timestamp
    }

    /// ``init(transcoding:from:style:)`` of a string.
    public init?(transcoding text: String, from transform: EventTransform, style: JSONStyle) {
        var text = text
        guard let event = text.withUTF8({ Event(transcoding: UnsafeRawBufferPointer($0), from: transform, style: style) }) else { return nil }
        self = event
    }

    /// Feeds `data` to `digest`: a carried text streamed (``CanonicalDigest/feed(json:)``), without
    /// the tree that ``data`` would parse.
    public func feedData(to digest: inout CanonicalDigest) {
        guard case .text(var text, _, _) = storage else { return digest.feed(data) }
        let result = text.withUTF8 { bytes in Result { () throws(JSONError) in try digest.feed(json: UnsafeRawBufferPointer(bytes)) } }
        // The text is the serializer's or the transcoder's output, which always parses.
        guard case .success = result else { preconditionFailure("an event's text does not parse") }
    }

    /// Whether the event is carried as text (tests, and the docs' measurements).
    public var isText: Bool {
        if case .text = storage { return true }
        return false
    }

    /// Serializes `data` in `style` now and keeps the text for ``serializedData(_:)``. A copy calls
    /// this on the thread that reads the source, so the thread that writes a SQLite or MySQL target
    /// (one connection, the slower side) only binds text it is handed.
    public mutating func prepareSerialized(_ style: JSONStyle) {
        if case .text(_, style, _) = storage {
            serialized = nil
            return
        }
        if serialized?.style != style { serialized = (style, makeText(style, .none)) }
    }

    /// The style ``prepareSerialized(_:)`` last made text for, else the carried text's (tests).
    var preparedStyle: JSONStyle? {
        if let serialized { return serialized.style }
        if case .text(_, let style, _) = storage { return style }
        return nil
    }

    /// `data.serialized(style)`: the text carried or prepared, or made now.
    public func serializedData(_ style: JSONStyle) -> String {
        if case .text(let text, style, _) = storage { return text }
        if let serialized, serialized.style == style { return serialized.text }
        return makeText(style, .none)
    }

    /// The event as google-adk-community's `RedisSessionService` stores it in a blob, compact
    /// (``CommunityForm/communityEvent(_:)`` serialized compact).
    public func communityText() -> String {
        if case .text(let text, _, communitySame: true) = storage { return text }
        return makeText(.compact, .toCommunity)
    }

    /// `data` (transformed) in `style`: transcoded from the carried text where the transcoder
    /// takes it, through the tree otherwise.
    private func makeText(_ style: JSONStyle, _ transform: EventTransform) -> String {
        if case .text(let text, _, _) = storage, let done = EventTranscoder.transcode(text, transform: transform, style: style) {
            return done.text
        }
        let data = data
        return (transform == .toCommunity ? CommunityForm.communityEvent(data) : data).serialized(style)
    }

    public static func == (lhs: Event, rhs: Event) -> Bool {
        guard lhs.id.isExactly(rhs.id), lhs.invocationId.isExactly(rhs.invocationId), lhs.timestamp == rhs.timestamp else { return false }
        if case .text(let a, let styleA, _) = lhs.storage, case .text(let b, let styleB, _) = rhs.storage, styleA == styleB, a.isExactly(b) {
            return true  // the same text in one style is the same data
        }
        return lhs.data == rhs.data
    }

    /// Equal events have the same id and timestamp (and hashing must not parse a carried text).
    public func hash(into hasher: inout Hasher) {
        id.hashExactly(into: &hasher)
        hasher.combine(timestamp)
    }
}
