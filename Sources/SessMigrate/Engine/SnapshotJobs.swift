import Foundation
import DriverCore
import Snapshot

/// `snapshot SRC FILE`: copies every session of SRC into a new snapshot file (see ``SnapshotFormat``),
/// written under a temporary name, synced and renamed when complete.
public struct SnapshotJob {
    public var source: StoreAddress
    public var path: String
    public var force: Bool
    public var batchSize: Int
    /// Keep the partial file after a failure so a resumed runbook step continues it.
    public var resumable = false
    public var opener = StoreOpener()

    public init(source: StoreAddress, path: String, force: Bool, batchSize: Int = 200) {
        self.source = source
        self.path = path
        self.force = force
        self.batchSize = batchSize
    }

    /// Takes the snapshot; returns the copy summary and the manifest written. With `resume` (a
    /// checkpoint of an interrupted run of the same snapshot), the partial file is continued from it.
    public func run(
        resume: CopyCheckpoint? = nil, checkpoint: (CopyCheckpoint) throws -> Void = { _ in },
        onBatchWritten: () throws -> Void = {}, progress: (CopySummary) -> Void = { _ in }
    ) throws -> (CopySummary, SnapshotManifest) {
        if case .sqlite(let sqlite) = source, sqlite.path == path {
            throw AddressError("the snapshot file is the source itself (\(path))")
        }
        let store = try opener.open(source, forWriting: false)
        defer { try? store.close() }
        for file in [path, SnapshotWriter.partialPath(for: path)] {
            if let existing = StoreIdentity.file(atPath: file), let identity = try opener.identity(of: store, at: source),
                identity.isSameStore(as: existing)
            {
                throw AddressError("the snapshot file \(file) is the source \(source) itself")
            }
        }
        // A checkpoint is only good with the partial file it describes; without it, start over.
        let resume = FileManager.default.fileExists(atPath: SnapshotWriter.partialPath(for: path)) ? resume : nil
        let writer = try SnapshotWriter(path: path, force: force, sourceKeepsExpiry: store.capabilities.keepsExpiry, resuming: resume != nil)
        do {
            var options = CopyOptions(batchSize: batchSize)
            options.onConflict = .source
            let started = Clock.epochSeconds()
            let summary = try CopyEngine(options: options).run(
                from: store, to: writer.store, resume: resume, checkpoint: checkpoint, onBatchWritten: onBatchWritten, progress: progress)
            try writer.finish(
                toolVersion: SessMigrateVersion.current, source: source.description, sourceLayout: store.layout.description,
                createdAt: started, seconds: summary.seconds)
            return (summary, try SnapshotReader.manifest(path: path))
        } catch {
            writer.abandon(keepPartial: resumable)
            throw error
        }
    }
}

/// `restore FILE DST`: checks the snapshot (integrity, format version, digests), copies it into DST
/// with the copy options (conflict policy `newer` by default: newer target sessions are kept), then
/// verifies by planning the same copy again: a clean restore leaves nothing to insert or update.
public struct RestoreJob {
    public var path: String
    public var target: StoreAddress
    public var options: CopyOptions
    public var opener = StoreOpener()

    public init(path: String, target: StoreAddress, options: CopyOptions) {
        self.path = path
        self.target = target
        self.options = options
    }

    /// The restore's outcome.
    public struct Outcome: Sendable {
        public var manifest: SnapshotManifest
        public var copy: CopySummary
        /// The verification pass: `total.written` sessions still differ (0 when clean).
        public var verify: CopySummary
        public var isVerified: Bool { verify.total.written == 0 }
    }

    /// Checks, restores and verifies. A snapshot that fails its check is refused before anything is written.
    public func run(
        resume: CopyCheckpoint? = nil, checkpoint: (CopyCheckpoint) throws -> Void = { _ in },
        onBatchWritten: () throws -> Void = {}, progress: (CopySummary) -> Void = { _ in }
    ) throws -> Outcome {
        if case .sqlite(let sqlite) = target, sqlite.path == path { throw AddressError("the restore target is the snapshot itself (\(path))") }
        try opener.refuseSameFile(path, target: target)
        let manifest = try SnapshotReader.check(path: path, batchSize: options.batchSize)
        let source = try SnapshotStore(path: path)
        defer { try? source.close() }
        let store = try opener.open(target, forWriting: !options.dryRun)
        defer { try? store.close() }
        let ttl = target.ttlSeconds
        let copy = try CopyEngine(options: options).run(
            from: source, to: store, targetTTLSeconds: ttl, resume: resume, checkpoint: checkpoint, onBatchWritten: onBatchWritten,
            progress: progress)
        var check = options
        check.dryRun = true
        check.mirror = false
        let verify = options.dryRun ? CopySummary() : try CopyEngine(options: check).run(from: source, to: store, targetTTLSeconds: ttl)
        return Outcome(manifest: manifest, copy: copy, verify: verify)
    }

}
