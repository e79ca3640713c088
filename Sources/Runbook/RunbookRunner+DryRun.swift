import Foundation
import SessMigrate
import SessionModel

extension RunbookRunner {
    /// Walks the steps without a journal and without writing to any store: copies run as dry runs
    /// (reporting what they would insert, update, keep or skip), snapshots and gate commands are
    /// described, not run. Returns one line per step, then one per hook (never run here). An existing journal is never touched.
    public func dryRun() throws -> [String] {
        var outputs: [String: JSONObject] = [:]
        var lines: [String] = []
        for spec in document.steps {
            let context = StepContext(
                id: spec.id, spec: spec, variables: variables, outputs: outputs, resumeFrom: nil, dryRun: true,
                checkpoint: { _ in }, afterBatchWritten: {}, events: { events(RunnerEvent(step: spec.id, event: $0)) })
            switch spec.kind {
            case .gate:
                // Secrets from ${env:NAME} are not shown.
                let command = try spec.values["command"].map { try variables.substitute($0, outputs: outputs, revealingEnvironment: false) }
                lines.append("\(spec.id) (gate): would " + (command.flatMap { $0.isEmpty ? nil : "run: \($0)" } ?? "wait for `sessmigrate continue`"))
                outputs[spec.id] = ["time": .string(PythonFloat.repr(context.now()))]
            case .snapshot:
                lines.append("\(spec.id) (snapshot): would write \(try context.required("file")) from \(try context.address("source"))")
            case .verify:
                // Nothing was written, so the stores may differ now; say what verify would find.
                do {
                    let detail = try StepRunner.run(context)
                    lines.append("\(spec.id) (verify): identical now: " + detail.map { "\($0.key)=\($0.value.serialized(.compact))" }.joined(separator: " "))
                } catch let failure as StepFailure {
                    lines.append("\(spec.id) (verify): differs now (expected before the copy runs): \(failure.message)")
                }
            default:
                let detail = try StepRunner.run(context)
                outputs[spec.id] = detail
                lines.append("\(spec.id) (\(spec.kind.rawValue)): " + detail.map { "\($0.key)=\($0.value.serialized(.compact))" }.joined(separator: " "))
            }
        }
        return lines + document.hooks.dryRunLines()  // hooks never run in a dry run: listed only
    }
}
