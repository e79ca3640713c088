import DriverCore
import SessionModel

/// Copies sessions from a source store into a target store, one batch of whole sessions at a
/// time: read a batch of the request's scope (narrowed by the source itself, see
/// ``SessionQuery/scope``), read the target's version of the same sessions, decide
/// (``CopyPlanner``), write what changes. Memory is bounded by the batch size (plus the set of
/// source keys when mirroring). Every write is idempotent, so an interrupted copy run again
/// converges, and a copy run twice writes nothing the second time. Never prints: progress goes to
/// `events` as ``ProgressEvent``s.
public struct CopyEngine {
    public var request: CopyRequest
    public var clock: Clock
    /// The operation's name in progress events (`copy`, `snapshot`, `restore`, `converge pass 2`).
    public var operation = "copy"
    /// Called after each batch's checkpoint with the events the batch read: the brake (``CopyBrake``)
    /// and a worker pool's stop. It may sleep; a throw stops the copy (the batch is checkpointed).
    public var betweenBatches: (_ eventsRead: Int) throws -> Void = { _ in }
    /// Group commits into a target that supports them (``CopyRun/commitGroupSeconds``); `nil`: none.
    public var commitGroupSeconds: Double?

    public init(request: CopyRequest, clock: Clock = .system) {
        self.request = request
        self.clock = clock
    }

