import DriverCore
import Foundation
import Snapshot

/// One copy, from an address to an address or into a snapshot file: the one path every command
/// and runbook step that copies takes (`copy`, `snapshot`, `restore`; the runbook steps `copy`,
/// `converge`, `snapshot`, `restore`).
///
/// ``attempt(resume:checkpoint:events:)`` opens both stores (refusing a target that is the source
/// under another name before it is opened for writing), runs the ``CopyEngine`` from a checkpoint,
/// and closes both; a runbook calls it once per step attempt and journals the checkpoints and the
/// retries itself. ``run(events:)`` adds the retry loop the command line uses: a transient fault
/// reconnects and continues from the last committed batch, with the request's ``RetryPolicy``.
public struct CopyRun {
    /// Where the sessions go.
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        /// A store.
        case store(StoreAddress)
        /// A new snapshot file (see ``SnapshotWriter``): written under a temporary name, renamed
        /// when complete; an existing file is refused unless `force`.
        case snapshot(path: String, force: Bool)

        public var description: String {
            switch self {
            case .store(let address): address.description
            case .snapshot(let path, _): "snapshot \(path)"
            }
        }
    }

    /// What a run produced.
    public struct Outcome: Sendable {
        public var summary: CopySummary
        /// The manifest written, for a snapshot.
        public var manifest: SnapshotManifest?
    }

    public var source: StoreAddress
    public var target: Target
    public var request: CopyRequest
    public var clock = Clock.system
    public var opener = StoreOpener()
    /// The operation's name in progress events.
    public var operation: String
    /// A snapshot's partial file is kept after a failure so that a later attempt continues it
    /// (runbooks); the command line removes it when it gives up.
    public var keepsPartialSnapshot = false
    /// Test hook: called after each batch reached the target, before its checkpoint (by one worker
    /// at a time).
    public var afterBatchWritten: () throws -> Void = {}
    /// When set, a target whose commits are costly (a SQLite file) keeps batches in one transaction
    /// for up to this many seconds and commits them together; checkpoints wait for the commit
    /// (``DurableCheckpoints``), and a pool's workers share one connection to such a file. The
    /// command line sets it (``defaultCommitGroupSeconds``) for a copy that records no checkpoint;
    /// runbooks and `copy --checkpoint` keep a commit and a checkpoint after every batch.
    public var commitGroupSeconds: Double?
    /// What the command line groups commits by: a copy into a SQLite file that commits each
    /// 200-session batch spends about a third of its writer's time committing (docs/PERFORMANCE.md).
    public static let defaultCommitGroupSeconds = 0.25
    /// The brake shared by the attempts and workers of this run (made from the request when `nil`).
    var brake: CopyBrake?

    public init(source: StoreAddress, target: Target, request: CopyRequest) {
        self.source = source
        self.target = target
        self.request = request
        if case .snapshot = target { operation = "snapshot" } else { operation = "copy" }
    }

    /// Runs the copy, waiting out transient faults (``RetryCounter``): each retry reconnects and
    /// continues from the last committed batch, announced as ``ProgressEvent/retrying(_:)``. A
    /// connection refused at the very start is reported at once (usually a wrong address); a server
    /// that is up but not ready (loading, busy) is waited for. With several workers
    /// (``CopyRequest/workers``) each retries its own faults from its own last batch.
    ///
    /// - Parameters:
    ///   - resume: a checkpoint of an earlier run of this same copy (`copy --checkpoint FILE`).
    ///   - checkpoint: told of every checkpoint (a worker pool's holds every worker's own).
    public func run(
        resume: CopyCheckpoint? = nil, checkpoint: (CopyCheckpoint) throws -> Void = { _ in }, events: ProgressSink = { _ in }
    ) throws -> Outcome {
        try refuseSameAddress()
        var run = remembering()
        defer { run.opener.memo?.closeParked() }
        let retrier = Retrier(policy: request.retry, clock: clock)
        try retrier.run(retryable: isServerNotReady, notify: { events(.retrying($0)) }) { _ in try run.probe() }
        run = try run.settlingShard()
        run.brake = brake ?? CopyBrake(request: request, clock: clock)
        let (shards, resume) = try run.plan(resuming: resume, events: events)
        if shards.count > 1 {
            return try WorkerPool(run: run, shards: shards, mode: .retrying).execute(resume: resume?.workers, checkpoint: checkpoint, events: events)
        }
        var lastCheckpoint = resume
        var batches = 0
        do {
            return try retrier.run(progressMarker: { batches }, notify: { events(.retrying($0)) }) { attempt in
                if attempt > 0 { run.opener.memo?.closeParked() }  // A retry connects afresh.
                // After a failed attempt, a snapshot replaces only its own partial file.
                if attempt > 0, case .snapshot(let path, _) = target { run.target = .snapshot(path: path, force: true) }
                run.keepsPartialSnapshot = true
                return try run.singleAttempt(
                    resume: lastCheckpoint,
                    checkpoint: { point in
                        lastCheckpoint = point
                        batches += 1
                        try checkpoint(point)
                    }, events: events)
            }
        } catch {
            if !keepsPartialSnapshot, case .snapshot(let path, _) = target {
                try? FileManager.default.removeItem(atPath: SnapshotWriter.partialPath(for: path))
            }
            throw error
        }
    }

    /// One attempt from `resume` (a checkpoint of an earlier attempt of this same run). With several
    /// workers, a worker that meets a transient fault stops while the others finish, then the attempt
    /// fails with it; the next attempt continues every unfinished worker from its own checkpoint.
    public func attempt(
        resume: CopyCheckpoint?, checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink = { _ in }
    ) throws -> Outcome {
        var run = remembering()
        defer { run.opener.memo?.closeParked() }
        run = try run.settlingShard()
        run.brake = brake ?? CopyBrake(request: request, clock: clock)
        let (shards, resume) = try run.plan(resuming: resume, events: events)
        if shards.count > 1 {
            return try WorkerPool(run: run, shards: shards, mode: .once).execute(resume: resume?.workers, checkpoint: checkpoint, events: events)
        }
        return try run.singleAttempt(resume: resume, checkpoint: checkpoint, events: events)
    }

    /// This run with an ``OpenMemo`` of its own (unless it has one): its probe, workers and retries
    /// sample each store once.
    func remembering() -> CopyRun {
        var run = self
        if run.opener.memo == nil { run.opener = opener.remembering() }
        return run
    }

    /// The workers' shares and the checkpoint they continue from: `resume`, unless it was made by
    /// another number of workers (its positions mean nothing for another split: the copy starts
    /// over, which is safe as every write is idempotent).
    func plan(resuming resume: CopyCheckpoint?, events: ProgressSink) throws -> (shards: [Shard], resume: CopyCheckpoint?) {
        let count = request.workerCount(resuming: resume)
        let shards: [Shard]
        do {
            shards = count == 1 ? [] : try (request.scope.shard ?? Shard(index: 0, count: 1)).split(into: count)
        } catch {
            throw RequestError(.workers, String(describing: error))
        }
        guard let resume else { return (shards, nil) }
        let made = resume.workers?.map(\.shard) ?? []
        if made == shards { return (shards, resume) }
        events(
            .note(
                "\(operation): the checkpoint was made by \(max(1, made.count)) worker(s) and this run has \(count): "
                    + "starting over (every write is idempotent)"))
        return (shards, nil)
    }

    /// One pipeline's attempt.
    func singleAttempt(resume: CopyCheckpoint?, checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink) throws -> Outcome {
        try refuseSameAddress()
        let brake = self.brake ?? CopyBrake(request: request, clock: clock)
        func note(_ text: String) { events(.note(text)) }
        func between(_ count: Int) throws { try brake.pass(events: count, note: note, stop: {}) }
        try brake.waitWhilePaused(note: note, stop: {})
        guard case .snapshot(let path, let force) = target else {
            return Outcome(summary: try engineAttempt(resume: resume, into: nil, betweenBatches: between, checkpoint: checkpoint, events: events))
        }
        let from = try opener.open(source, forWriting: false)
        defer { try? from.close() }
        return try withoutActuallyEscaping(between) { between in
            var engine = CopyEngine(request: request, clock: clock)
            engine.commitGroupSeconds = commitGroupSeconds
            engine.operation = operation
            engine.betweenBatches = between
            do {
                return try snapshot(from: from, path: path, force: force, engine: engine, resume: resume, checkpoint: checkpoint, events: events)
            } catch let error as any DriverError where !(error is SnapshotError) {
                // Snapshot files name themselves (an existing file, a damaged snapshot).
                throw CopyError(source: source.description, target: target.description, underlying: error)
            }
        }
    }

    /// The engine from `resume` with a source of its own, into the target store (opened here) or
    /// into `shared` (a pool's snapshot).
    func engineAttempt(
        resume: CopyCheckpoint?, into shared: (any SessionStore)?, betweenBatches: (Int) throws -> Void,
        checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink
    ) throws -> CopySummary {
        let from = try opener.open(source, forWriting: false)
        defer { try? from.close() }
        // The engine keeps the hook only for the length of its run.
        return try withoutActuallyEscaping(betweenBatches) { betweenBatches in
            var engine = CopyEngine(request: request, clock: clock)
            engine.commitGroupSeconds = commitGroupSeconds
            engine.operation = operation
            engine.betweenBatches = betweenBatches
            return try engineRun(engine, from: from, into: shared, resume: resume, checkpoint: checkpoint, events: events)
        }
    }

    private func engineRun(
        _ engine: CopyEngine, from: any SessionStore, into shared: (any SessionStore)?, resume: CopyCheckpoint?,
        checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink
    ) throws -> CopySummary {
        do {
            if let shared {
                return try engine.run(
                    from: from, to: shared, resume: resume, checkpoint: checkpoint, onBatchWritten: afterBatchWritten, events: events)
            }
            guard case .store(let address) = target else { throw SharedTargetError(description: "a snapshot is written by its writer") }
            // Same store by identity (another host name or user, a symlink): refused before writing.
            try opener.refuseSameStore(source: from, at: source, target: address)
            let to = try openTarget(address)
            var finished = false
            // Kept for this run's next open (a pool's last look at the target's write epoch), unless it failed.
            defer { if finished, !request.dryRun { opener.release(to, address, forWriting: true) } else { try? to.close() } }
            let summary = try engine.run(
                from: from, to: to, targetTTLSeconds: address.ttlSeconds, resume: resume, checkpoint: checkpoint,
                onBatchWritten: afterBatchWritten, events: events)
            finished = true
            return summary
        } catch let error as any DriverError where !(error is SnapshotError) {
            throw CopyError(source: source.description, target: target.description, underlying: error)
        }
    }

    private func snapshot(
        from store: any SessionStore, path: String, force: Bool, engine: CopyEngine, resume: CopyCheckpoint?,
        checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink
    ) throws -> Outcome {
        try refuseSnapshotOfItself(store, path: path)
        // A checkpoint is only good with the partial file it describes; without it, start over.
        let resume = FileManager.default.fileExists(atPath: SnapshotWriter.partialPath(for: path)) ? resume : nil
        let writer = try SnapshotWriter(path: path, force: force, sourceKeepsExpiry: store.capabilities.keepsExpiry, resuming: resume != nil)
        do {
            let started = clock.now()
            let summary = try engine.run(
                from: store, to: writer.store, resume: resume, checkpoint: checkpoint, onBatchWritten: afterBatchWritten, events: events)
            try writer.finish(
                toolVersion: SessMigrateVersion.current, source: source.description, sourceLayout: store.layout.description,
                createdAt: started, seconds: summary.seconds)
            return Outcome(summary: summary, manifest: try SnapshotReader.manifest(path: path))
        } catch {
            writer.abandon(keepPartial: keepsPartialSnapshot)
            throw error
        }
    }

    /// A snapshot file (or its partial file) that is the source store under another name.
    func refuseSnapshotOfItself(_ store: any SessionStore, path: String) throws {
        for file in [path, SnapshotWriter.partialPath(for: path)] {
            if let existing = StoreIdentity.file(atPath: file), let identity = try opener.identity(of: store, at: source),
                identity.isSameStore(as: existing)
            {
                throw AddressError("the snapshot file \(file) is the source \(source) itself")
            }
        }
    }

    /// The same address on both sides, or a snapshot file that is the source file.
    func refuseSameAddress() throws {
        switch target {
        case .store(let address):
            guard source != address else { throw AddressError("source and target are the same store (\(source))") }
        case .snapshot(let path, _):
            if source.filePath == path { throw AddressError("the snapshot file is the source itself (\(path))") }
        }
    }

    /// Opens both stores and releases them for the run's first opens (``StoreOpener/release(_:_:forWriting:)``):
    /// connection problems surface before any work, and the connections made are the ones the copy uses.
    func probe() throws {
        opener.release(try opener.open(source, forWriting: false), source, forWriting: false)
        if case .store(let address) = target, !(address.isFile) { opener.release(try opener.open(address, forWriting: false), address, forWriting: false) }
    }

    /// A dry run opens the target read-only and creates nothing: a SQLite file that does not exist
    /// yet is an empty store.
    func openTarget(_ address: StoreAddress) throws -> any SessionStore {
        guard request.dryRun else { return try opener.open(address, forWriting: true) }
        if address.isFile, !FileManager.default.fileExists(atPath: address.filePath ?? "") {
            return EmptySessionStore(layout: StoreLayout(kind: "sqlite", name: "new file"))
        }
        return try opener.open(address, forWriting: false)
    }
}

/// A failure during a copy, naming both stores (redacted).
public struct CopyError: Error, CustomStringConvertible {
    public var source: String
    public var target: String
    public var underlying: any DriverError

    public var description: String { "copy \(source) -> \(target) failed: \(underlying.description)" }
}
