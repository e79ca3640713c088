import Foundation
import Journal
import SessMigrate
import SessionModel

/// A required hook failed: the run stops (the step it reports on fails when it is inside one).
public struct HookFailure: Error, CustomStringConvertible {
    public var moment: HookMoment
    public var reason: String
    public var description: String { "required hook \(moment.rawValue) failed: \(reason)" }
}

/// Runs the runbook's hooks for one run of the runner, right after the journal recorded the moment
/// they report, so what a hook says is in the journal. Each hook gets the moment in `SESSMIGRATE_*`
/// environment variables (``variables(_:_:step:machine:recorded:)``). A hook that fails is recorded
/// (`hook_failed`) and reported as a warning; only a required one throws (``HookFailure``).
/// Hooks never run in a dry run (the dry run lists them: ``RunbookHooks/dryRunLines()``).
struct HookRunner {
    let runner: RunbookRunner
    let journal: JournalFile
    let runId: String
    /// Appends a run-level event (here `hook_failed`) to the journal.
    let record: (JournalEventKind, JSONObject) throws -> Void

    /// The variables this runner sets (an inherited variable of the same name is removed first).
    static let names = [
        "HOOK", "STATUS", "RUNBOOK", "JOURNAL", "RUN_ID", "HOST", "VERSION", "TIME", "STEP", "STEP_KIND", "ATTEMPT", "MESSAGE",
        "SESSIONS_READ", "SESSIONS_WRITTEN", "EVENTS_READ", "EVENTS_WRITTEN", "SKIPPED", "CONFLICTS", "KEPT", "PENDING_CONVERGE",
        "ERROR", "TRANSIENT", "WILL_RETRY", "RETRY", "RETRIES", "RETRY_IN_SECONDS",
    ].map { "SESSMIGRATE_" + $0 }

    /// Runs the hook of `moment`, if the runbook declares one. A step's start also runs `on_gate` when
    /// the step is a gate (it is about to run its command).
    ///
    /// - Throws: ``HookFailure`` when a required hook fails (after recording and reporting it).
    func fire(_ moment: HookMoment, _ status: HookStatus, step: StepSpec?, machine: JournalStateMachine) throws {
        try run(moment, status, step: step, machine: machine)
        if moment == .onStepStart, step?.kind == .gate { try run(.onGate, .started, step: step, machine: machine) }
    }

    private func run(_ moment: HookMoment, _ status: HookStatus, step: StepSpec?, machine: JournalStateMachine) throws {
        guard let spec = runner.document.hooks[moment] else { return }
        let started = HookProcess.monotonicSeconds()
        let failure = execute(spec, moment, status, step: step, machine: machine)
        let seconds = HookProcess.monotonicSeconds() - started
        guard let failure else {
            note("hook \(moment.rawValue) ran (\(String(format: "%.2f", seconds)) s)", step: step)
            return
        }
        var detail: JSONObject = ["hook": .string(moment.rawValue)]
        if let step { detail["step"] = .string(step.id) }
        detail["status"] = .string(status.rawValue)
        detail["required"] = .bool(spec.required)
        detail["error"] = .string(failure.reason)
        for (key, value) in failure.detail { detail[key] = value }
        detail["seconds"] = .string(PythonFloat.repr((seconds * 1000).rounded() / 1000))
        do {
            try record(.hookFailed, detail)
        } catch {
            note("warning: hook \(moment.rawValue): could not record hook_failed in the journal: \(error)", step: step)
        }
        let consequence = spec.required ? "it is required: the run stops" : "not required: the run goes on"
        note("warning: hook \(moment.rawValue)\(step.map { " (step '\($0.id)')" } ?? "") failed: \(failure.reason); \(consequence)", step: step)
        if spec.required { throw HookFailure(moment: moment, reason: failure.reason) }
    }

