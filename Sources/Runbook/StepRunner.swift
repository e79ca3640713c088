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
/// so running a step again after a crash (from its last checkpoint) is safe. Every step that copies
/// goes through the one ``CopyRun``.
public enum StepRunner {
    public static func run(_ context: StepContext) throws -> JSONObject {
        switch context.spec.kind {
        case .preflight: return try Preflight.run(context)
        case .snapshot: return try snapshot(context)
        case .restore: return try restore(context)
        case .copy: return try copy(context)
        case .verify: return try verify(context)
        case .gate: return try Gate.run(context)
        case .converge: return try Converge.run(context)
        case .watermark: return try Watermark.run(context)
        }
    }

    /// `snapshot`: `source`, `file`, `force`, and the request's scope and batch size; with
    /// `best_effort: true` a source that cannot be read is recorded (`unreadable`) instead of
    /// failing the step, for the both-stores-down runbook. A step that runs again replaces its own
    /// earlier file (finished or partial); the first attempt refuses an existing file unless `force`.
    static func snapshot(_ context: StepContext) throws -> JSONObject {
        let source = try context.address("source")
        let file = try context.required("file")
        let request = try context.copyRequest()
        if context.dryRun { return ["file": .string(file), "dry_run": .bool(true)] }
        let force = try context.flag("force") || context.resumeFrom != nil || context.attempt > 1
        var run = CopyRun(source: source, target: .snapshot(path: file, force: force), request: request)
        run.keepsPartialSnapshot = true
        run.afterBatchWritten = context.afterBatchWritten
        run.opener = context.opener
        run.clock = context.clock
        let bestEffort = try context.flag("best_effort")
        let outcome: CopyRun.Outcome
        do {
            outcome = try run.attempt(
                resume: try context.copyResume(context.resumeFrom), checkpoint: { try context.checkpoint($0.json()) }, events: context.events)
        } catch let error as SnapshotError where error.existingFile != nil {
            throw StepFailure(
                "snapshot '\(context.id)': \(file) already exists (an earlier run's snapshot?); move it away or choose another file, then `sessmigrate resume`")
        } catch  where bestEffort {
            context.note("snapshot '\(context.id)': \(source) could not be read (\(error)); recorded, continuing (best effort)")
            return ["file": .string(file), "unreadable": .string(String(describing: error))]
        }
        guard let manifest = outcome.manifest else { throw StepFailure("snapshot '\(context.id)': no manifest was written") }
        return [
            "file": .string(file), "sessions": .number(JSONNumber(manifest.sessions)), "events": .number(JSONNumber(manifest.events)),
            "source": .string(manifest.source), "created_at": .string(PythonFloat.repr(manifest.createdAt)),
        ]
    }

    /// `restore`: `file`, `target` and the request (conflict policy `newer` by default: target
    /// sessions updated after the snapshot are kept). The snapshot is checked first and the restore
    /// verified after (planning it again must find nothing to write); a restore that does not verify
    /// fails the step. A snapshot recorded as unreadable by a best-effort step is skipped.
    static func restore(_ context: StepContext) throws -> JSONObject {
        let file = try context.required("file")
        let target = try context.address("target")
        if try context.flag("skip_if_missing"), !FileManager.default.fileExists(atPath: file) {
            context.note("restore '\(context.id)': \(file) does not exist (its snapshot could not be taken); skipped")
            return ["skipped": .string("\(file) does not exist")]
        }
        let request = try context.copyRequest()
        var run = RestoreRun(path: file, target: target, request: request)
        run.copy.afterBatchWritten = context.afterBatchWritten
        run.copy.opener = context.opener
        run.copy.clock = context.clock
        let outcome = try run.attempt(
            resume: try context.copyResume(context.resumeFrom),
            checkpoint: { point in if !request.dryRun { try context.checkpoint(point.json()) } }, events: context.events)
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
        let summary = try runCopy(context, source: source, target: target, request: try context.copyRequest(), resume: context.resumeFrom) {
            try context.checkpoint($0.json())
        }
        var detail = counts(summary)
        detail["started_at"] = .string(PythonFloat.repr(context.now() - summary.seconds))
        return detail
    }

    /// One attempt of a copy from a journal checkpoint: checkpoints go to the journal after each
    /// committed batch.
    static func runCopy(
        _ context: StepContext, source: StoreAddress, target: StoreAddress, request: CopyRequest, resume: JSONObject?,
        operation: String = "copy", checkpoint: @escaping (CopyCheckpoint) throws -> Void
    ) throws -> CopySummary {
        var run = CopyRun(source: source, target: .store(target), request: request)
        run.operation = operation
        run.afterBatchWritten = context.afterBatchWritten
        run.opener = context.opener
        run.clock = context.clock
        return try run.attempt(
            resume: try context.copyResume(resume), checkpoint: { point in if !request.dryRun { try checkpoint(point) } },
            events: context.events
        ).summary
    }

