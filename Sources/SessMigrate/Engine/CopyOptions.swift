import DriverCore
import SessionModel

/// Which sessions a command works on. Empty sets mean "all".
public struct SessionFilter: Sendable, Hashable {
    public var apps: Set<String> = []
    public var users: Set<String> = []
    public var sessionIds: Set<String> = []
    /// Only sessions whose last update is at or after this epoch time.
    public var updatedSince: Double?
    /// Only sessions whose last update is before this epoch time.
    public var updatedBefore: Double?

    public init() {}

    /// True when no filter is set.
    public var isEmpty: Bool { self == SessionFilter() }

    /// True when `session` is in scope.
    public func matches(_ session: Session) -> Bool {
        matches(session.key) && updatedSince.map { session.lastUpdateTime >= $0 } ?? true
            && updatedBefore.map { session.lastUpdateTime < $0 } ?? true
    }

    /// True when the key is in scope (time bounds are checked on the session).
    public func matches(_ key: SessionKey) -> Bool {
        (apps.isEmpty || apps.contains(key.appName)) && (users.isEmpty || users.contains(key.userId))
            && (sessionIds.isEmpty || sessionIds.contains(key.sessionId))
    }
}

/// What to do when the target already holds a session the source has.
public enum ConflictPolicy: String, Sendable, Hashable, CaseIterable {
    /// Keep (and report) a target session updated later than the source's; otherwise merge events by
    /// id and update state as ADK would. The default.
    case newer
    /// The source's version replaces the target's.
    case source
    /// Leave existing target sessions alone.
    case skip
    /// Stop at the first session that exists in the target with different content.
    case fail
}

/// Where a Redis expiry is counted from when the source has none.
public enum TTLOrigin: String, Sendable, Hashable, CaseIterable {
    /// From the session's last update: a session idle longer than the TTL is already expired.
    case update
    /// From the time of the copy.
    case now
}

/// Options of `copy` (and of the copy steps of runbooks).
public struct CopyOptions: Sendable, Hashable {
    /// Sessions per read batch and per write batch.
    public var batchSize: Int = 200
    public var filter = SessionFilter()
    public var onConflict = ConflictPolicy.newer
    /// Delete target sessions in scope that the source does not have.
    public var mirror = false
    /// Report what would happen; write nothing anywhere.
    public var dryRun = false
    /// TTL in seconds for a Redis target when the source has no expiry; `nil` uses the target's own
    /// (`?ttl=`, `REDIS_SESSION_TTL`, 3600). Given explicitly, it also replaces a Redis source's expiry.
    public var ttlSeconds: Int?
    public var ttlOrigin = TTLOrigin.update
    /// Write sessions whose expiry has already passed (with a TTL counted from now).
    public var includeExpired = false
    /// Pass over bad sessions (unreadable in the source, or rejected by the target as too large)
    /// and go on; they are listed in ``CopySummary/skipped``. Without it the copy stops before
    /// writing the batch that holds the first bad session.
    public var skipBad = false

    public init(batchSize: Int = 200) {
        self.batchSize = max(1, batchSize)
    }
}
