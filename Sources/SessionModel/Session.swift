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
