import DriverCore
import SessionModel

/// `verify A B --contains`: is everything the old primary A holds in the new primary B? Every
/// session of A must be in B with every one of its events (same content) and its state keys, as
/// ``SessionMerge`` defines it: merging A's version into B's would change nothing. B may hold more:
/// the bot writes there now. This is what a flip would lose, so it is the check that can pass while
/// the bot is live.
///
/// Not differences, counted apart:
/// - sessions of A updated at or after ``pendingSince`` that B does not hold yet: **pending converge**
///   (the next converge pass copies them), named and with the age of the oldest;
/// - sessions of A the copy's expiry policy does not copy (already expired for the target);
/// - sessions only in B.
///
/// One pass over each store, as ``DiffEngine``: A's digests and update times in a table (about 64 bytes
/// a session, never the events), then B streamed against it; sessions whose digests differ are
/// fetched from A again, in batches, and checked one by one.
public struct ContainmentEngine {
    public var batchSize: Int
    public var skipBad = false
    public var scope = SessionScope()
    /// Sessions of A updated at or after this time and not yet in B are pending converge.
    public var pendingSince: Double?
    /// The copy's expiry policy, which decides which sessions of A it skips as already expired for B
    /// (`nil`: none are skipped), and B's own TTL (`?ttl=`, `REDIS_SESSION_TTL`).
    public var expiry: TTLPolicy?
    public var targetTTLSeconds = 3600
    public var clock = Clock.system
    /// Sessions of A held at once: more are checked in passes (see ``ComparisonPasses``).
    public var sessionsPerPass = ComparisonPasses.defaultSessionsPerPass

    public init(batchSize: Int = 500) { self.batchSize = max(1, batchSize) }

    private struct Entry {
        var digest: [UInt8]
        var updated: Double
        var expired: Bool
        var matched = false
    }

    public func run(_ a: any SessionStore, _ b: any SessionStore, events: ProgressSink = { _ in }) throws -> ContainmentSummary {
        let started = clock.now()
        events(.began(operation: "verify (containment)", total: nil))
        let largest = [try? a.countSessions(scope), try? b.countSessions(scope)].compactMap { $0 }.max()
        let passes = ComparisonPasses(shard: scope.shard, largestSide: largest, sessionsPerPass: sessionsPerPass)
        let (completed, checked) = try passes.run(startingOver: { tooLarge, from, to in
            events(.note("\(tooLarge.sessions) sessions of A in one pass of \(from.count): checking again in \(to.count) passes"))
        }) { passes in
            var summary = ContainmentSummary()
            var progress = 0
            for passScope in try passes.scopes(of: scope) {
                try runPass(a, b, scope: passScope, bounds: passes.tableBounds, summary: &summary) {
                    progress += 1
                    if progress % batchSize == 0 {
                        events(.advanced(ProgressCounts(sessions: progress, events: 0, seconds: clock.now() - started)))
                    }
                }
            }
            return summary
        }
        var summary = checked
        // A blob whose key names no session is read, and skipped, by every pass.
        summary.skippedA = summary.skippedA.uniqued()
        summary.skippedB = summary.skippedB.uniqued()
        summary.seconds = clock.now() - started
        summary.passes = completed.count
        events(.ended)
        return summary
    }

