import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// `converge`: copies the sessions changed since a watermark, again and again, until a pass finds
/// nothing to write or `max_passes` is reached (the step then fails, saying so). Each pass starts
/// from the time the previous pass started, minus `skew_seconds` (default 5) for clock differences
/// between the bot and this host. Parameters: `source`, `target`, `since` (the first watermark),
/// `max_passes` (default 5), and the copy options.
enum Converge {
    static func run(_ context: StepContext) throws -> JSONObject {
        let (source, target) = (try context.address("source"), try context.address("target"))
        let maxPasses = Int(try context.value("max_passes") ?? "") ?? 5
        let skew = Double(try context.value("skew_seconds") ?? "") ?? 5
        guard var since = try context.time("since") else { throw RunbookError("step '\(context.id)' (converge) needs 'since'") }
        var pass = 0
        var copyResume: JSONObject?
        if let resume = context.resumeFrom {
            since = resume["since"]?.doubleValue ?? since
            pass = Int(resume["pass"]?.doubleValue ?? 0)
            copyResume = resume["copy"]?.objectValue
        }
        var written = 0
        while pass < maxPasses {
            let passStart = context.now()
            var options = try context.copyOptions()
            options.filter.updatedSince = since
            let summary = try StepRunner.runCopy(context, source: source, target: target, options: options, resume: copyResume) { point in
                try context.checkpoint(["since": .number(JSONNumber(since)), "pass": .number(JSONNumber(pass)), "copy": .object(point.json())])
            }
            copyResume = nil
            written = summary.total.written
            context.progress("converge: pass \(pass + 1) since \(PythonTime.naiveUTC(fromEpoch: since)) UTC wrote \(written) sessions")
            pass += 1
            if written == 0 || context.dryRun {
                return ["passes": .number(JSONNumber(pass)), "converged": .bool(written == 0), "watermark": .string(PythonFloat.repr(since))]
            }
            since = passStart - skew
            try context.checkpoint(["since": .number(JSONNumber(since)), "pass": .number(JSONNumber(pass))])
        }
        throw StepFailure("converge: still \(written) sessions changed after \(maxPasses) passes; resume to keep converging")
    }
}
