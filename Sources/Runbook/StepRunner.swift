import DriverCore
import Foundation
import SessMigrate
import SessionModel
import Snapshot

/// A step's postcondition did not hold, or its action failed in a way the runbook must stop on.
public struct StepFailure: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs one step and returns the detail its `step_done` event records. Every action is idempotent,
/// so running a step again after a crash (from its last checkpoint) is safe.
public enum StepRunner {
    public static func run(_ context: StepContext) throws -> JSONObject {
        switch context.spec.kind {
        case .preflight: return try Preflight.run(context)
        case .snapshot: return try snapshot(context)
        case .restore: return try restore(context)
        case .copy: return try copy(context)
        case .verify: return try verify(context)
        case .gate: return try gate(context)
        case .converge: return try Converge.run(context)
        case .watermark:
            let now = context.now()
            return ["time": .string(PythonFloat.repr(now)), "time_utc": .string(PythonTime.naiveUTC(fromEpoch: now))]
        }
    }

    /// `snapshot`: `source`, `file`, `force`; with `best_effort: true` a source that cannot be read is
    /// recorded (`unreadable`) instead of failing the step, for the both-stores-down runbook.
    static func snapshot(_ context: StepContext) throws -> JSONObject {
        let source = try context.address("source")
        let file = try context.required("file")
        if context.dryRun { return ["file": .string(file), "dry_run": .bool(true)] }
        // A step that runs again replaces its own earlier, unfinished or finished, file.
        var job = SnapshotJob(source: source, path: file, force: try context.value("force") == "true" || context.resumeFrom != nil || context.attempt > 1)
        job.resumable = true
        let bestEffort = try context.value("best_effort") == "true"
        let manifest: SnapshotManifest
        do {
            (_, manifest) = try job.run(
                resume: try context.resumeFrom.map { try CopyCheckpoint(json: $0) },
                checkpoint: { try context.checkpoint($0.json()) }, onBatchWritten: context.afterBatchWritten,
                progress: { context.progress(Self.line("snapshot", $0)) })
        } catch where bestEffort {
            context.progress("snapshot '\(context.id)': \(source) could not be read (\(error)); recorded, continuing (best effort)")
            return ["file": .string(file), "unreadable": .string(String(describing: error))]
        }
        return [
            "file": .string(file), "sessions": .number(JSONNumber(manifest.sessions)), "events": .number(JSONNumber(manifest.events)),
            "source": .string(manifest.source),
        ]
    }

    /// `restore`: `file`, `target` and the copy options (conflict policy `newer` by default: target
    /// sessions updated after the snapshot are kept). The snapshot is checked first and the restore
    /// verified after (planning it again must find nothing to write); a restore that does not verify
    /// fails the step. A snapshot recorded as unreadable by a best-effort step is skipped.
    static func restore(_ context: StepContext) throws -> JSONObject {
        let file = try context.required("file")
        let target = try context.address("target")
        if try context.value("skip_if_missing") == "true", !FileManager.default.fileExists(atPath: file) {
            context.progress("restore '\(context.id)': \(file) does not exist (its snapshot could not be taken); skipped")
            return ["skipped": .string("\(file) does not exist")]
        }
        let options = try context.copyOptions()
        let outcome = try RestoreJob(path: file, target: target, options: options).run(
            resume: try context.resumeFrom.map { try CopyCheckpoint(json: $0) },
            checkpoint: { point in if !options.dryRun { try context.checkpoint(point.json()) } },
            onBatchWritten: context.afterBatchWritten,
            progress: { context.progress(Self.line("restore", $0)) })
        guard context.dryRun || outcome.isVerified else {
            throw StepFailure("restore of \(file) into \(target): \(outcome.verify.total.written) session(s) still differ after the restore")
        }
        var detail = counts(outcome.copy)
        detail["snapshot_sessions"] = .number(JSONNumber(outcome.manifest.sessions))
        return detail
    }

    static func copy(_ context: StepContext) throws -> JSONObject {
        let (source, target) = (try context.address("source"), try context.address("target"))
        guard source != target else { throw StepFailure("step '\(context.id)': source and target are the same store") }
        let summary = try runCopy(context, source: source, target: target, options: try context.copyOptions(), resume: context.resumeFrom) {
            try context.checkpoint($0.json())
        }
        var detail = counts(summary)
        detail["started_at"] = .string(PythonFloat.repr(context.now() - summary.seconds))
        return detail
    }