    /// Resolves and runs the hook's command, forwarding its output; why it failed (and the fields
    /// `hook_failed` records), or `nil` when it exited 0.
    private func execute(
        _ spec: HookSpec, _ moment: HookMoment, _ status: HookStatus, step: StepSpec?, machine: JournalStateMachine
    ) -> (reason: String, detail: JSONObject)? {
        do {
            let recorded = step.map { recordedDetails(of: $0.id) } ?? RecordedStep()
            var outputs = machine.outputs()  // and the step's own result, for `${steps.ID.KEY}` in on_step_done
            if let step, status == .done, let done = recorded.done { outputs[step.id] = done }
            let command = try runner.variables.substitute(spec.command, outputs: outputs)
            let environment = variables(moment, status, step: step, machine: machine, recorded: recorded)
            let outcome = try HookProcess.run(command, environment: environment, timeout: Double(spec.timeoutSeconds)) { line in
                note("hook \(moment.rawValue): \(StoreAddress.redactingAddresses(in: line))", step: step)
            }
            switch outcome {
            case .exited(0): return nil
            case .exited(let code): return ("exited with status \(code)", ["exit_status": .number(JSONNumber(Int(code)))])
            case .signaled(let signal): return ("killed by signal \(signal)", ["signal": .number(JSONNumber(Int(signal)))])
            case .timedOut:
                return ("timed out after \(spec.timeoutSeconds) s: its process group was sent SIGTERM, then SIGKILL", ["timed_out": .bool(true)])
            }
        } catch {
            return ("could not run: \(error)", [:])
        }
    }

    /// The hook's environment: the runner's own, with the `SESSMIGRATE_*` variables of the moment.
    func variables(
        _ moment: HookMoment, _ status: HookStatus, step: StepSpec?, machine: JournalStateMachine, recorded: RecordedStep
    ) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in Self.names { environment[name] = nil }
        func set(_ name: String, _ value: String?) {
            if let value { environment["SESSMIGRATE_" + name] = value }
        }
        let now = runner.environment.now()
        set("HOOK", moment.rawValue)
        set("STATUS", status.rawValue)
        set("RUNBOOK", runner.document.name)
        set("JOURNAL", URL(fileURLWithPath: runner.journalPath).standardizedFileURL.path)
        set("RUN_ID", runId)
        set("HOST", runner.environment.host())
        set("VERSION", runner.environment.toolVersion())
        set("TIME", PythonTime.naiveUTC(fromEpoch: now).replacingOccurrences(of: " ", with: "T") + "Z")
        if let step {
            set("STEP", step.id)
            set("STEP_KIND", step.kind.rawValue)
            set("ATTEMPT", String((machine.status(ofStep: step.id)?.attempts ?? 0) + 1))
            let counts = StepCounts(status == .done ? recorded.done : nil, checkpoint: recorded.checkpoint)
            for (name, value) in counts.variables { set(name, value) }
        }
        if status == .failed, let failed = recorded.failed {
            set("ERROR", Self.bounded(failed["error"]?.stringValue ?? "unknown error"))
            set("TRANSIENT", failed["transient"] == .bool(true) ? "true" : "false")
            let retry = failed["retry"].map { $0.serialized(.compact) }
            set("WILL_RETRY", retry == nil ? "false" : "true")
            set("RETRY", retry)
            set("RETRIES", String(runner.retry.retries))
            set("RETRY_IN_SECONDS", failed["retry_in_seconds"]?.stringValue)
        }
        set("MESSAGE", message(moment, status, step: step, environment: environment))
        return environment
    }

    /// One line for a person (a chat message, a page): what happened, where.
    func message(_ moment: HookMoment, _ status: HookStatus, step: StepSpec?, environment: [String: String]) -> String {
        func value(_ name: String) -> String? { environment["SESSMIGRATE_" + name] }
        let name = "runbook \(runner.document.name)"
        let what = step.map { $0.kind == .gate ? "gate '\($0.id)'" : "step '\($0.id)' (\($0.kind.rawValue))" } ?? "the run"
        let journal = "--journal \(runner.journalPath)"
        var text: String
        switch (moment, status) {
        case (.onGate, .waiting): text = "\(name): \(what) is waiting: `sessmigrate continue \(journal)` passes it"
        case (.onGate, _): text = "\(name): \(what) runs its command"
        case (_, .started): text = "\(name): \(what) started (attempt \(value("ATTEMPT") ?? "1"))"
        case (_, .failed):
            text = "\(name): \(what) failed (attempt \(value("ATTEMPT") ?? "1")): \(value("ERROR") ?? "unknown error")"
            if let retry = value("RETRY") {
                text += "; retry \(retry) of \(value("RETRIES") ?? "?") in \(value("RETRY_IN_SECONDS") ?? "?") s"
            } else {
                text += "; the run stops: fix the cause, then `sessmigrate resume \(journal)`"
            }
        case (_, .finished): text = "\(name): the run finished (\(runner.document.steps.count) steps)"
        default:
            text = "\(name): \(what) done"
            let counts = [
                ("SESSIONS_READ", "sessions read"), ("SESSIONS_WRITTEN", "written"), ("EVENTS_READ", "events"),
                ("SKIPPED", "skipped"), ("CONFLICTS", "conflicts"), ("PENDING_CONVERGE", "pending converge"),
            ]
            .compactMap { key, label in value(key).map { "\($0) \(label)" } }
            if !counts.isEmpty { text += ": " + counts.joined(separator: ", ") }
        }
        return Self.bounded(text)
    }

    /// Error text as a hook sees it: addresses with their password as `***`, one line, at most 1,000 characters.
    static func bounded(_ text: String) -> String {
        Printable.name(StoreAddress.redactingAddresses(in: text), limit: Printable.messageLimit)
    }

    private func note(_ text: String, step: StepSpec?) {
        runner.events(RunnerEvent(step: step?.id, event: .note(text)))
    }

    /// What the journal holds about one step: its latest `step_done` and `step_failed` details and
    /// its latest checkpoint (since it was last reopened).
    struct RecordedStep {
        var done: JSONObject?
        var failed: JSONObject?
        var checkpoint: JSONObject?
    }

    func recordedDetails(of id: String) -> RecordedStep {
        var recorded = RecordedStep()
        for event in (try? journal.events()) ?? [] where event.step == id {
            switch event.kind {
            case .stepDone: recorded.done = event.detail
            case .stepFailed: recorded.failed = event.detail
            case .checkpoint: recorded.checkpoint = event.detail
            case .stepReopened: recorded = RecordedStep()
            default: break
            }
        }
        return recorded
    }
}

