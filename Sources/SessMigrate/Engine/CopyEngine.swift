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

    /// Runs the copy.
    ///
    /// - Parameters:
    ///   - resume: a checkpoint of an interrupted run of this same copy (same stores and options):
    ///     the source scan starts at its cursor and the counts continue from its summary.
    ///     `seconds` adds up the time spent in each run.
    ///   - checkpoint: called after each batch once its writes are committed to the target (and
    ///     after each batch of a dry run), with the source cursor's resume token after the
    ///     batch's last session and the summary so far. Resuming from it repeats no committed
    ///     batch (at most the sessions of the source page it stopped in, as ``SessionCursor``
    ///     allows); a crash before it is called repeats at most the batch just written, which is
    ///     harmless because writes are idempotent. A throw stops the copy.
    ///   - onBatchWritten: called after each batch's writes return (also when the batch had
    ///     nothing to write, and in a dry run) and before `checkpoint`; a test hook to simulate a
    ///     crash between a write and its checkpoint.
    ///   - progress: called after each batch (after `checkpoint`) and at the end.
    ///
    /// With `mirror`, target sessions absent from the source are deleted once the copy is done,
    /// using the set of source keys seen. A resumed scan sees only the keys after its cursor, so a
    /// resumed run (a checkpoint with a cursor) scans the whole source again for its keys before
    /// deleting anything: sessions copied before the interruption are never taken for absent.
    /// Deletions are not checkpointed; an interrupted mirror phase is redone on resume, and
    /// sessions it deleted before the interruption are not counted again.
    ///
    /// - Throws: ``CopyResumeError`` when `resume` was made by a dry run and this run is not (or
    ///   the reverse); a dry run's checkpoint must never let a real copy skip sessions.
    public func run(
        from source: any SessionStore, to target: any SessionStore, targetTTLSeconds: Int = 3600,
        resume: CopyCheckpoint? = nil, checkpoint: (CopyCheckpoint) throws -> Void = { _ in },
        onBatchWritten: () throws -> Void = {}, progress: (CopySummary) -> Void = { _ in }
    ) throws -> CopySummary {
        if let resume, resume.summary.dryRun != options.dryRun { throw CopyResumeError(checkpointIsDryRun: resume.summary.dryRun) }
        let started = now()
        let earlierSeconds = resume?.summary.seconds ?? 0
        var summary = resume?.summary ?? CopySummary()
        summary.dryRun = options.dryRun
        if source.capabilities.countsCheaply { summary.expectedSessions = try? source.fetchStats().sessions }
        let planner = CopyPlanner(options: options, source: source.capabilities, target: target.capabilities, targetTTLSeconds: targetTTLSeconds)
        var sourceKeys = Set<SessionKey>()
        let cursor = try source.scanSessions(SessionQuery(batchSize: options.batchSize, resumeAfter: resume?.cursor))
        let reader = BatchPrefetcher(cursor: cursor, batchSize: options.batchSize, filter: options.filter)
        defer { reader.close() }
        while let batch = try reader.next() {
            if options.mirror { sourceKeys.formUnion(batch.sessions.lazy.map(\.key)) }
            try copyBatch(batch.sessions, to: target, planner: planner, summary: &summary)
            try onBatchWritten()
            summary.seconds = earlierSeconds + now() - started
            try checkpoint(CopyCheckpoint(cursor: batch.resumeToken, summary: summary))
            progress(summary)
        }
        reader.close()
        if options.mirror {
            if resume?.cursor != nil { sourceKeys = try scanKeys(of: source) }
            try deleteAbsent(from: target, keeping: sourceKeys, summary: &summary)
        }
        summary.seconds = earlierSeconds + now() - started
        progress(summary)
        return summary
    }

    /// The keys of every source session in scope (a whole scan, keeping only keys).
    func scanKeys(of source: any SessionStore) throws -> Set<SessionKey> {
        let cursor = try source.scanSessions(SessionQuery(batchSize: options.batchSize))
        var keys = Set<SessionKey>()
        while let session = try cursor.next() {
            if options.filter.matches(session) { keys.insert(session.key) }
        }
        return keys
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

/// A checkpoint that this copy must not resume from.
public struct CopyResumeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// True when the checkpoint came from a dry run and the copy is a real one.
    public var checkpointIsDryRun: Bool

    public var description: String {
        checkpointIsDryRun
            ? "cannot resume a copy from a dry run's checkpoint: the dry run wrote nothing, so the copy must start over"
            : "cannot resume a dry run from a real copy's checkpoint"
    }
}
