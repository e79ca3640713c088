/// Identifies one ADK session: the unit of every copy, diff and verify.
public struct SessionKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var appName: String
    public var userId: String
    public var sessionId: String

    public init(appName: String, userId: String, sessionId: String) {
        self.appName = appName
        self.userId = userId
        self.sessionId = sessionId
    }

    /// Orders by app, user, then session id, comparing UTF-8 bytes (as SQLite's BINARY collation
    /// does), so every store sorts keys the same way.
    public static func < (lhs: SessionKey, rhs: SessionKey) -> Bool {
        if !lhs.appName.isExactly(rhs.appName) { return lhs.appName.precedesExactly(rhs.appName) }
        if !lhs.userId.isExactly(rhs.userId) { return lhs.userId.precedesExactly(rhs.userId) }
        return lhs.sessionId.precedesExactly(rhs.sessionId)
    }

    /// The same session only when every part has the same UTF-8 bytes: ADK, Redis and SQLite keep
    /// `café` and `cafe\u{301}` apart, which Swift's `==` on `String` would not
    /// (``Swift/String/isExactly(_:)``).
    public static func == (lhs: SessionKey, rhs: SessionKey) -> Bool {
        lhs.appName.isExactly(rhs.appName) && lhs.userId.isExactly(rhs.userId) && lhs.sessionId.isExactly(rhs.sessionId)
    }

    public func hash(into hasher: inout Hasher) {
        appName.hashExactly(into: &hasher)
        userId.hashExactly(into: &hasher)
        sessionId.hashExactly(into: &hasher)
    }

    /// `app/user/session`, for messages. Ids may contain any character: each part is shown through
    /// ``Printable/name(_:limit:)`` (control characters escaped, at most 200 characters).
    public var description: String { "\(Printable.name(appName))/\(Printable.name(userId))/\(Printable.name(sessionId))" }
}

/// One persisted event.
///
/// `data` is the event as DatabaseSessionService stores it in `event_data`: pydantic's
/// `model_dump(mode="json", exclude_none=True)`: snake_case keys, bytes as URL-safe base64.
/// `id`, `invocation_id` and `timestamp` are inside `data` too and are always kept in step.
public struct Event: Sendable, Hashable {
    /// The event as stored in `event_data` (see the type's documentation). Set by the initialisers
    /// only: ``prepareSerialized(_:)``'s text is of this data (a setter would have to clear it).
    public private(set) var data: JSONObject
    /// `data["id"]`.
    public private(set) var id: String
    /// `data["invocation_id"]` (empty when absent).
    public private(set) var invocationId: String
    /// `data["timestamp"]`, seconds since the Unix epoch.
    public private(set) var timestamp: Double
    /// `data` serialized ahead of a write (``prepareSerialized(_:)``); not part of equality.
    private var serialized: (style: JSONStyle, text: String)?

    /// Builds an event from its `event_data` object; `id` and `timestamp` must be present.
    public init(data: JSONObject) throws(SessionModelError) {
        guard let id = data["id"]?.stringValue else { throw .invalidEvent("event has no string \"id\"") }
        guard let timestamp = data["timestamp"]?.doubleValue else {
            throw .invalidEvent("event \(id) has no numeric \"timestamp\"")
        }
        self.data = data
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

    /// Serializes `data` in `style` now and keeps the text for ``serializedData(_:)``. A copy calls
    /// this on the thread that reads the source, so the thread that writes a SQLite or MySQL target
    /// (one connection, the slower side) only binds text it is handed.
    public mutating func prepareSerialized(_ style: JSONStyle) {
        if serialized?.style != style { serialized = (style, data.serialized(style)) }
    }

    /// The style ``prepareSerialized(_:)`` last serialized in (tests).
    var preparedStyle: JSONStyle? { serialized?.style }

    /// `data.serialized(style)`: the text ``prepareSerialized(_:)`` kept, or made now.
    public func serializedData(_ style: JSONStyle) -> String {
        if let serialized, serialized.style == style { return serialized.text }
        return data.serialized(style)
    }

    public static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.data == rhs.data && lhs.id.isExactly(rhs.id) && lhs.invocationId.isExactly(rhs.invocationId) && lhs.timestamp == rhs.timestamp
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(data)
        hasher.combine(timestamp)
    }
}

/// One whole ADK session with the app and user state it depends on.
///
/// State is held per scope as ADK's stores hold it: ``state`` is the session-scoped state,
/// ``appState`` and ``userState`` hold keys **without** their `app:`/`user:` prefix.
/// ``mergedState`` is what ADK's `get_session` returns.
public struct Session: Sendable, Hashable {
    public var key: SessionKey
    /// Session-scoped state (never holds `temp:` keys).
    public var state: JSONObject
    /// The app's state, keys without the `app:` prefix.
    public var appState: JSONObject
    /// The user's state, keys without the `user:` prefix.
    public var userState: JSONObject
    /// Events, oldest first.
    public var events: [Event]
    /// Creation time in epoch seconds; `nil` where the store does not keep it (Redis).
    public var createTime: Double?
    /// Last update time in epoch seconds (the newest event's timestamp once there are events).
    public var lastUpdateTime: Double
    /// When the store drops the session (Redis only); `nil` where the store has no expiry, in which
    /// case a Redis writer applies its configured TTL.
    public var expiry: SessionExpiry?

    public init(
        key: SessionKey, state: JSONObject = [:], appState: JSONObject = [:], userState: JSONObject = [:],
        events: [Event] = [], createTime: Double? = nil, lastUpdateTime: Double, expiry: SessionExpiry? = nil
    ) {
        self.key = key
        self.state = state
        self.appState = appState
        self.userState = userState
        self.events = events
        self.createTime = createTime
        self.lastUpdateTime = lastUpdateTime
        self.expiry = expiry
    }

    /// The state ADK's `get_session` returns: session keys, then `app:`-prefixed app keys, then
    /// `user:`-prefixed user keys, later ones overwriting earlier ones (`_merge_state`).
    public var mergedState: JSONObject {
        StateScopes.merge(session: state, app: appState, user: userState)
    }

    /// Total number of events, for counters.
    public var eventCount: Int { events.count }
}

/// A Redis session key's expiry.
public enum SessionExpiry: Sendable, Hashable {
    /// The key has no TTL.
    case never
    /// The key expires at this epoch time in seconds (millisecond precision, as `PEXPIREAT`).
    case at(Double)
}

/// Errors in the session model: bad events or state, named precisely.
public enum SessionModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidEvent(String)
    case invalidState(String)
    case invalidTimestamp(String)

    public var description: String {
        switch self {
        case .invalidEvent(let message): "invalid event: \(message)"
        case .invalidState(let message): "invalid state: \(message)"
        case .invalidTimestamp(let message): "invalid timestamp: \(message)"
        }
    }
}
