import DriverCore
import Foundation
import Snapshot

extension WorkerPool {
    /// What the pool opened before its workers start.
    struct Prepared {
        /// The snapshot being written, for a snapshot target.
        var writer: SnapshotWriter?
        var shared: SerializedStore?
        /// A SQLite target the workers share (``WorkerPool/sharesTarget(_:)``), closed by the pool.
        var ownedTarget: (any SessionStore)?
        var sourceLayout = ""
        /// The sessions in the whole scope, when the source counts them cheaply.
        var total: Int?

        func finish(run: CopyRun, started: Double, seconds: Double) throws -> SnapshotManifest? {
            guard let writer, case .snapshot(let path, _) = run.target else { return nil }
            do {
                try writer.finish(
                    toolVersion: SessMigrateVersion.current, source: run.source.description, sourceLayout: sourceLayout, createdAt: started,
                    seconds: seconds)
            } catch {
                writer.abandon(keepPartial: run.keepsPartialSnapshot)
                throw error
            }
            return try SnapshotReader.manifest(path: path)
        }
    }

    /// Before the workers start, on this thread: the same-store checks once; a store target opened
    /// for writing once (its schema made), and finished workers of a target that restarted since
    /// (a new ``SessionStore/writeEpoch()``) sent back to the start; a snapshot's writer made.
    func prepare(_ states: inout [WorkerCheckpoint], events: ProgressSink) throws -> Prepared {
        try run.refuseSameAddress()
        let from = try run.opener.open(run.source, forWriting: false)
        defer { run.opener.release(from, run.source, forWriting: false) }  // for the first worker (see OpenMemo)
        // The workers' scopes are sub-shards, which a store may not count; the whole scope it may.
        let total = from.capabilities.countsCheaply ? try? from.countSessions(run.request.scope) : nil
        switch run.target {
        case .store(let address):
            try run.opener.refuseSameStore(source: from, at: run.source, target: address)
            let to = try run.openTarget(address)
            if sharesTarget(address) {
                return Prepared(shared: SerializedStore(to), ownedTarget: to, total: total)
            }
            defer { if run.request.dryRun { try? to.close() } else { run.opener.release(to, address, forWriting: true) } }
            if !run.request.dryRun { _ = sendBack(&states, restartedBefore: try to.writeEpoch(), events: events) }
            return Prepared(total: total)
        case .snapshot(let path, let force):
            try run.refuseSnapshotOfItself(from, path: path)
            let resuming = FileManager.default.fileExists(atPath: SnapshotWriter.partialPath(for: path)) && states.contains { $0.checkpoint != nil }
            if !resuming { states = shards.map { WorkerCheckpoint(shard: $0) } }  // a checkpoint is only good with its partial file
            let writer = try SnapshotWriter(path: path, force: force, sourceKeepsExpiry: from.capabilities.keepsExpiry, resuming: resuming)
            return Prepared(writer: writer, shared: SerializedStore(writer.store), sourceLayout: from.layout.description, total: total)
        }
    }

    /// True when the workers write a SQLite file through one connection, taking turns (as into a
    /// snapshot): a file has one writer at a time anyway, and a connection of its own per worker
    /// would have each wait for the other's lock, polling, and commit its own small transactions,
    /// where one connection commits the batches of all of them together (``DurableCheckpoints``).
    /// Only where the copy groups its commits (the one rule, ``DurableCheckpoints/allowed(_:)``), and not
    /// when mirroring: the deletion pass scans the target, which a shared store refuses.
    func sharesTarget(_ address: StoreAddress) -> Bool {
        guard case .sqlite = address else { return false }
        return run.commitGroupSeconds != nil && DurableCheckpoints.allowed(run.request) && !run.request.mirror && shards.count > 1
    }

    /// The finished workers whose writes went to an earlier server process of the target than the one
    /// now (``SessionStore/writeEpoch()``), sent back to the start of their shares; their indices.
    func sendBack(_ states: inout [WorkerCheckpoint], restartedBefore epoch: String?, events: ProgressSink) -> [Int] {
        var sent: [Int] = []
        for index in states.indices where states[index].finished {
            guard let before = states[index].checkpoint?.targetEpoch, before != epoch else { continue }
            events(.note("\(name(index)): the target restarted since it finished and may have lost its writes; it copies its share again"))
            let summary = states[index].checkpoint.map { CopyEngine.restarted($0.summary) } ?? CopySummary()
            states[index] = WorkerCheckpoint(shard: states[index].shard, checkpoint: CopyCheckpoint(cursor: nil, summary: summary))
            sent.append(index)
        }
        return sent
    }

    /// After a round in which every worker finished: the workers to run again because the target
    /// restarted after they wrote (``sendBack(_:restartedBefore:events:)``). The command line waits
    /// out a target that is down; a runbook step fails with it and is retried.
    func restartedSinceFinishing(_ pool: inout PoolState, events: ProgressSink) throws -> [Int] {
        // Only a target that can lose acknowledged writes (Redis) gives its writes an epoch.
        guard !run.request.dryRun, case .store(let address) = run.target, pool.states.contains(where: { $0.checkpoint?.targetEpoch != nil })
        else { return [] }
        let epoch = try attempts(events: events) { _ in
            let to = try run.opener.open(address, forWriting: true)
            defer { run.opener.release(to, address, forWriting: true) }
            return try to.writeEpoch()
        }
        let sent = sendBack(&pool.states, restartedBefore: epoch, events: events)
        for index in sent { pool.summaries[index] = nil }
        return sent
    }
}

/// The target restarted again and again while a worker pool copied into it: each round of workers
/// ended on another server process, which may have lost their writes.
struct TargetKeptRestartingError: Error, CustomStringConvertible {
    var rounds: Int
    var description: String {
        "copy: the target restarted during each of \(rounds) rounds of the workers and may have lost writes; run the copy again once it is stable"
    }
}
