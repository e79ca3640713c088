import DriverCore
import Foundation
import Snapshot

extension SnapshotJob {
    /// Takes the snapshot, waiting out transient faults: each retry reconnects and continues the
    /// partial file from its last committed batch. A source refusing connections at the start
    /// is reported at once (one still loading or busy is waited for). When the retries run out, the partial file is removed (nothing that
    /// looks like a snapshot is left) and the error is thrown.
    public func run(
        retry: RetryPolicy, onRetry: (RetryNotice) -> Void = { _ in }, progress: (CopySummary) -> Void = { _ in }
    ) throws -> (CopySummary, SnapshotManifest) {
        try Retrier(policy: retry).run(retryable: isServerNotReady, notify: onRetry) { _ in
            try opener.open(source, forWriting: false).close()
        }
        var job = self
        job.resumable = true
        var lastCheckpoint: CopyCheckpoint?
        var batches = 0
        do {
            return try Retrier(policy: retry).run(progressMarker: { batches }, notify: onRetry) { attempt in
                // The first attempt refused an existing file unless --force; later ones replace
                // only their own partial file.
                job.force = force || attempt > 0
                return try job.run(
                    resume: lastCheckpoint,
                    checkpoint: { point in
                        lastCheckpoint = point
                        batches += 1
                    },
                    progress: progress)
            }
        } catch {
            if !resumable { try? FileManager.default.removeItem(atPath: SnapshotWriter.partialPath(for: path)) }
            throw error
        }
    }
}

extension RestoreJob {
    /// Checks, restores and verifies, waiting out transient faults: each retry reconnects and
    /// continues from the last committed batch. A target refusing connections at the start is
    /// reported at once (one still loading or busy is waited for).
    public func run(
        retry: RetryPolicy, onRetry: (RetryNotice) -> Void = { _ in }, progress: (CopySummary) -> Void = { _ in }
    ) throws -> Outcome {
        if case .sqlite = target {} else {  // a new SQLite file is created by the restore itself
            try Retrier(policy: retry).run(retryable: isServerNotReady, notify: onRetry) { _ in
                try opener.open(target, forWriting: false).close()
            }
        }
        var lastCheckpoint: CopyCheckpoint?
        var batches = 0
        return try Retrier(policy: retry).run(progressMarker: { batches }, notify: onRetry) { _ in
            try run(
                resume: lastCheckpoint,
                checkpoint: { point in
                    lastCheckpoint = point
                    batches += 1
                },
                progress: progress)
        }
    }
}