    /// One resumable copy: checkpoints go to the journal after each committed batch.
    static func runCopy(
        _ context: StepContext, source: StoreAddress, target: StoreAddress, options: CopyOptions, resume: JSONObject?,
        checkpoint: @escaping (CopyCheckpoint) throws -> Void
    ) throws -> CopySummary {
        let from = try context.opener.open(source, forWriting: false)
        defer { try? from.close() }
        // Same store by identity (another host name or user, a symlink): refused before writing.
        try context.opener.refuseSameStore(source: from, at: source, target: target)
        let to = try context.opener.open(target, forWriting: !options.dryRun)
        defer { try? to.close() }
        let start = try resume.map { try CopyCheckpoint(json: $0) }
        return try CopyEngine(options: options).run(
            from: from, to: to, targetTTLSeconds: target.ttlSeconds, resume: start,
            checkpoint: { point in if !options.dryRun { try checkpoint(point) } },
            onBatchWritten: context.afterBatchWritten,
            progress: { context.progress(Self.line("copy", $0)) })
    }

    static func verify(_ context: StepContext) throws -> JSONObject {
        if try context.value("replay") == "true" {
            let address = try context.address("store")
            let store = try context.opener.open(address, forWriting: false)
            defer { try? store.close() }
            let summary = try ReplayCheck().run(store)
            guard summary.isConsistent else {
                throw StepFailure("verify --replay: \(summary.mismatches.count) state(s) do not match their events, first: \(summary.mismatches[0].scope)")
            }
            return ["sessions": .number(JSONNumber(summary.sessions)), "consistent": .bool(true)]
        }
        let (a, b) = (try context.address("a"), try context.address("b"))
        var engine = DiffEngine(detailed: false)
        engine.batchSize = 500
        // `skip_bad: true`: bad sessions are listed in the step's result; the rest must be identical.
        engine.skipBad = try context.value("skip_bad") == "true"
        var job = DiffJob(a: a, b: b, engine: engine)
        job.retry = .none  // the runner retries the whole step after a transient fault, recorded in the journal
        let (summary, _, _) = try job.run { _ in }
        guard summary.isIdenticalExceptSkipped else {
            throw StepFailure("verify \(a) vs \(b): \(summary.onlyInA) only in A, \(summary.onlyInB) only in B, \(summary.changed) changed")
        }
        var detail: JSONObject = [
            "sessions": .number(JSONNumber(summary.sessionsInA)), "events": .number(JSONNumber(summary.eventsInA)),
            "identical": .bool(summary.isIdentical),
        ]
        if !summary.isIdentical {
            detail["skipped_a"] = .array(summary.skippedA.map { .object($0.json()) })
            detail["skipped_b"] = .array(summary.skippedB.map { .object($0.json()) })
        }
        return detail
    }

    /// A gate with a `command` runs it (`/bin/sh -c`); success passes the gate. Gates without a
    /// command are handled by the runner (they wait for `sessmigrate continue`).
    static func gate(_ context: StepContext) throws -> JSONObject {
        guard let command = try context.value("command"), !command.isEmpty else { return ["waited": .bool(true)] }
        if context.dryRun { return ["command": .string("(not run in a dry run)")] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw StepFailure("gate '\(context.id)': the command exited with status \(process.terminationStatus)")
        }
        return ["command_status": .number(JSONNumber(0)), "time": .string(PythonFloat.repr(context.now()))]
    }

    static func counts(_ summary: CopySummary) -> JSONObject {
        let total = summary.total
        var detail: JSONObject = [
            "read": .number(JSONNumber(total.read)), "written": .number(JSONNumber(total.written)),
            "unchanged": .number(JSONNumber(total.unchanged)), "kept_newer_target": .number(JSONNumber(total.keptNewerTarget)),
            "skipped_expired": .number(JSONNumber(total.skippedExpired)), "events_read": .number(JSONNumber(total.eventsRead)),
            "events_written": .number(JSONNumber(total.eventsWritten)),
        ]
        detail.update(with: skippedDetail(summary))
        return detail
    }

    /// With `skip_bad`, the bad sessions passed over (names and reasons only): `skipped_count`
    /// and `skipped` in the step's result. Each checkpoint's summary lists those of its batches too.
    static func skippedDetail(_ summary: CopySummary) -> JSONObject {
        guard summary.skippedCount > 0 else { return [:] }
        return ["skipped_count": .number(JSONNumber(summary.skippedCount)), "skipped": .array(summary.skipped.map { .object($0.json()) })]
    }

    static func line(_ verb: String, _ summary: CopySummary) -> String {
        let total = summary.total
        let skipped = summary.skippedCount > 0 ? ", \(summary.skippedCount) bad skipped" : ""
        return "\(verb): \(total.read) sessions read, \(total.written) written, \(total.unchanged) unchanged" + skipped
    }
}
