import DriverCore
import Foundation
import Snapshot

/// One copy run as N pipelines side by side in one process (`--workers N`, a runbook step's
/// `workers`): each worker on its own thread with its own ``CopyRun`` (its own connections to both
/// stores and its own ``CopyEngine``) and its own share of the scope, a sub-shard of the request's
/// shard (``Shard/split(into:)``). Shares never overlap, so no session is read, written or (with
/// `mirror`) deleted by two workers, and none is missed.
///
/// The thread that runs the pool alone talks to the caller: it merges the workers' progress into
/// one operation (``PoolProgress``), records one checkpoint holding every worker's own
/// (``WorkerCheckpoint``) each time workers commit batches, and merges the summaries.
///
/// - A bad session is handled by its worker as in a single pipeline (`skipBad` lists it; without it
///   the worker stops before writing its batch).
/// - Command line (``Mode/retrying``): a transient fault is retried by the worker that met it, from
///   its own last committed batch, while the others go on. Runbook step (``Mode/once``): the worker
///   stops, the others finish their shares, then the step fails with the fault and the runner
///   retries it: finished workers stay finished, the others continue from their checkpoints.
/// - Any other failure stops the pool: every other worker finishes its current batch, checkpoints
///   it and stops; the failure is reported (the first, if several).
final class WorkerPool: @unchecked Sendable {
    // @unchecked: the workers' threads share only `mailbox` (a condition), `hookLock` (around the
    // caller's test hook) and `brake` (locked); each worker's CopyRun, stores and engine belong to its
    // thread. `run.clock` is called from every thread (see ``CopyBrake``).
    enum Mode { case retrying, once }

    let run: CopyRun
    let shards: [Shard]
    let mode: Mode
    private let brake: CopyBrake
    private let mailbox = WorkerMailbox()
    private let hookLock = NSLock()

    init(run: CopyRun, shards: [Shard], mode: Mode) {
        self.run = run
        self.shards = shards
        self.mode = mode
        brake = run.brake ?? CopyBrake(request: run.request, clock: run.clock)
    }

    /// Runs the pool from `resume` (the workers' checkpoints, or `nil` to start) to the end.
    func execute(resume: [WorkerCheckpoint]?, checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink) throws -> CopyRun.Outcome {
        var states = resume ?? shards.map { WorkerCheckpoint(shard: $0) }
        let started = run.clock.now()
        let prepared = try attempts(events: events) { _ in try prepare(&states, events: events) }
        defer { try? prepared.ownedTarget?.close() }  // on every path (closing twice does nothing)
        var pool = PoolState(states: states, operation: run.operation, total: prepared.total)
        var pending = pool.states.indices.filter { !pool.states[$0].finished }
        var rounds = 0
        while !pending.isEmpty {
            for index in pending {
                launch(index, from: pool.states[index].checkpoint, into: prepared.shared)
                pool.running += 1
            }
            drain(&pool, shared: prepared.shared, checkpoint: checkpoint, events: events)
            guard pool.checkpointFailure == nil, pool.failure == nil, pool.deferred == nil else { break }
            // A worker that finished before the target restarted may have lost its writes (a Redis without
            // persistence comes back empty): it copies its share again, until a round ends on one server.
            pending = try restartedSinceFinishing(&pool, events: events)
            rounds += 1
            if !pending.isEmpty, rounds > run.request.retry.retries { throw TargetKeptRestartingError(rounds: rounds) }
            if !pending.isEmpty { try checkpoint(pool.checkpoint(dryRun: run.request.dryRun)) }
        }
        let merged = pool.summary
        if let error = pool.checkpointFailure ?? pool.failure ?? pool.deferred {
            prepared.writer?.abandon(keepPartial: run.keepsPartialSnapshot)
            throw error  // the deferred close commits what the workers wrote whole
        }
        try prepared.ownedTarget?.close()
        let manifest = try prepared.finish(run: run, started: started, seconds: merged.seconds)
        pool.progress.finish(merged, sink: events)
        return CopyRun.Outcome(summary: merged, manifest: manifest)
    }

    /// Takes the workers' messages until every running worker has ended.
    private func drain(
        _ pool: inout PoolState, shared: SerializedStore?, checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink
    ) {
        while pool.running > 0 {
            var tickets: [CheckpointTicket] = []
            defer { for ticket in tickets { ticket.recorded() } }  // after the checkpoint is recorded (or failed)
            let messages = mailbox.takeAll()
            func record() {
                var changed = false
                for message in messages {
                    if case .checkpoint(_, _, let ticket) = message { tickets.append(ticket) }
                    changed = handle(message, in: &pool, events: events) || changed
                }
                guard changed, pool.checkpointFailure == nil else { return }
                do {
                    try checkpoint(pool.checkpoint(dryRun: run.request.dryRun))
                } catch {
                    pool.checkpointFailure = error
                    mailbox.requestStop()
                }
            }
            if let shared { shared.exclusively(record) } else { record() }
        }
    }

