import DriverCore
import SessionModel

/// Counters of a copy for one app (or all apps).
public struct CopyCounts: Sendable, Hashable {
    public var read = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var keptNewerTarget = 0
    public var skippedExisting = 0
    public var skippedExpired = 0
    public var deleted = 0
    public var eventsRead = 0
    public var eventsWritten = 0

    public init() {}

    /// Sessions written (inserted or updated).
    public var written: Int { inserted + updated }

    mutating func add(_ other: CopyCounts) {
        read += other.read; inserted += other.inserted; updated += other.updated; unchanged += other.unchanged
        keptNewerTarget += other.keptNewerTarget; skippedExisting += other.skippedExisting
        skippedExpired += other.skippedExpired; deleted += other.deleted
        eventsRead += other.eventsRead; eventsWritten += other.eventsWritten
    }
}

/// The result of a copy (or of its dry run).
public struct CopySummary: Sendable, Hashable {
    /// Per app name.
    public var apps: [String: CopyCounts] = [:]
    /// Wall-clock seconds from the first read to the last write.
    public var seconds = 0.0
    /// Fields the target cannot hold, dropped from written sessions: dotted name → occurrences.
    public var droppedFields: [String: Int] = [:]
    /// True when nothing was written because of `--dry-run`.
    public var dryRun = false
    /// Sessions kept because the target's version is newer (reported by name).
    public var keptSessions: [SessionKey] = []
    /// Sessions in the source (before filters), when the source can count them cheaply: for progress.
    public var expectedSessions: Int?

    public init() {}

    /// Totals over all apps.
    public var total: CopyCounts {
        var total = CopyCounts()
        for counts in apps.values { total.add(counts) }
        return total
    }

    /// Events read per second.
    public var eventsPerSecond: Double { seconds > 0 ? Double(total.eventsRead) / seconds : 0 }
}

/// Copies sessions from a source store into a target store, one batch of whole sessions at a
/// time: read a batch, read the target's version of the same sessions, decide (``CopyPlanner``),
/// write what changes. Memory is bounded by the batch size (plus the set of source keys when
/// mirroring). Every write is idempotent, so an interrupted copy run again converges, and a copy
/// run twice writes nothing the second time. Never prints: progress goes to a callback.
public struct CopyEngine {
    public var options: CopyOptions
    /// Time source, injected for tests.
    public var now: @Sendable () -> Double

    public init(options: CopyOptions, now: @escaping @Sendable () -> Double = Clock.epochSeconds) {
        self.options = options
        self.now = now
    }

    /// Runs the copy. `progress` is called after each batch with the running totals.
    public func run(
        from source: any SessionStore, to target: any SessionStore, targetTTLSeconds: Int = 3600,
        progress: (CopySummary) -> Void = { _ in }
    ) throws -> CopySummary {
        let started = now()
        var summary = CopySummary()
        summary.dryRun = options.dryRun
        if source.capabilities.countsCheaply { summary.expectedSessions = try? source.fetchStats().sessions }
        let planner = CopyPlanner(options: options, source: source.capabilities, target: target.capabilities, targetTTLSeconds: targetTTLSeconds)
        var sourceKeys = Set<SessionKey>()
        let cursor = try source.scanSessions(SessionQuery(batchSize: options.batchSize))
        var batch: [Session] = []
        batch.reserveCapacity(options.batchSize)
        func flush() throws {
            try copyBatch(batch, to: target, planner: planner, summary: &summary)
            batch.removeAll(keepingCapacity: true)
            summary.seconds = now() - started
            progress(summary)
        }
        while let session = try cursor.next() {
            guard options.filter.matches(session) else { continue }
            if options.mirror { sourceKeys.insert(session.key) }
            batch.append(session)
            if batch.count == options.batchSize { try flush() }
        }
        if !batch.isEmpty { try flush() }
        if options.mirror { try deleteAbsent(from: target, keeping: sourceKeys, summary: &summary) }
        summary.seconds = now() - started
        progress(summary)
        return summary
    }

    func copyBatch(_ batch: [Session], to target: any SessionStore, planner: CopyPlanner, summary: inout CopySummary) throws {
        let stored = try target.fetchSessions(batch.map(\.key))
        var writes: [Session] = []
        let time = now()
        for session in batch {
            var counts = summary.apps[session.key.appName] ?? CopyCounts()
            counts.read += 1
            counts.eventsRead += session.events.count
            switch try planner.decide(session, existing: stored[session.key], now: time, readBack: target.readBack) {
            case .insert(let written): counts.inserted += 1; counts.eventsWritten += written.events.count; writes.append(written)
            case .update(let written): counts.updated += 1; counts.eventsWritten += written.events.count; writes.append(written)
            case .unchanged: counts.unchanged += 1
            case .keptNewerTarget: counts.keptNewerTarget += 1; summary.keptSessions.append(session.key)
            case .skippedExisting: counts.skippedExisting += 1
            case .skippedExpired: counts.skippedExpired += 1
            }
            summary.apps[session.key.appName] = counts
        }
        for session in writes {
            for field in target.unrepresentableFields(in: session) { summary.droppedFields[field, default: 0] += 1 }
        }
        if !writes.isEmpty, !options.dryRun { try target.writeSessions(writes) }
    }

    /// `--mirror`: deletes target sessions in scope that the source does not have.
    func deleteAbsent(from target: any SessionStore, keeping sourceKeys: Set<SessionKey>, summary: inout CopySummary) throws {
        let cursor = try target.scanSessions(SessionQuery(batchSize: options.batchSize))
        var doomed: [SessionKey] = []
        func flush() throws {
            if !options.dryRun { try target.deleteSessions(doomed) }
            doomed.removeAll(keepingCapacity: true)
        }
        while let session = try cursor.next() {
            guard options.filter.matches(session), !sourceKeys.contains(session.key) else { continue }
            summary.apps[session.key.appName, default: CopyCounts()].deleted += 1
            doomed.append(session.key)
            if doomed.count == options.batchSize { try flush() }
        }
        if !doomed.isEmpty { try flush() }
    }
}
