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
    /// Bad sessions passed over with ``CopyOptions/skipBad`` (source data that cannot be read, or
    /// sessions the target rejected as too large), in the order met; at most
    /// ``skippedListLimit`` are kept, ``skippedCount`` counts them all.
    public var skipped: [SkippedSession] = []
    /// Every bad session passed over (may exceed `skipped.count`).
    public var skippedCount = 0
    /// How many skipped sessions a summary lists (the count goes on): memory stays bounded.
    public static let skippedListLimit = 10_000

    public init() {}

    /// Totals over all apps.
    public var total: CopyCounts {
        var total = CopyCounts()
        for counts in apps.values { total.add(counts) }
        return total
    }

    /// Events read per second.
    public var eventsPerSecond: Double { seconds > 0 ? Double(total.eventsRead) / seconds : 0 }

    /// Records bad sessions passed over.
    mutating func addSkipped(_ items: [SkippedSession]) {
        skippedCount += items.count
        skipped += items.prefix(max(0, Self.skippedListLimit - skipped.count))
    }
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
        let cursor = try source.scanSessions(
            SessionQuery(batchSize: options.batchSize, resumeAfter: resume?.cursor, skipBad: options.skipBad))
        let reader = BatchPrefetcher(cursor: cursor, batchSize: options.batchSize, filter: options.filter)
        defer { reader.close() }
        var unkeyedSkips = resume?.summary.skipped.contains { $0.key == nil } ?? false
        while let batch = try reader.next() {
            if options.mirror {
                sourceKeys.formUnion(batch.sessions.lazy.map(\.key))
                // A session skipped as bad is still in the source: mirroring must not delete it.
                sourceKeys.formUnion(batch.skipped.lazy.compactMap(\.key))
            }
            unkeyedSkips = unkeyedSkips || batch.skipped.contains { $0.key == nil }
            summary.addSkipped(batch.skipped)
            try copyBatch(batch.sessions, to: target, planner: planner, summary: &summary)
            try onBatchWritten()
            summary.seconds = earlierSeconds + now() - started
            try checkpoint(CopyCheckpoint(cursor: batch.resumeToken, summary: summary))
            progress(summary)
        }
        reader.close()
        if options.mirror {
            if resume?.cursor != nil { (sourceKeys, unkeyedSkips) = try scanKeys(of: source) }
            if unkeyedSkips { throw MirrorRefusedError() }
            try deleteAbsent(from: target, keeping: sourceKeys, summary: &summary)
        }
        summary.seconds = earlierSeconds + now() - started
        progress(summary)
        return summary
    }

    /// The keys of every source session in scope (a whole scan, keeping only keys), including
    /// those of bad sessions passed over, and whether a bad session had no readable key.
    func scanKeys(of source: any SessionStore) throws -> (Set<SessionKey>, unkeyedSkips: Bool) {
        let cursor = try source.scanSessions(SessionQuery(batchSize: options.batchSize, skipBad: options.skipBad))
        var keys = Set<SessionKey>()
        var unkeyed = false
        func takeSkipped() {
            for item in cursor.takeSkipped() {
                if let key = item.key { keys.insert(key) } else { unkeyed = true }
            }
        }
        while let session = try cursor.next() {
            takeSkipped()
            if options.filter.matches(session) { keys.insert(session.key) }
        }
        takeSkipped()
        return (keys, unkeyed)
    }

    func copyBatch(_ batch: [Session], to target: any SessionStore, planner: CopyPlanner, summary: inout CopySummary) throws {
        let stored = try target.fetchSessions(batch.map(\.key))
        var writes: [Session] = []
        var inserts = Set<SessionKey>()
        let time = now()
        for session in batch {
            var counts = summary.apps[session.key.appName] ?? CopyCounts()
            counts.read += 1
            counts.eventsRead += session.events.count
            switch try planner.decide(session, existing: stored[session.key], now: time, readBack: target.readBack) {
            case .insert(let written):
                counts.inserted += 1; counts.eventsWritten += written.events.count; writes.append(written); inserts.insert(written.key)
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
        if !writes.isEmpty, !options.dryRun { try write(writes, to: target, inserts: inserts, summary: &summary) }
    }

    /// Writes a batch. A session the target rejects before writing anything
    /// (``SessionRejectedError``: too large, id too long) stops the copy, or with `skipBad` is
    /// listed as skipped and the batch is written again without it.
    func write(_ sessions: [Session], to target: any SessionStore, inserts: Set<SessionKey>, summary: inout CopySummary) throws {
        var writes = sessions
        while !writes.isEmpty {
            do {
                try target.writeSessions(writes)
                return
            } catch let error as SessionRejectedError where options.skipBad {
                guard let index = writes.firstIndex(where: { $0.key == error.key }) else { throw error }
                let rejected = writes.remove(at: index)
                summary.addSkipped([error.skipped])
                // Counted as written when planned: it was not.
                var counts = summary.apps[rejected.key.appName] ?? CopyCounts()
                counts.eventsWritten -= rejected.events.count
                if inserts.contains(rejected.key) { counts.inserted -= 1 } else { counts.updated -= 1 }
                summary.apps[rejected.key.appName] = counts
            }
        }
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

/// `--mirror` with `--skip-bad` met a source session so bad its key could not be read: the copy
/// cannot tell whether a target session is absent from the source, so it deletes nothing.
public struct MirrorRefusedError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String {
        "--mirror deleted nothing: a skipped source session has no readable key, so target sessions absent"
            + " from the source cannot be told apart from it (the copy itself completed; fix or remove that session)"
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
