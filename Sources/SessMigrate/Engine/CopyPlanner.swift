import DriverCore
import SessionModel

/// What the copy does with one source session.
public enum CopyDecision: Sendable, Hashable {
    /// The target lacks it: write it.
    case insert(Session)
    /// The target's version differs: write this (the source's, or the `newer` policy's merge).
    case update(Session)
    /// Both sides hold something the other lacks: write this two-sided merge (``SessionMerge``), whose
    /// `appState`/`userState` hold only the keys to set.
    case merge(Session)
    /// The same event id holds different content on each side: nothing is written, the session is
    /// reported.
    case conflict(eventIds: [String])
    /// The target already holds it as it would be written.
    case unchanged
    /// The target's version was updated later than the source's and is kept (`newer`).
    case keptNewerTarget
    /// The target has a different version and the policy is `skip`.
    case skippedExisting
    /// Its Redis expiry has already passed and `includeExpired` is off.
    case skippedExpired
}

/// A session present in both stores with different content under `--on-conflict fail`.
public struct ConflictError: Error, CustomStringConvertible {
    public var key: SessionKey
    public var description: String {
        "session \(key) exists in the target with different content (--on-conflict fail); nothing more was written"
    }
}

/// The pure decision logic of a copy: no I/O, so every policy is tested without stores.
public struct CopyPlanner: Sendable {
    public var onConflict: ConflictPolicy
    public var ttl: TTLPolicy
    public var comparison: SessionComparison
    public var sourceKeepsExpiry: Bool
    public var targetKeepsExpiry: Bool
    /// The target's own TTL (seconds), used when `ttl.seconds` is not set.
    public var targetTTLSeconds: Int

    public init(request: CopyRequest, source: StoreCapabilities, target: StoreCapabilities, targetTTLSeconds: Int) {
        self.onConflict = request.onConflict
        self.ttl = request.ttl
        self.comparison = SessionComparison(source: source, target: target)
        self.sourceKeepsExpiry = source.keepsExpiry
        self.targetKeepsExpiry = target.keepsExpiry
        self.targetTTLSeconds = targetTTLSeconds
    }

    /// Decides what to do with `source`, given the target's current version (if any), at time `now`.
    ///
    /// - Parameter readBack: what the target would return after storing a session (its lossy view,
    ///   see `SessionStore.readBack`); comparisons are made against it.
    public func decide(
        _ source: Session, existing: Session?, now: Double, readBack: (Session) throws -> Session = { $0 }
    ) throws -> CopyDecision {
        guard let prepared = prepare(source, now: now) else { return .skippedExpired }
        guard let existing else { return .insert(prepared) }
        if comparison.isUnchanged(existing, comparedTo: try readBack(prepared)) { return .unchanged }
        switch onConflict {
        case .source: return .update(prepared)
        case .skip: return .skippedExisting
        case .fail: throw ConflictError(key: source.key)
        case .merge:
            switch SessionMerge.merge(source: try readBack(prepared), into: existing) {
            case .contained: return .unchanged
            case .conflict(let ids): return .conflict(eventIds: ids)
            case .merged(var merged):
                merged.expiry = Self.later(existing.expiry, prepared.expiry)
                return .merge(merged)
            }
        case .newer:
            if PythonTime.microseconds(fromEpoch: existing.lastUpdateTime) > PythonTime.microseconds(fromEpoch: prepared.lastUpdateTime) {
                return .keptNewerTarget
            }
            var merged = SessionMerge.merge(source: prepared, over: existing)
            merged.expiry = prepared.expiry
            return comparison.isUnchanged(existing, comparedTo: try readBack(merged)) ? .unchanged : .update(merged)
        }
    }

    /// The later of two expiries (`never` is the latest).
    static func later(_ a: SessionExpiry?, _ b: SessionExpiry?) -> SessionExpiry? {
        switch (a, b) {
        case (.never?, _), (_, .never?): .never
        case (.at(let x)?, .at(let y)?): .at(max(x, y))
        default: a ?? b
        }
    }

    /// Applies the expiry policy and the update-time rule; `nil` when the session has expired.
    public func prepare(_ source: Session, now: Double) -> Session? {
        var session = source
        if let newest = session.events.last?.timestamp, newest > session.lastUpdateTime {
            // ADK's stale-session check expects update_time to be the newest event's time.
            session.lastUpdateTime = newest
        }
        guard targetKeepsExpiry else {
            session.expiry = nil
            return session
        }
        if sourceKeepsExpiry, ttl.seconds == nil { return session }
        let seconds = Double(ttl.seconds ?? targetTTLSeconds)
        var expiresAt = (ttl.origin == .update ? session.lastUpdateTime : now) + seconds
        if expiresAt <= now {
            guard ttl.includeExpired else { return nil }
            expiresAt = now + seconds
        }
        session.expiry = .at(expiresAt)
        return session
    }
}