    /// Runs the copy.
    ///
    /// - Parameters:
    ///   - resume: a checkpoint of an interrupted run of this same copy (same stores and request):
    ///     the source scan starts at its cursor and the counts continue from it.
    ///   - checkpoint: called after each batch once its writes are committed to the target (and
    ///     after each batch of a dry run; with ``commitGroupSeconds``, once the group holding the
    ///     batch commits, for the latest batch so committed), with the source cursor's resume token after the batch's
    ///     last session and the counts so far. Resuming from it repeats no committed batch (at most
    ///     the sessions of the source page it stopped in, as ``SessionCursor`` allows); a crash
    ///     before it is called repeats at most the batch just written, which is harmless because
    ///     writes are idempotent. A throw stops the copy.
    ///   - onBatchWritten: called after each batch's writes return and before `checkpoint`; a test
    ///     hook to simulate a crash between a write and its checkpoint.
    ///   - events: progress, and the kept and skipped sessions of each batch.
    ///
    /// With `mirror`, target sessions in scope absent from the source are deleted once the copy is
    /// done, using the set of source keys seen. A resumed scan sees only the keys after its cursor,
    /// so a resumed run scans the source's keys again before deleting anything.
    ///
    /// - Throws: ``CopyResumeError`` when `resume` was made by a dry run and this run is not (or
    ///   the reverse).
    public func run(
        from source: any SessionStore, to target: any SessionStore, targetTTLSeconds: Int = 3600,
        resume: CopyCheckpoint? = nil, checkpoint: (CopyCheckpoint) throws -> Void = { _ in },
        onBatchWritten: () throws -> Void = {}, events: ProgressSink = { _ in }
    ) throws -> CopySummary {
        if let resume, resume.dryRun != request.dryRun { throw CopyResumeError(checkpointIsDryRun: resume.dryRun) }
        let started = clock.now()
        var resume = resume
        let shardFunction = request.scope.shard?.function ?? .sessionId
        if let point = resume, point.shardFunction != shardFunction {
            // Its cursor walked another function's share: start over (every write is idempotent).
            events(.note("\(operation): the checkpoint was made for shard function \(point.shardFunction), this copy's is \(shardFunction): starting over"))
            resume = nil
        }
        let targetEpoch = request.dryRun ? nil : try target.writeEpoch()
        if let point = resume, let before = point.targetEpoch, before != targetEpoch {
            // The target restarted since these batches were written and may have lost them: start over.
            events(
                .note(
                    "\(operation): the target restarted since the last checkpoint (a new server process) and may have lost writes; copying again from the start"
                ))
            resume = CopyCheckpoint(cursor: nil, summary: Self.restarted(point.summary), unkeyedSkips: false)
        }
        var summary = resume?.summary ?? CopySummary()
        let earlierSeconds = summary.seconds
        summary.dryRun = request.dryRun
        if source.capabilities.countsCheaply, summary.expectedSessions == nil {
            summary.expectedSessions = try? source.countSessions(request.scope)
        }
        events(.began(operation: operation, total: summary.expectedSessions))
        let planner = CopyPlanner(request: request, source: source.capabilities, target: target.capabilities, targetTTLSeconds: targetTTLSeconds)
        var sourceKeys = Set<SessionKey>()
        let cursor = try source.scanSessions(
            SessionQuery(
                scope: request.scope, batchSize: request.batchSize, resumeAfter: resume?.cursor, skipBad: request.skipBad,
                eventStyle: target.eventDataStyle ?? .compact))
        if resume?.cursor != nil, cursor.resumeToken == nil {
            // The source could not continue from the checkpoint (a Redis SCAN cursor of a server that restarted): it
            // scans from the start, so the counts start again too, and each session is counted once.
            events(.note("\(operation): the source restarted since the last checkpoint; reading it again from the start"))
            summary = Self.restarted(summary)
        }
        let reader = BatchPrefetcher(
            cursor: cursor, batchSize: request.batchSize, scope: request.scope, eventDataStyle: request.dryRun ? nil : target.eventDataStyle)
        defer { reader.close() }
        var durable = DurableCheckpoints(seconds: DurableCheckpoints.allowed(request) ? commitGroupSeconds : nil)
        if let seconds = durable.seconds { target.beginWriteGroups(seconds: seconds) }
        var unkeyedSkips = resume?.unkeyedSkips ?? false
        while true {
            // A slow source must not keep the file locked: the open group commits if no batch comes in time.
            if let seconds = durable.seconds, target.openWriteGroup != nil, !reader.waitForBatch(seconds: seconds) {
                try durable.flush(target: target, checkpoint: checkpoint)
            }
            guard let batch = try reader.next() else { break }
            if request.mirror {
                sourceKeys.formUnion(batch.sessions.lazy.map(\.key))
                // A session skipped as bad is still in the source: mirroring must not delete it.
                sourceKeys.formUnion(batch.skipped.lazy.compactMap(\.key))
            }
            unkeyedSkips = unkeyedSkips || batch.skipped.contains { $0.key == nil }
            var skipped = batch.skipped
            let losses = target.writeGroupLosses
            let (kept, conflicts) = try copyBatch(batch.sessions, to: target, planner: planner, summary: &summary, rejected: &skipped)
            summary.skipped.append(contentsOf: skipped)
            summary.kept.append(contentsOf: kept)
            try onBatchWritten()
            summary.seconds = earlierSeconds + clock.now() - started
            // Names first: a crash before the checkpoint repeats the batch and names them again.
            if !kept.isEmpty { events(.kept(kept)) }
            if !skipped.isEmpty { events(.skipped(skipped)) }
            if !conflicts.isEmpty { events(.conflicted(conflicts)) }
            var point = CopyCheckpoint(cursor: batch.resumeToken, summary: summary, unkeyedSkips: unkeyedSkips, targetEpoch: targetEpoch)
            point.shardFunction = shardFunction
            try durable.written(point, lossesBefore: losses, target: target, checkpoint: checkpoint)
            events(.advanced(progress(summary)))
            do {
                try betweenBatches(batch.sessions.reduce(0) { $0 + $1.events.count })
            } catch {
                try? durable.flush(target: target, checkpoint: checkpoint)  // a stop keeps what is written
                throw error
            }
        }
        try durable.flush(target: target, checkpoint: checkpoint)
        reader.close()
        summary.vanished += source.listedSessionsMissing
        if request.mirror {
            if resume?.cursor != nil { (sourceKeys, unkeyedSkips) = try scanKeys(of: source) }
            if unkeyedSkips { throw MirrorRefusedError() }
            try deleteAbsent(from: target, keeping: sourceKeys, summary: &summary)
            try target.commitWriteGroup()
        }
        summary.seconds = earlierSeconds + clock.now() - started
        events(.advanced(progress(summary)))
        events(.ended)
        return summary
    }

    /// The summary of a copy that starts over: no counts, one more restart, the time and the
    /// expected total kept.
    static func restarted(_ summary: CopySummary) -> CopySummary {
        var fresh = CopySummary()
        fresh.seconds = summary.seconds
        fresh.dryRun = summary.dryRun
        fresh.expectedSessions = summary.expectedSessions
        fresh.restarts = summary.restarts + 1
        return fresh
    }

    func progress(_ summary: CopySummary) -> ProgressCounts {
        let total = summary.total
        return ProgressCounts(
            sessions: total.read + summary.skipped.count, events: total.eventsRead, written: total.written,
            total: summary.expectedSessions, seconds: summary.seconds)
    }

    /// Rounds of read-plan-write a batch gets when the target keeps changing under it (a fenced
    /// write refused because the bot wrote the session meanwhile) before the batch is retried later.
    static let fencedRounds = 8