    static func verify(_ context: StepContext) throws -> JSONObject {
        if try context.flag("replay") {
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
        switch try context.value("mode") ?? "equal" {
        case "equal": break
        case "contains": return try contains(context, a, b)
        case let other: throw RunbookError("step '\(context.id)': mode must be equal or contains, not '\(other)'")
        }
        // `skip_bad: true`: bad sessions are listed in the step's result; the rest must be identical.
        var engine = DiffEngine(batchSize: 500, detailed: false, skipBad: try context.flag("skip_bad"), scope: try context.scope(), clock: context.clock)
        engine.operation = "verify"
        engine.sessionsPerPass = try context.integer("pass_size", in: 1...Int(Int32.max), default: DiffEngine.defaultSessionsPerPass)
        var job = DiffJob(a: a, b: b, engine: engine)
        job.retry = .none  // the runner retries the whole step after a transient fault, recorded in the journal
        let (summary, _, _) = try job.run(events: context.events) { _ in }
        guard summary.isIdenticalExceptSkipped else {
            throw StepFailure("verify \(a) vs \(b): \(summary.onlyInA) only in A, \(summary.onlyInB) only in B, \(summary.changed) changed")
        }
        var detail: JSONObject = [
            "sessions": .number(JSONNumber(summary.sessionsInA)), "events": .number(JSONNumber(summary.eventsInA)),
            "identical": .bool(summary.isIdentical), "passes": .number(JSONNumber(summary.passes)),
        ]
        if !summary.isIdentical {
            detail["skipped_a"] = .array(summary.skippedA.prefix(100).map { .object($0.json()) })
            detail["skipped_b"] = .array(summary.skippedB.prefix(100).map { .object($0.json()) })
            detail["skipped_count"] = .number(JSONNumber(summary.skippedA.count + summary.skippedB.count))
        }
        return detail
    }

    /// `verify` with `mode: contains`: everything of `a` (the old primary) is in `b` (the new one); `b`
    /// may hold more. With `pending_since`, sessions of `a` changed since then that `b` lacks are
    /// pending converge (counted, with the age of the oldest), not failures; the copy's expiry options
    /// (`ttl`, `ttl_from`, `include_expired`) say which sessions of `a` it does not copy.
    static func contains(_ context: StepContext, _ a: StoreAddress, _ b: StoreAddress) throws -> JSONObject {
        let request = try context.copyRequest()
        var engine = ContainmentEngine()
        engine.skipBad = request.skipBad
        engine.scope = request.scope
        engine.pendingSince = try context.time("pending_since")
        engine.expiry = request.ttl
        engine.targetTTLSeconds = b.ttlSeconds
        engine.clock = context.clock
        engine.sessionsPerPass = try context.integer("pass_size", in: 1...Int(Int32.max), default: DiffEngine.defaultSessionsPerPass)
        var job = DiffJob(a: a, b: b, engine: DiffEngine(detailed: false))
        job.retry = .none  // the runner retries the whole step after a transient fault
        job.opener = context.opener
        let summary = try job.contains(engine, events: context.events)
        let now = context.now()
        var detail: JSONObject = [
            "contained": .bool(summary.isContained), "sessions": .number(JSONNumber(summary.sessionsInA)),
            "events": .number(JSONNumber(summary.eventsInA)), "sessions_contained": .number(JSONNumber(summary.contained)),
            "pending_converge": .number(JSONNumber(summary.pending.count)), "expired": .number(JSONNumber(summary.expired)),
            "only_in_b": .number(JSONNumber(summary.onlyInB)), "passes": .number(JSONNumber(summary.passes)),
        ]
        if let oldest = summary.oldestPendingUpdate { detail["oldest_pending_seconds"] = .number(JSONNumber(Int(max(0, now - oldest)))) }
        if summary.pending.count > 0 {
            detail["pending"] = .array(summary.pending.items.prefix(100).map { .string($0.description) })
            context.note("verify: \(summary.pending.count) session(s) changed in \(a) since the last converge pass are pending converge")
        }
        let skipped = summary.skippedA.count + summary.skippedB.count
        if skipped > 0 { detail["skipped_count"] = .number(JSONNumber(skipped)) }
        guard summary.isContained, skipped == 0 || request.skipBad else {
            throw StepFailure(
                "verify: \(summary.failures.count) session(s) of \(a) are not in \(b) (first: "
                    + summary.failures.items.prefix(3).map(\.description).joined(separator: "; ") + ")")
        }
        return detail
    }

    /// The counts a copying step records in `step_done` (the names of kept and skipped sessions are
    /// in `sessions_kept` / `sessions_skipped` events).
    static func counts(_ summary: CopySummary) -> JSONObject {
        let total = summary.total
        var detail: JSONObject = [
            "read": .number(JSONNumber(total.read)), "written": .number(JSONNumber(total.written)),
            "inserted": .number(JSONNumber(total.inserted)), "updated": .number(JSONNumber(total.updated)),
            "unchanged": .number(JSONNumber(total.unchanged)), "kept_newer_target": .number(JSONNumber(total.keptNewerTarget)),
            "skipped_expired": .number(JSONNumber(total.skippedExpired)), "events_read": .number(JSONNumber(total.eventsRead)),
            "events_written": .number(JSONNumber(total.eventsWritten)), "seconds": .number(JSONNumber((summary.seconds * 100).rounded() / 100)),
        ]
        if summary.skipped.count > 0 { detail["skipped_count"] = .number(JSONNumber(summary.skipped.count)) }
        if summary.vanished > 0 { detail["vanished"] = .number(JSONNumber(summary.vanished)) }
        return detail
    }
}
