import DriverCore
import SessionModel

/// Decides whether a target already holds a source session, comparing meaning, not bytes,
/// and only what both stores can hold.
public struct SessionComparison: Sendable {
    /// The source store keeps creation times.
    public var compareCreateTime: Bool
    /// Both stores keep per-session expiry.
    public var compareExpiry: Bool

    public init(source: StoreCapabilities, target: StoreCapabilities) {
        compareCreateTime = source.keepsCreateTime && target.keepsCreateTime
        compareExpiry = source.keepsExpiry && target.keepsExpiry
    }

    /// True when writing `source` over `stored` would change nothing ADK can read back.
    ///
    /// App and user state are merged on write, so they are unchanged when every source key is
    /// already stored with an equivalent value.
    public func isUnchanged(_ stored: Session, comparedTo source: Session) -> Bool {
        guard stored.key == source.key,
            stored.events.count == source.events.count,
            stored.state.isEquivalent(to: source.state),
            Self.contains(stored.appState, source.appState),
            Self.contains(stored.userState, source.userState),
            PythonTime.microseconds(fromEpoch: stored.lastUpdateTime) == PythonTime.microseconds(fromEpoch: source.lastUpdateTime)
        else { return false }
        if compareCreateTime, let a = stored.createTime, let b = source.createTime,
            PythonTime.microseconds(fromEpoch: a) != PythonTime.microseconds(fromEpoch: b)
        {
            return false
        }
        if compareExpiry, !Self.sameExpiry(stored.expiry, source.expiry) { return false }
        for (a, b) in zip(stored.events, source.events) where !a.id.isExactly(b.id) || !a.data.isEquivalent(to: b.data) {
            return false
        }
        return true
    }

    static func contains(_ stored: JSONObject, _ source: JSONObject) -> Bool {
        source.allSatisfy { member in stored[member.key].map { $0.isEquivalent(to: member.value) } ?? false }
    }

    /// Expiries are equal when both are `never`, or both are absolute times within one second
    /// (a TTL read back with `PTTL` drifts by the time the read took).
    static func sameExpiry(_ a: SessionExpiry?, _ b: SessionExpiry?) -> Bool {
        switch (a, b) {
        case (.never?, .never?), (nil, nil): true
        case (.at(let x)?, .at(let y)?): abs(x - y) <= 1
        default: false
        }
    }
}