/// The counts a step recorded, as hook variables: from its `step_done` detail when it is done, else
/// from its latest checkpoint (a copy's counters); a count the step does not record stays unset.
struct StepCounts {
    var read, written, events, eventsWritten, skipped, conflicts, kept, pending: String?

    init(_ done: JSONObject?, checkpoint: JSONObject?) {
        if let done {
            read = Self.number(done["read"] ?? done["sessions"])
            written = Self.number(done["written"])
            events = Self.number(done["events_read"] ?? done["events"])
            eventsWritten = Self.number(done["events_written"])
            skipped = Self.number(done["skipped_count"])
            conflicts = Self.number(done["conflicts"] ?? done["conflict_count"])
            kept = Self.number(done["kept_newer_target"] ?? done["kept_count"])
            pending = Self.number(done["pending_converge"])
        } else if let checkpoint {
            let copy = checkpoint["copy"]?.objectValue ?? checkpoint  // a converge pass holds its copy's checkpoint
            guard let summary = try? CopyCheckpoint(json: copy).summary else { return }
            let total = summary.total
            (read, written, events, eventsWritten) = (String(total.read), String(total.written), String(total.eventsRead), String(total.eventsWritten))
            (skipped, conflicts, kept) = (String(summary.skipped.count), String(summary.conflicts.count), String(summary.kept.count))
        }
    }

    /// The counts by variable name (without `SESSMIGRATE_`).
    var variables: [(String, String?)] {
        [
            ("SESSIONS_READ", read), ("SESSIONS_WRITTEN", written), ("EVENTS_READ", events), ("EVENTS_WRITTEN", eventsWritten),
            ("SKIPPED", skipped), ("CONFLICTS", conflicts), ("KEPT", kept), ("PENDING_CONVERGE", pending),
        ]
    }

    private static func number(_ value: JSONValue?) -> String? {
        guard case .number? = value, let value else { return nil }
        return value.serialized(.compact)
    }
}