    /// Takes one worker's message; true when the workers' checkpoints changed.
    private func handle(_ message: WorkerMessage, in pool: inout PoolState, events: ProgressSink) -> Bool {
        switch message {
        case .event(let index, let event):
            pool.progress.handle(index, event, name: name(index), sink: events)
            return false
        case .checkpoint(let index, let point, _):
            pool.states[index].checkpoint = point
            return true
        case .finished(let index, .success(let summary)):
            pool.running -= 1
            pool.progress.begin(index, sink: events)
            let last = pool.states[index].checkpoint
            pool.states[index].checkpoint = CopyCheckpoint(
                cursor: last?.cursor, summary: summary, unkeyedSkips: last?.unkeyedSkips ?? false, targetEpoch: last?.targetEpoch)
            pool.states[index].finished = true
            pool.summaries[index] = summary
            return true
        case .finished(let index, .failure(let error)):
            pool.running -= 1
            pool.progress.begin(index, sink: events)
            if error is WorkerStopped { return false }
            if error is MirrorRefusedError {
                pool.deferred = pool.deferred ?? error  // its share is copied; the others finish theirs
            } else if mode == .once, transientCause(of: error) != nil {
                // The others are not stopped: they finish their shares, then the step fails (and is retried).
                pool.deferred = pool.deferred ?? error
                events(.note("\(name(index)) stopped at a transient fault; the other workers go on, then the step is retried"))
            } else if pool.failure == nil {
                // Reported when the pool ends: the others finish their current batch and checkpoint it first.
                pool.failure = error
                mailbox.requestStop()
            }
            return false
        }
    }

    /// `worker 2 of 4`.
    func name(_ index: Int) -> String { "worker \(index + 1) of \(shards.count)" }

    /// Starts worker `index` on its own thread.
    private func launch(_ index: Int, from resume: CopyCheckpoint?, into shared: SerializedStore?) {
        let thread = Thread { [self] in
            let result = Result { try work(index, from: resume, into: shared) }
            mailbox.post(.finished(index, result))
        }
        thread.stackSize = 16 << 20  // deeply nested JSON is parsed recursively
        thread.name = "sessmigrate-worker-\(index + 1)"
        thread.start()
    }

    /// One worker: its share to the end, from its own checkpoint.
    private func work(_ index: Int, from resume: CopyCheckpoint?, into shared: SerializedStore?) throws -> CopySummary {
        var worker = run
        worker.request.scope.shard = shards[index]
        worker.request.workers = 1
        // Group commits need the file to themselves: workers with a connection each (mirroring) commit every batch.
        if shared == nil { worker.commitGroupSeconds = nil }
        let hook = run.afterBatchWritten
        worker.afterBatchWritten = { [hookLock] in
            try hookLock.withLock { try shared.map { try $0.exclusively(hook) } ?? hook() }
        }
        let mailbox = self.mailbox
        let events: ProgressSink = { mailbox.post(.event(index, $0)) }
        let note: (String) -> Void = { events(.note($0)) }
        let between: (Int) throws -> Void = { [brake] count in
            try mailbox.checkStop()
            try brake.pass(events: count, note: note, stop: mailbox.checkStop)
        }
        var last = resume
        var batches = 0
        return try attempts(progressMarker: { batches }, events: events) { _ in
            try mailbox.checkStop()
            try self.brake.waitWhilePaused(note: note, stop: mailbox.checkStop)
            return try worker.engineAttempt(
                resume: last, into: shared, betweenBatches: between,
                checkpoint: { point in
                    last = point
                    batches += 1
                    let ticket = CheckpointTicket()
                    mailbox.post(.checkpoint(index, point, ticket))
                    ticket.wait()
                }, events: events)
        }
    }

    /// `body` once in a runbook step (``Mode/once``: its runner retries), or with the request's retries
    /// (``Mode/retrying``), each retry connecting afresh: the connections kept for reuse may be the ones
    /// that failed.
    func attempts<T>(progressMarker: () -> Int = { 0 }, events: ProgressSink, _ body: (_ attempt: Int) throws -> T) throws -> T {
        switch mode {
        case .once: return try body(0)
        case .retrying:
            return try Retrier(policy: run.request.retry, clock: run.clock).run(progressMarker: progressMarker, notify: { events(.retrying($0)) }) {
                attempt in
                if attempt > 0 { run.opener.memo?.closeParked() }
                return try body(attempt)
            }
        }
    }
}

/// What the thread that runs a pool knows of it: each worker's checkpoint, the summaries of those that
/// finished, how it ended.
struct PoolState {
    var states: [WorkerCheckpoint]
    var summaries: [Int: CopySummary] = [:]
    var progress: PoolProgress
    /// The sessions in scope, when the source counts them cheaply (for the whole scope at once).
    var total: Int?
    var running = 0
    /// The first error that stopped the pool.
    var failure: (any Error)?
    /// An error reported once every other worker finished (a transient fault in a runbook step).
    var deferred: (any Error)?
    var checkpointFailure: (any Error)?

    init(states: [WorkerCheckpoint], operation: String, total: Int?) {
        self.states = states
        self.total = total
        for index in states.indices where states[index].finished { summaries[index] = states[index].checkpoint?.summary ?? CopySummary() }
        progress = PoolProgress(operation: operation, workers: states.count, done: summaries, total: total)
    }

    /// The pool's checkpoint now.
    func checkpoint(dryRun: Bool) -> CopyCheckpoint {
        var point = CopyCheckpoint(workers: states, dryRun: dryRun)
        point.summary.expectedSessions = point.summary.expectedSessions ?? total
        return point
    }

    /// The workers' summaries merged (a finished worker's with the sessions it named).
    var summary: CopySummary {
        var merged = CopySummary.merged(states.indices.map { summaries[$0] ?? states[$0].checkpoint?.summary ?? CopySummary() })
        merged.expectedSessions = merged.expectedSessions ?? total
        return merged
    }
}