    /// One pass: A's sessions in `scope` into a table (at most `bounds.limit`), then B's streamed against it.
    private func runPass(
        _ a: any SessionStore, _ b: any SessionStore, scope: SessionScope, bounds: TableBounds, summary: inout ContainmentSummary,
        advanced: () -> Void
    ) throws {
        let view = { (session: Session) throws -> Session in try b.readBack(a.readBack(session)) }
        let now = clock.now()
        let expiryPlanner = expiry.map { policy -> CopyPlanner in
            var request = CopyRequest()
            request.ttl = policy
            return CopyPlanner(request: request, source: a.capabilities, target: b.capabilities, targetTTLSeconds: targetTTLSeconds)
        }
        var table: [SessionKey: Entry] = [:]
        if let reserve = bounds.reserve { table.reserveCapacity(reserve) }
        let cursorA = try a.scanSessions(SessionQuery.comparing(scope, batchSize: batchSize, skipBad: skipBad))
        while let raw = try cursorA.next() {
            summary.skippedA.append(contentsOf: cursorA.takeSkipped())
            let session = try view(raw)
            let expired = expiryPlanner.map { $0.prepare(session, now: now) == nil } ?? false
            if table.updateValue(Entry(digest: session.digest(), updated: session.lastUpdateTime, expired: expired), forKey: session.key) == nil {
                summary.sessionsInA += 1
                summary.eventsInA += session.events.count
                if let limit = bounds.limit, table.count > limit { throw PassTooLarge(sessions: table.count) }
            }
        }
        summary.skippedA.append(contentsOf: cursorA.takeSkipped())
        var pending: [Session] = []
        let cursorB = try b.scanSessions(SessionQuery.comparing(scope, batchSize: batchSize, skipBad: skipBad))
        while let raw = try cursorB.next() {
            summary.skippedB.append(contentsOf: cursorB.takeSkipped())
            let session = try view(raw)
            guard let entry = table[session.key] else {
                summary.onlyInB += 1
                advanced()
                continue
            }
            if entry.matched { continue }  // SCAN may return a key twice.
            table[session.key]?.matched = true
            if entry.digest == session.digest() {
                summary.contained += 1
            } else {
                pending.append(session)
                if pending.count >= batchSize {
                    try check(pending, from: a, view: view, table: table, summary: &summary)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            advanced()
        }
        summary.skippedB.append(contentsOf: cursorB.takeSkipped())
        if !pending.isEmpty { try check(pending, from: a, view: view, table: table, summary: &summary) }
        let skippedInB = Set(summary.skippedB.compactMap(\.key))
        for (key, entry) in table.sorted(by: { $0.key < $1.key }) where !entry.matched && !skippedInB.contains(key) {
            classify(key, entry, problem: "missing in B", summary: &summary, now: now)
        }
    }

    /// Checks sessions of B whose digests differ from A's, fetching A's versions again.
    private func check(
        _ sessionsInB: [Session], from a: any SessionStore, view: (Session) throws -> Session, table: [SessionKey: Entry],
        summary: inout ContainmentSummary
    ) throws {
        let fromA = try a.fetchSessions(sessionsInB.map(\.key))
        for session in sessionsInB {
            guard let original = try fromA[session.key].map(view), let entry = table[session.key] else {
                summary.contained += 1  // deleted from A since the first pass: nothing of it to lose
                continue
            }
            switch SessionMerge.merge(source: original, into: session) {
            case .contained:
                summary.contained += 1
            case .conflict(let ids):
                summary.failures.append(contentsOf: [ContainmentFailure(key: session.key, problem: "event \(ids.prefix(3).joined(separator: ", ")) differs")])
            case .merged(let merged):
                let missing = merged.events.count - session.events.count
                let problem = missing > 0 ? "\(missing) event(s) of A missing in B" : "state keys of A missing in B"
                classify(session.key, entry, problem: problem, summary: &summary, now: clock.now())
            }
        }
    }

    private func classify(_ key: SessionKey, _ entry: Entry, problem: String, summary: inout ContainmentSummary, now: Double) {
        if let since = pendingSince, entry.updated >= since {
            summary.pending.append(contentsOf: [key])
            summary.oldestPendingUpdate = min(summary.oldestPendingUpdate ?? entry.updated, entry.updated)
        } else if entry.expired {
            summary.expired += 1
        } else {
            summary.failures.append(contentsOf: [ContainmentFailure(key: key, problem: problem)])
        }
    }
}

/// A session of A that B does not contain.
public struct ContainmentFailure: Sendable, Hashable, CustomStringConvertible {
    public var key: SessionKey
    public var problem: String
    public var description: String { "\(key): \(problem)" }
}

/// The counts of a containment check.
public struct ContainmentSummary: Sendable, Hashable {
    public var sessionsInA = 0
    public var eventsInA = 0
    /// Sessions of A that B holds whole.
    public var contained = 0
    /// Sessions of A changed since the watermark that B does not hold yet (named, capped).
    public var pending = BoundedList<SessionKey>(limit: 1000)
    /// The last update of the oldest pending session.
    public var oldestPendingUpdate: Double?
    /// Sessions of A the copy's expiry policy does not copy.
    public var expired = 0
    public var onlyInB = 0
    /// Sessions of A that B does not contain and that are neither pending nor expired (capped).
    public var failures = BoundedList<ContainmentFailure>(limit: 1000)
    public var skippedA: [SkippedSession] = []
    public var skippedB: [SkippedSession] = []
    public var seconds = 0.0
    /// The passes the check took (see ``ComparisonPasses``).
    public var passes = 1

    public init() {}

    /// True when nothing of A is lost in B (pending and expired sessions are not failures).
    public var isContained: Bool { failures.count == 0 }
}
