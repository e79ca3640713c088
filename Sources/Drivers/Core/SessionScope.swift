import SessionModel

/// Which sessions an operation works on: the same type for copy, diff, verify, snapshot, restore
/// and converge, carried to the stores in ``SessionQuery/scope``. Empty sets mean "all".
///
/// Every store compiles what it can into its own query (a SQL `WHERE`, a Redis key pattern, direct
/// `GET`s); the rest is checked on each session it loads (``matches(_:)``), so a store that cannot
/// narrow a filter still returns only sessions in scope. The engine keeps the same check as a
/// safety net.
public struct SessionScope: Sendable, Hashable {
    public var apps: Set<String> = []
    public var users: Set<String> = []
    public var sessionIds: Set<String> = []
    /// Only sessions whose last update is at or after this epoch time.
    public var updatedSince: Double?
    /// Only sessions whose last update is before this epoch time.
    public var updatedBefore: Double?
    /// Only the sessions of this shard.
    public var shard: Shard?
    /// `shard_by` `slots` or `auto` while the source that settles it is not open yet
    /// (``settleShard(for:)``); `nil` once settled, and for `id`. Stores read ``Shard/function``.
    public var unsettledShardChoice: ShardChoice?

    public init(
        apps: Set<String> = [], users: Set<String> = [], sessionIds: Set<String> = [], updatedSince: Double? = nil,
        updatedBefore: Double? = nil, shard: Shard? = nil
    ) {
        self.apps = apps
        self.users = users
        self.sessionIds = sessionIds
        self.updatedSince = updatedSince
        self.updatedBefore = updatedBefore
        self.shard = shard
    }

    /// Every session.
    public static let all = SessionScope()

    /// True when nothing is filtered.
    public var isEmpty: Bool { self == SessionScope() }

    /// True when only keys are filtered (no time bounds): a key alone decides membership.
    public var isKeyOnly: Bool { updatedSince == nil && updatedBefore == nil }

    /// True when `session` is in scope.
    public func matches(_ session: Session) -> Bool {
        matches(session.key) && matches(lastUpdateTime: session.lastUpdateTime)
    }

    /// True when the key is in scope (time bounds are checked on the session).
    public func matches(_ key: SessionKey) -> Bool {
        (apps.isEmpty || apps.containsExactly(key.appName)) && (users.isEmpty || users.containsExactly(key.userId))
            && (sessionIds.isEmpty || sessionIds.containsExactly(key.sessionId)) && (shard?.contains(key) ?? true)
    }

    /// True when a session last updated at `time` is within the time bounds.
    public func matches(lastUpdateTime time: Double) -> Bool {
        (updatedSince.map { time >= $0 } ?? true) && (updatedBefore.map { time < $0 } ?? true)
    }

    /// True when a session with id `sessionId` may be in scope, knowing only its id (ids and shard;
    /// a shard whose function needs app and user too answers yes: the session decides).
    public func mayMatch(sessionId: String) -> Bool {
        (sessionIds.isEmpty || sessionIds.containsExactly(sessionId)) && (shard?.contains(sessionId: sessionId) ?? true)
    }

    /// Settles ``unsettledShardChoice`` against the source store (its Redis layout, whether it is a
    /// cluster): the shard gets its function, and the choice is cleared. Nothing to do without one.
    ///
    /// - Throws: ``ShardError`` when `slots` was chosen and the source cannot give it a key form.
    public mutating func settleShard(for source: any SessionStore) throws(ShardError) {
        guard let choice = unsettledShardChoice else { return }
        if let shard { self.shard = shard.with(function: try choice.resolve(for: source)) }
        unsettledShardChoice = nil
    }

    /// The same scope restricted further to `shard` (which must be unset).
    public func restricted(to shard: Shard?) -> SessionScope {
        var scope = self
        scope.shard = shard
        return scope
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): zlib's `crc32`, MySQL's `CRC32()`.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The checksum of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

extension SessionScope {
    /// The time bounds as microseconds since the epoch for a store that compares stored
    /// microsecond times: `since` rounded down and `before` rounded up, each widened by one
    /// microsecond, so a store's comparison never excludes a session ``matches(lastUpdateTime:)``
    /// keeps (the check on each loaded session then drops the few extra). A bound outside years
    /// 1000–9999 (what every store can hold) is `nil`: no condition.
    public var microsecondBounds: (since: Int64?, before: Int64?) {
        let lowest = -30_610_224_000_000_000 as Int64  // 1000-01-01
        let highest = 253_402_300_800_000_000 as Int64  // 10000-01-01
        func micros(_ seconds: Double, _ rule: FloatingPointRoundingRule) -> Int64? {
            let value = (seconds * 1e6).rounded(rule)
            guard value.isFinite, value > Double(lowest), value < Double(highest) else { return nil }
            return Int64(value)
        }
        return (updatedSince.flatMap { micros($0, .down) }.map { $0 - 1 }, updatedBefore.flatMap { micros($0, .up) }.map { $0 + 1 })
    }
}