    /// Plans and writes one batch; returns the sessions kept because the target's version is newer
    /// and those in conflict. Sessions the target rejects (with `skipBad`) are appended to `rejected`.
    ///
    /// Every write is conditioned on the version of the session read for planning (a
    /// ``FencedWrite``): a session the bot changed meanwhile is refused by the store, read again
    /// and planned again, so what the bot wrote is never overwritten.
    func copyBatch(
        _ batch: [Session], to target: any SessionStore, planner: CopyPlanner, summary: inout CopySummary,
        rejected: inout [SkippedSession]
    ) throws -> (kept: [SessionKey], conflicts: [SessionConflict]) {
        var decisions: [SessionKey: CopyDecision] = [:]
        // A merge is planned on the target's lossy view of the source: the fields the target cannot hold are
        // counted on the source's own events that the merge adds.
        var mergedFrom: [SessionKey: Session] = [:]
        var pending = batch
        for round in 1...Self.fencedRounds {
            let stored = try target.fetchVersionedSessions(pending.map(\.key))
            var writes: [FencedWrite] = []
            let time = clock.now()
            for session in pending {
                let existing = stored[session.key]
                let decision = try planner.decide(session, existing: existing?.session, now: time, readBack: target.readBack)
                decisions[session.key] = decision
                if case .merge = decision, let existing = existing?.session {
                    let present = Set(existing.events.map { ExactString($0.id) })
                    var added = session
                    added.events = session.events.filter { !present.contains(ExactString($0.id)) }
                    mergedFrom[session.key] = added
                }
                switch decision {
                case .insert(let written), .update(let written), .merge(let written):
                    writes.append(FencedWrite(session: written, expected: existing?.version))
                default: break
                }
            }
            guard !writes.isEmpty, !request.dryRun else { break }
            let refused = try write(writes, to: target, rejected: &rejected, decisions: &decisions)
            if refused.isEmpty { break }
            guard round < Self.fencedRounds else { throw TargetContendedError(sessions: refused.count) }
            pending = pending.filter { refused.contains($0.key) }
        }
        var kept: [SessionKey] = []
        var conflicts: [SessionConflict] = []
        for session in batch {
            var counts = summary.apps[session.key.appName] ?? CopyCounts()
            counts.read += 1
            counts.eventsRead += session.events.count
            switch decisions[session.key] {
            case .insert(let written)?: counts.inserted += 1; counts.eventsWritten += written.events.count; count(written, in: &summary, target)
            case .update(let written)?: counts.updated += 1; counts.eventsWritten += written.events.count; count(written, in: &summary, target)
            case .merge(let written)?:
                counts.updated += 1; counts.merged += 1; counts.eventsWritten += written.events.count
                count(mergedFrom[session.key] ?? written, in: &summary, target)
            case .unchanged?: counts.unchanged += 1
            case .keptNewerTarget?: counts.keptNewerTarget += 1; kept.append(session.key)
            case .skippedExisting?: counts.skippedExisting += 1
            case .skippedExpired?: counts.skippedExpired += 1
            case .conflict(let ids)?: counts.conflicted += 1; conflicts.append(SessionConflict(key: session.key, eventIds: ids))
            case nil: break  // rejected by the target and skipped (skipBad)
            }
            summary.apps[session.key.appName] = counts
        }
        summary.conflicts.append(contentsOf: conflicts)
        return (kept, conflicts)
    }

    /// Fields the target cannot hold, counted per written session.
    private func count(_ written: Session, in summary: inout CopySummary, _ target: any SessionStore) {
        for field in target.unrepresentableFields(in: written) { summary.droppedFields[field, default: 0] += 1 }
    }

    /// Writes a batch of fenced writes; returns the keys the target refused because they changed
    /// meanwhile. A session the target rejects before writing anything (``SessionRejectedError``:
    /// too large, id too long) stops the copy, or with `skipBad` is listed as skipped (its decision
    /// removed) and the batch is written again without it.
    func write(
        _ writes: [FencedWrite], to target: any SessionStore, rejected: inout [SkippedSession], decisions: inout [SessionKey: CopyDecision]
    ) throws -> Set<SessionKey> {
        var remaining = writes
        while !remaining.isEmpty {
            do {
                return try target.writeSessions(fenced: remaining)
            } catch let error as SessionRejectedError where request.skipBad {
                guard let index = remaining.firstIndex(where: { $0.session.key == error.key }) else { throw error }
                remaining.remove(at: index)
                rejected.append(error.skipped)
                decisions[error.key] = nil
            }
        }
        return []
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

/// A batch's sessions kept changing in the target while being written (each fenced write refused
/// because the bot wrote them meanwhile): transient, so the batch is retried from the last checkpoint
/// after a pause.
public struct TargetContendedError: DriverError {
    public var sessions: Int
    public var code: DriverErrorCode { .serverNotReady }
    public var description: String {
        "\(sessions) session(s) changed in the target during each of \(CopyEngine.fencedRounds) attempts to write them; the batch is retried"
    }
    public var debugDescription: String { description }
}
