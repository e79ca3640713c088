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
    /// Bad sessions passed over with ``DiffEngine/skipBad``, in A and in B (not compared, not
    /// counted above); a session of that key in the other store is not reported as "only in".
    public var skippedA: [SkippedSession] = []
    public var skippedB: [SkippedSession] = []

    public init() {}

    /// True when no session differs and none was skipped: a comparison that passed over bad
    /// sessions never says the stores are identical.
    public var isIdentical: Bool { isIdenticalExceptSkipped && skippedA.isEmpty && skippedB.isEmpty }

    /// True when every session that could be read compares equal.
    public var isIdenticalExceptSkipped: Bool { onlyInA == 0 && onlyInB == 0 && changed == 0 }
}

/// Compares two stores in one pass over each: A is streamed into a table of per-session digests
/// (48 bytes a session, never the events), then B is streamed against it. Sessions whose digests
/// differ are fetched from A again to say what changed, in batches. Symmetric: sessions only in A
/// and only in B are both found in the same run.
public struct DiffEngine {
    public var batchSize: Int
    /// When false, only counts are produced (`verify`): no detail fetches.
    public var detailed: Bool
    /// Pass over sessions whose data is bad (listed in the summary) instead of stopping.
    public var skipBad = false
    public var now: @Sendable () -> Double

    public init(
        batchSize: Int = 500, detailed: Bool, skipBad: Bool = false, now: @escaping @Sendable () -> Double = Clock.epochSeconds
    ) {
        self.batchSize = max(1, batchSize)
        self.detailed = detailed
        self.skipBad = skipBad
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
        let cursorA = try a.scanSessions(SessionQuery(batchSize: batchSize, skipBad: skipBad))
        var skippedKeysA = Set<SessionKey>()
        func takeSkippedA() {
            for item in cursorA.takeSkipped() {
                summary.skippedA.append(item)
                if let key = item.key { skippedKeysA.insert(key) }
            }
        }
        while let raw = try cursorA.next() {
            takeSkippedA()
            let session = try view(raw)
            if table.updateValue(Entry(digest: session.digest(includingCreateTime: compareCreateTime)), forKey: session.key) == nil {
                summary.sessionsInA += 1
                summary.eventsInA += session.events.count
            }
        }
        takeSkippedA()
        var pending: [Session] = []
        let cursorB = try b.scanSessions(SessionQuery(batchSize: batchSize, skipBad: skipBad))
        func takeSkippedB() {
            for item in cursorB.takeSkipped() {
                summary.skippedB.append(item)
                // Not "only in A": B has it, unreadable.
                if let key = item.key, table[key] != nil { table[key]?.matched = true }
            }
        }
        while let raw = try cursorB.next() {
            takeSkippedB()
            let session = try view(raw)
            // Not "only in B": A has it, unreadable.
            if skippedKeysA.contains(session.key) { continue }
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
        takeSkippedB()
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
