import DriverCore
import Foundation
import SessionModel

/// `copy --checkpoint FILE`: the copy's position kept in a file, so that a task run again (a Cloud
/// Run Job task retried with the same index, a Kubernetes pod restarted) continues where it stopped.
///
/// The file is JSON (mode 0600), replaced atomically after every checkpoint (written under a
/// temporary name beside it, synced, renamed, the directory synced), and names the copy it belongs
/// to: the (redacted) source and target and the options that decide which sessions go where and how
/// (``identity``). A run resumes from it only when all of these are the same, and refuses a file of
/// another copy. It is removed when the copy completes, so running the same command again later
/// copies again (finding what changed) instead of doing nothing.
///
/// ```json
/// {"format": 1, "kind": "sessmigrate copy checkpoint", "copy": {"source": "mysql://app:***@db/app", "target": "…",
///  "scope": {…, "shard": "3/10"}, "on_conflict": "merge", …}, "checkpoint": {…CopyCheckpoint…}}
/// ```
public struct CopyCheckpointFile: Sendable {
    public var path: String
    /// What the file must describe to be resumed.
    public let identity: JSONObject

    public init(path: String, source: StoreAddress, target: CopyRun.Target, request: CopyRequest) {
        self.path = path
        var identity: JSONObject = ["source": .string(source.description), "target": .string(target.description)]
        for (key, value) in Self.options(request) { identity[key] = value }
        self.identity = identity
    }

    /// The options of `request` that decide what a checkpoint means (not the batch size, retries,
    /// workers or brake: a run may change those and still resume).
    static func options(_ request: CopyRequest) -> JSONObject {
        let ttl: JSONValue = request.ttl.seconds.map { .number(JSONNumber($0)) } ?? .null
        return [
            "scope": .object(ScopeJSON.json(request.scope)), "on_conflict": .string(request.onConflict.rawValue), "ttl": ttl,
            "ttl_from": .string(request.ttl.origin.rawValue), "include_expired": .bool(request.ttl.includeExpired),
            "dry_run": .bool(request.dryRun), "skip_bad": .bool(request.skipBad), "mirror": .bool(request.mirror),
        ]
    }

    static let kind = "sessmigrate copy checkpoint"

    /// The checkpoint to resume from, or `nil` when the file does not exist.
    ///
    /// - Throws: ``CheckpointFileError`` when the file cannot be read, is not a checkpoint file, or
    ///   belongs to another copy (naming what differs).
    public func load() throws -> CopyCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointFileError("cannot read the checkpoint file \(path)") }
        let object: JSONObject
        do {
            object = try JSONValue.parseObject(String(decoding: data, as: UTF8.self))
        } catch {
            throw CheckpointFileError("the checkpoint file \(path) is not JSON (\(error)); remove it to start over")
        }
        guard object["kind"]?.stringValue == Self.kind, let copy = object["copy"]?.objectValue, case .object(let saved)? = object["checkpoint"] else {
            throw CheckpointFileError("\(path) is not a sessmigrate copy checkpoint file; choose another --checkpoint")
        }
        let differing = Set(copy.keys).union(identity.keys).filter { copy[$0] != identity[$0] }.sorted()
        guard differing.isEmpty else {
            throw CheckpointFileError(
                "the checkpoint file \(path) belongs to another copy (it differs in \(differing.joined(separator: ", "))); "
                    + "remove it or choose another --checkpoint")
        }
        do {
            return try CopyCheckpoint(json: saved)
        } catch {
            throw CheckpointFileError("the checkpoint file \(path) is damaged (\(error)); remove it to start over")
        }
    }

    /// Replaces the file with `checkpoint`, atomically and durably.
    public func save(_ checkpoint: CopyCheckpoint) throws {
        let document: JSONObject = [
            "format": .number(JSONNumber(1)), "kind": .string(Self.kind), "tool_version": .string(SessMigrateVersion.current),
            "copy": .object(identity), "checkpoint": .object(checkpoint.json()),
        ]
        try AtomicFile.write(Array(document.serialized(.python).utf8), to: path)
    }

    /// Removes the file (the copy completed).
    public func remove() throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard unlink(path) == 0 else { throw CheckpointFileError("cannot remove the checkpoint file \(path) (errno \(errno))") }
        try AtomicFile.syncDirectory(of: path)
    }
}

extension CopyRun {
    /// ``run(resume:checkpoint:events:)`` keeping its position in the file at `path`
    /// (``CopyCheckpointFile``): resumed from it when it exists, replaced after every checkpoint,
    /// removed once the copy completes.
    public func run(checkpointFile path: String, events: ProgressSink = { _ in }) throws -> Outcome {
        // The file names the settled shard function: one of another function is another copy's.
        var run = remembering()
        defer { run.opener.memo?.closeParked() }
        run = try run.settlingShard()
        let file = CopyCheckpointFile(path: path, source: source, target: target, request: run.request)
        let resume = try file.load()
        if let resume {
            events(.note("\(operation): resuming from the checkpoint in \(path) (\(resume.summary.total.read) sessions done)"))
        }
        let outcome = try run.run(resume: resume, checkpoint: file.save, events: events)
        try file.remove()
        return outcome
    }
}

/// A checkpoint file that cannot be used.
public struct CheckpointFileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Files replaced whole: a temporary file beside the target (mode 0600), synced, renamed over it,
/// and the directory synced, so a crash leaves the old file or the new one, never a mix.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent(".\(URL(fileURLWithPath: path).lastPathComponent).\(getpid()).tmp").path
        let descriptor = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CheckpointFileError("cannot write \(temporary) (errno \(errno))") }
        var failed: Int32 = 0
        _ = fchmod(descriptor, 0o600)  // the umask may only have removed bits; set the mode exactly
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count, failed == 0 {
                let written = Glibc.write(descriptor, base + offset, buffer.count - offset)
                if written < 0, errno != EINTR { failed = errno } else if written > 0 { offset += written }
            }
        }
        if failed == 0, fsync(descriptor) != 0 { failed = errno }
        close(descriptor)
        guard failed == 0, rename(temporary, path) == 0 else {
            let code = failed == 0 ? errno : failed
            unlink(temporary)
            throw CheckpointFileError("cannot write the checkpoint file \(path) (errno \(code))")
        }
        try syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CheckpointFileError("cannot open \(directory) to sync it (errno \(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CheckpointFileError("fsync of \(directory) failed (errno \(errno))") }
    }
}
