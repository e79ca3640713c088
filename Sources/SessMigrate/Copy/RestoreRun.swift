import DriverCore
import Foundation
import Snapshot

/// `restore FILE DST`: checks the snapshot (integrity, format version, digests), copies it into
/// DST with the request (conflict policy `newer` by default: target sessions updated after the
/// snapshot are kept) through the one ``CopyRun``, then verifies by planning the same copy again: a
/// clean restore leaves nothing to insert or update.
public struct RestoreRun {
    public var path: String
    public var copy: CopyRun

    public init(path: String, target: StoreAddress, request: CopyRequest) {
        self.path = path
        copy = CopyRun(source: .sqlite(SQLiteAddress(path: path, newFileLayout: .sqliteSessionService)), target: .store(target), request: request)
        copy.operation = "restore"
    }

    /// The restore's outcome.
    public struct Outcome: Sendable {
        public var manifest: SnapshotManifest
        public var copy: CopySummary
        /// The verification pass: `total.written` sessions still differ (0 when clean).
        public var verify: CopySummary
        public var isVerified: Bool { verify.total.written == 0 }
    }

    /// The target store's address.
    public var target: StoreAddress {
        guard case .store(let address) = copy.target else { preconditionFailure("a restore writes into a store") }
        return address
    }

    /// Checks the snapshot; a snapshot that fails its check is refused before anything is written.
    func check() throws -> SnapshotManifest {
        if target.filePath == path { throw AddressError("the restore target is the snapshot itself (\(path))") }
        try copy.opener.refuseSameFile(path, target: target)
        return try SnapshotReader.check(path: path, batchSize: copy.request.batchSize)
    }

    /// Checks, restores and verifies, waiting out transient faults (the command line).
    public func run(events: ProgressSink = { _ in }) throws -> Outcome {
        let manifest = try check()
        let outcome = try copy.run(events: events)
        return Outcome(manifest: manifest, copy: outcome.summary, verify: try verify(events: events))
    }

    /// One attempt from `resume` (a runbook step).
    public func attempt(resume: CopyCheckpoint?, checkpoint: (CopyCheckpoint) throws -> Void, events: ProgressSink = { _ in }) throws -> Outcome {
        let manifest = try check()
        let outcome = try copy.attempt(resume: resume, checkpoint: checkpoint, events: events)
        return Outcome(manifest: manifest, copy: outcome.summary, verify: try verify(events: events))
    }

    /// Plans the same copy again as a dry run: nothing must be left to write.
    func verify(events: ProgressSink) throws -> CopySummary {
        guard !copy.request.dryRun else { return CopySummary() }
        var check = copy
        check.request.dryRun = true
        check.request.mirror = false
        check.operation = "restore check"
        return try check.attempt(resume: nil, checkpoint: { _ in }, events: events).summary
    }
}
