import DriverCore

/// A copy's checkpoints held back until what they cover is committed: a target that commits in
/// groups (``DriverCore/WriteGroupState``, a SQLite file) keeps batches in an open transaction, and
/// a checkpoint (the resume point of a retry, a `--checkpoint` file, a runbook's journal) must
/// never name a batch that a crash or a failed commit could still take away.
///
/// The target commits the open group once it has been open ``seconds``; the engine commits it
/// too when no batch comes from the source within that time (the writer would otherwise wait
/// holding the file's write lock), so a bot writing the same file waits for at most about twice
/// that. After each batch the latest checkpoint whose batches are all committed is passed on. A group
/// lost meanwhile (one of this writer's or, into a file shared by a pool's workers, another's)
/// throws ``WriteGroupLostError``, a transient fault: the copy is retried from its last passed
/// checkpoint, and idempotent writes make repeating the lost batches harmless.
struct DurableCheckpoints {
    /// How long a write group stays open; `nil`: the target commits every batch.
    let seconds: Double?

    private var waiting: [(point: CopyCheckpoint, group: Int?)] = []
    /// The target's group losses when the oldest waiting batch was written.
    private var lossesBefore = 0

    init(seconds: Double?) { self.seconds = seconds }

    /// Whether a copy may group its writes: not in a dry run, and not with a brake, which may sleep
    /// between batches (with the file locked) and promises that a pause loses no progress.
    static func allowed(_ request: CopyRequest) -> Bool {
        !request.dryRun && request.maxRate == nil && request.pauseFile == nil
    }

    /// A batch was written (`losses` is the target's ``DriverCore/SessionStore/writeGroupLosses`` read
    /// before writing it); `point` is the checkpoint after it.
    mutating func written(
        _ point: CopyCheckpoint, lossesBefore losses: Int, target: any SessionStore, checkpoint: (CopyCheckpoint) throws -> Void
    ) throws {
        if waiting.isEmpty { lossesBefore = losses }
        waiting.append((point, target.openWriteGroup))
        try pass(target: target, checkpoint: checkpoint)
    }

    /// Commits the open group and passes the last checkpoint (the end of a copy, or a stop).
    mutating func flush(target: any SessionStore, checkpoint: (CopyCheckpoint) throws -> Void) throws {
        try target.commitWriteGroup()
        try pass(target: target, checkpoint: checkpoint)
    }

    private mutating func pass(target: any SessionStore, checkpoint: (CopyCheckpoint) throws -> Void) throws {
        guard !waiting.isEmpty else { return }
        guard target.writeGroupLosses == lossesBefore else {
            waiting.removeAll()
            throw WriteGroupLostError()
        }
        var latest: CopyCheckpoint?
        while let first = waiting.first, first.group.map({ target.state(ofWriteGroup: $0) == .committed }) ?? true {
            latest = first.point
            waiting.removeFirst()
        }
        if let latest { try checkpoint(latest) }
    }
}

/// Batches written into a target's open transaction were rolled back with it (its commit failed,
/// or a fault ended it): the copy goes on from its last checkpoint, which does not cover them.
struct WriteGroupLostError: DriverError {
    var code: DriverErrorCode { .connectionFailed }
    var description: String {
        "the target's open transaction was rolled back before it committed; the copy continues from its last checkpoint"
    }
    var debugDescription: String { description }
}
