import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// `converge`: passes that copy the sessions changed in the source since a watermark into the target,
/// with the two-sided merge and fenced writes of every copy, while the bot may be writing to either.
///
/// Each pass reads only the sessions updated since its watermark (the bound is pushed down to the
/// source), and the next pass's watermark is the source's clock at the start of this pass minus
/// `margin_seconds` (default 60: clock skew, and events stamped before their transaction committed).
/// A pass "finds nothing changed" when it has nothing to write.
///
/// - Before a flip (no `drain_after`): passes run until one finds nothing changed, at most
///   `max_passes` (default 5). With `required: "false"` a live source that never goes quiet is not a
///   failure: the step records `converged: false` and the pre-flip check counts what is pending.
/// - After a flip (`drain_after: ${steps.flip.time}`, `drain` seconds, default 60, e.g. `60` or `60s`):
///   passes keep running, `pass_interval` (default 2) seconds apart, until the drain window is over
///   (old instances have stopped writing the old store) and a pass finds nothing changed; then one
///   sweep pass over everything changed since `sweep_since` (the first watermark) must find nothing
///   to write either (a session the bot overwrote blindly with an older copy, as google-adk-community's
///   Redis service does, is merged again). `max_passes` (default 1000) bounds it.
///
/// Sessions in conflict (an event id with different content on each side) are written by no pass and
/// fail the step once the passes are done, named. The step records `watermark` (the last pass's), the
/// counts of every pass, and `converged`.
enum Converge {
    struct Totals {
        var passes = 0
        var read = 0
        var written = 0
        var merged = 0
        var conflicts: [String] = []
    }

    static func run(_ context: StepContext) throws -> JSONObject {
        let (source, target) = (try context.address("source"), try context.address("target"))
        let margin = Double(try context.integer("margin_seconds", in: 0...86_400, default: Watermark.defaultMarginSeconds))
        let drainAfter = try context.time("drain_after")
        let drain = Double(try seconds(context, "drain", default: 60))
        let maxPasses = try context.integer("max_passes", in: 1...100_000, default: drainAfter == nil ? 5 : 1000)
        let required = try context.value("required").map { $0 != "false" } ?? true
        let interval = Double(try seconds(context, "pass_interval", default: 2))
        let sweepSince = try context.time("sweep_since")
        guard var since = try context.time("since") else { throw RunbookError("step '\(context.id)' (converge) needs 'since'") }
        let base = try context.copyRequest()
        var totals = Totals()
        var copyResume: JSONObject?
        var sweeping = false
        if let resume = context.resumeFrom {
            since = resume["since"]?.doubleValue ?? since
            totals.passes = Int(resume["pass"]?.doubleValue ?? 0)
            sweeping = resume["sweeping"] == .bool(true)
            copyResume = resume["copy"]?.objectValue
        }
        while true {
            let passStart = try Watermark.serverTime(context, address: source) ?? context.now()
            var request = base
            let from = sweeping ? (sweepSince ?? since) : since
            request.scope.updatedSince = max(from, base.scope.updatedSince ?? from)
            let point: (CopyCheckpoint) -> JSONObject = { [totals, since, sweeping] copy in
                ["since": .number(JSONNumber(since)), "pass": .number(JSONNumber(totals.passes)), "sweeping": .bool(sweeping), "copy": .object(copy.json())]
            }
            let summary = try StepRunner.runCopy(
                context, source: source, target: target, request: request, resume: copyResume,
                operation: sweeping ? "converge sweep" : "converge pass \(totals.passes + 1)"
            ) { try context.checkpoint(point($0)) }
            copyResume = nil
            totals.passes += 1
            let total = summary.total
            totals.read += total.read
            totals.written += total.written
            totals.merged += total.merged
            totals.conflicts = summary.conflicts.items.map(\.description)
            context.note(
                "converge \(sweeping ? "sweep" : "pass \(totals.passes)") since \(PythonTime.naiveUTC(fromEpoch: from)) UTC: read \(total.read), "
                    + "wrote \(total.written) (\(total.inserted) new, \(total.merged) merged two-sided), \(total.conflicted) in conflict")
            let quiet = total.written == 0
            let drainOver = drainAfter.map { context.now() >= $0 + drain } ?? true
            if context.dryRun { return result(totals, converged: quiet, watermark: from) }
            if quiet, drainOver {
                if sweeping || sweepSince == nil || drainAfter == nil {
                    guard totals.conflicts.isEmpty else { throw conflictFailure(context, totals) }
                    return result(totals, converged: true, watermark: from)
                }
                sweeping = true  // the last check: everything changed since the first watermark
            } else {
                // The next pass reads what changed since this one started (a sweep that found writes goes back to passes).
                if !sweeping { since = passStart - margin }
                sweeping = false
            }
            if totals.passes >= maxPasses {
                guard required else {
                    context.note("converge: the source is still changing after \(totals.passes) passes; the pre-flip check counts what is pending")
                    return result(totals, converged: false, watermark: from)
                }
                throw StepFailure("converge: sessions still changing after \(maxPasses) passes; resume to keep converging")
            }
            try context.checkpoint(["since": .number(JSONNumber(since)), "pass": .number(JSONNumber(totals.passes)), "sweeping": .bool(sweeping)])
            if drainAfter != nil, quiet { context.clock.sleep(interval) }
        }
    }

    static func result(_ totals: Totals, converged: Bool, watermark: Double) -> JSONObject {
        [
            "passes": .number(JSONNumber(totals.passes)), "converged": .bool(converged), "watermark": .string(PythonFloat.repr(watermark)),
            "read": .number(JSONNumber(totals.read)), "written": .number(JSONNumber(totals.written)),
            "merged": .number(JSONNumber(totals.merged)), "conflicts": .number(JSONNumber(totals.conflicts.count)),
        ]
    }

    static func conflictFailure(_ context: StepContext, _ totals: Totals) -> StepFailure {
        StepFailure(
            "converge '\(context.id)': \(totals.conflicts.count) session(s) hold an event id with different content in source and target "
                + "and were left as the target has them: \(totals.conflicts.prefix(5).joined(separator: "; ")). Decide which version is right, "
                + "fix it in one store, then resume")
    }

    /// A number of seconds: `60` or `60s`.
    static func seconds(_ context: StepContext, _ name: String, default fallback: Int) throws -> Int {
        guard var text = try context.value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
        if text.hasSuffix("s") { text.removeLast() }
        guard let value = Int(text), (0...86_400).contains(value) else {
            throw RunbookError("step '\(context.id)': \(name) must be a number of seconds from 0 to 86400 (e.g. 60 or 60s), not '\(text)'")
        }
        return value
    }
}
