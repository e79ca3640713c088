import DriverCore
import SessionModel

/// A session that is not the same in both stores.
public struct SessionDifference: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case onlyInA = "only in A"
        case onlyInB = "only in B"
        case changed
    }

    public var key: SessionKey
    public var kind: Kind
    /// What changed, for `changed` sessions.
    public var changes: [SessionChange]
}

/// Counts of a diff or verify.
public struct DiffSummary: Sendable, Hashable {
    public var sessionsInA = 0
    public var sessionsInB = 0
    public var eventsInA = 0
    public var eventsInB = 0
    public var identical = 0
    public var onlyInA = 0
    public var onlyInB = 0
    public var changed = 0
    public var seconds = 0.0
    /// Fields not compared because one of the stores cannot hold them.
    public var notCompared: [String] = []

    public init() {}

    /// True when no session differs.
    public var isIdentical: Bool { onlyInA == 0 && onlyInB == 0 && changed == 0 }
}

/// Compares two stores in one pass over each: A is streamed into a table of per-session digests
/// (48 bytes a session, never the events), then B is streamed against it. Sessions whose digests
/// differ are fetched from A again to say what changed, in batches. Symmetric: sessions only in A
/// and only in B are both found in the same run.
public struct DiffEngine {
    public var batchSize: Int
    /// When false, only counts are produced (`verify`): no detail fetches.
    public var detailed: Bool
    public var now: @Sendable () -> Double

    public init(batchSize: Int = 500, detailed: Bool, now: @escaping @Sendable () -> Double = Clock.epochSeconds) {
        self.batchSize = max(1, batchSize)
        self.detailed = detailed
        self.now = now
    }

    private struct Entry {
        var digest: [UInt8]
        var matched = false
    }

    /// Runs the comparison, handing each difference to `report` as it is found.
    public func run(_ a: any SessionStore, _ b: any SessionStore, report: (SessionDifference) -> Void) throws -> DiffSummary {
        let started = now()
        var summary = DiffSummary()
        let compareCreateTime = a.capabilities.keepsCreateTime && b.capabilities.keepsCreateTime
        if !compareCreateTime { summary.notCompared.append("create_time") }
        summary.notCompared.append("expiry")
        // Both sides are seen through both stores' lossy views (identity for most stores), so a
        // session copied into a store that cannot hold everything (a v0 database) compares equal.
        let view = { (session: Session) throws -> Session in try b.readBack(a.readBack(session)) }
        var table: [SessionKey: Entry] = [:]
        let cursorA = try a.scanSessions(SessionQuery(batchSize: batchSize))
        while let raw = try cursorA.next() {
            let session = try view(raw)
            if table.updateValue(Entry(digest: session.digest(includingCreateTime: compareCreateTime)), forKey: session.key) == nil {
                summary.sessionsInA += 1
                summary.eventsInA += session.events.count
            }
        }
        var pending: [Session] = []
        let cursorB = try b.scanSessions(SessionQuery(batchSize: batchSize))
        while let raw = try cursorB.next() {
            let session = try view(raw)
            guard let entry = table[session.key] else {
                summary.sessionsInB += 1
                summary.eventsInB += session.events.count
                summary.onlyInB += 1
                report(SessionDifference(key: session.key, kind: .onlyInB, changes: []))
                continue
            }
            if entry.matched { continue }  // SCAN may return a key twice.
            table[session.key]?.matched = true
            summary.sessionsInB += 1
            summary.eventsInB += session.events.count
            if entry.digest == session.digest(includingCreateTime: compareCreateTime) {
                summary.identical += 1
            } else {
                summary.changed += 1
                if detailed { pending.append(session) } else { report(SessionDifference(key: session.key, kind: .changed, changes: [])) }
                if pending.count >= batchSize {
                    try explain(pending, from: a, view: view, compareCreateTime: compareCreateTime, report: report)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if !pending.isEmpty { try explain(pending, from: a, view: view, compareCreateTime: compareCreateTime, report: report) }
        for (key, entry) in table.sorted(by: { $0.key < $1.key }) where !entry.matched {
            summary.onlyInA += 1
            report(SessionDifference(key: key, kind: .onlyInA, changes: []))
        }
        summary.seconds = now() - started
        return summary
    }

    private func explain(
        _ sessionsInB: [Session], from a: any SessionStore, view: (Session) throws -> Session, compareCreateTime: Bool,
        report: (SessionDifference) -> Void
    ) throws {
        let fromA = try a.fetchSessions(sessionsInB.map(\.key))
        for session in sessionsInB {
            guard let original = try fromA[session.key].map(view) else {
                // Deleted from A after the first pass: report what B has as extra.
                report(SessionDifference(key: session.key, kind: .onlyInB, changes: []))
                continue
            }
            let changes = SessionDiff.changes(original, session, compareCreateTime: compareCreateTime)
            report(SessionDifference(key: session.key, kind: .changed, changes: changes))
        }
    }
}
