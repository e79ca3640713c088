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
    /// The passes the comparison took (see ``ComparisonPasses``).
    public var passes = 1
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

/// Compares two stores in one pass over each, both read at once: each store is streamed on its own
/// thread into a table of per-session fingerprints (a SHA-256 of the canonical session and an event
/// count, never the events), then the two tables are compared. Sessions whose fingerprints differ are
/// fetched from both stores again to say what changed, in batches. Symmetric: sessions only in A and
/// only in B are both found in the same run. Differences are reported in key order.
public struct DiffEngine {
    public var batchSize: Int
    /// When false, only counts are produced (`verify`): no detail fetches.
    public var detailed: Bool
    /// Pass over sessions whose data is bad (listed in the summary) instead of stopping.
    public var skipBad = false
    /// Which sessions are compared (the same scope type a copy takes), pushed down to both stores.
    public var scope = SessionScope()
    public var clock: Clock
    /// The operation's name in progress events: `verify` or `diff`.
    public var operation: String
    /// Called on the scanning threads after each session read, with the sessions both sides read so far
    /// (tests: ``CopyTestHooks/verifyPause(environment:)``).
    public var afterSessionRead: (@Sendable (Int) -> Void)?
    /// Sessions of one side held at once: more sessions are compared in passes
    /// (see ``ComparisonPasses``).
    public var sessionsPerPass = DiffEngine.defaultSessionsPerPass
    /// 250,000: about 150 MiB for both sides' tables.
    public static let defaultSessionsPerPass = ComparisonPasses.defaultSessionsPerPass

    public init(batchSize: Int = 500, detailed: Bool, skipBad: Bool = false, scope: SessionScope = SessionScope(), clock: Clock = .system) {
        self.batchSize = max(1, batchSize)
        self.detailed = detailed
        self.skipBad = skipBad
        self.scope = scope
        self.clock = clock
        self.operation = detailed ? "diff" : "verify"
    }

    /// Runs the comparison, handing each difference to `report`. Progress counts the sessions of both
    /// stores read (the total, when both count cheaply, is their sum).
    public func run(
        _ a: any SessionStore, _ b: any SessionStore, events: ProgressSink = { _ in }, report: (SessionDifference) -> Void
    ) throws -> DiffSummary {
        let started = clock.now()
        let (countA, countB) = (try? a.countSessions(scope), try? b.countSessions(scope))
        var total: Int?
        if let countA, let countB { total = countA + countB }
        events(.began(operation: operation, total: total))
        var summary = DiffSummary()
        let compareCreateTime = a.capabilities.keepsCreateTime && b.capabilities.keepsCreateTime
        if !compareCreateTime { summary.notCompared.append("create_time") }
        summary.notCompared.append("expiry")
        // Both sides are seen through both stores' lossy views (identity for most stores), so a
        // session copied into a store that cannot hold everything (a v0 database) compares equal.
        let view = ReadBackView(a: a, b: b)
        let counter = DiffProgress(batchSize: batchSize, total: total, started: started, clock: clock, afterSessionRead: afterSessionRead)
        let largest = [countA, countB].compactMap { $0 }.max()
        let passes = ComparisonPasses(shard: scope.shard, largestSide: largest, sessionsPerPass: sessionsPerPass)
        let (completed, compared) = try passes.run(startingOver: { tooLarge, from, to in
            events(.note("\(tooLarge.sessions) sessions of one side in one pass of \(from.count): comparing again in \(to.count) passes"))
            counter.restart()
        }) { passes in
            var compared = Compared(summary: summary)
            for passScope in try passes.scopes(of: scope) {
                let query = SessionQuery.comparing(passScope, batchSize: batchSize, skipBad: skipBad)
                let (sideA, sideB) = try DigestTable.scanBoth(
                    a, b, query: query, view: view, compareCreateTime: compareCreateTime, bounds: passes.tableBounds, progress: counter,
                    events: events)
                compared.add(sideA, sideB)
            }
            return compared
        }
        summary = compared.summary
        summary.passes = completed.count
        let progress = counter.counts
        var differing = compared.differing
        var onlyInA = compared.onlyInA
        differing.sort { $0.key < $1.key }
        onlyInA.sort()
        if detailed {
            var start = 0
            while start < differing.count {
                let end = min(start + batchSize, differing.count)
                try explain(differing[start..<end], a, b, view: view, compareCreateTime: compareCreateTime, report: report)
                start = end
            }
        } else {
            differing.forEach(report)
        }
        for key in onlyInA { report(SessionDifference(key: key, kind: .onlyInA, changes: [])) }
        summary.seconds = clock.now() - started
        events(.advanced(ProgressCounts(sessions: progress.sessions, events: progress.events, total: total, seconds: summary.seconds)))
        events(.ended)
        return summary
    }

    /// What changed in each of `batch`'s changed sessions, both sides read again.
    private func explain(
        _ batch: ArraySlice<SessionDifference>, _ a: any SessionStore, _ b: any SessionStore, view: ReadBackView, compareCreateTime: Bool,
        report: (SessionDifference) -> Void
    ) throws {
        let changed = batch.filter { $0.kind == .changed }.map(\.key)
        let fromA = changed.isEmpty ? [:] : try a.fetchSessions(changed)
        let fromB = changed.isEmpty ? [:] : try b.fetchSessions(changed)
        for difference in batch {
            guard difference.kind == .changed else { report(difference); continue }
            let key = difference.key
            // Deleted from one side after the first pass: what the other has is extra.
            guard let inB = try fromB[key].map(view.callAsFunction) else {
                report(SessionDifference(key: key, kind: .onlyInA, changes: []))
                continue
            }
            guard let inA = try fromA[key].map(view.callAsFunction) else {
                report(SessionDifference(key: key, kind: .onlyInB, changes: []))
                continue
            }
            report(SessionDifference(key: key, kind: .changed, changes: SessionDiff.changes(inA, inB, compareCreateTime: compareCreateTime)))
        }
    }
}

/// What the passes of a comparison found so far.
private struct Compared {
    var summary: DiffSummary
    var differing: [SessionDifference] = []
    var onlyInA: [SessionKey] = []

    init(summary: DiffSummary) { self.summary = summary }

    /// Adds one pass's tables (the same share of both stores).
    mutating func add(_ sideA: DigestTable, _ sideB: DigestTable) {
        // A blob whose key names no session is read, and skipped, by every pass.
        summary.skippedA = (summary.skippedA + sideA.skipped).uniqued()
        summary.skippedB = (summary.skippedB + sideB.skipped).uniqued()
        summary.sessionsInA += sideA.entries.count
        summary.eventsInA += sideA.events
        for (key, entry) in sideB.entries {
            if sideA.skippedKeys.contains(key) { continue }  // Not "only in B": A has it, unreadable.
            summary.sessionsInB += 1
            summary.eventsInB += entry.events
            guard let inA = sideA.entries[key] else {
                summary.onlyInB += 1
                differing.append(SessionDifference(key: key, kind: .onlyInB, changes: []))
                continue
            }
            if inA.fingerprint == entry.fingerprint {
                summary.identical += 1
            } else {
                summary.changed += 1
                differing.append(SessionDifference(key: key, kind: .changed, changes: []))
            }
        }
        // Not "only in A" when B has it, unreadable.
        let only = sideA.entries.keys.filter { sideB.entries[$0] == nil && !sideB.skippedKeys.contains($0) }
        summary.onlyInA += only.count
        onlyInA.append(contentsOf: only)
    }
}
