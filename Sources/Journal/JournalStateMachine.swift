import DriverCore
import SessionModel

/// What the runner should do next, as decided from the journal.
public enum JournalAction: Sendable, Hashable {
    /// No run has started: append `run_started`, then ask again.
    case start
    /// Run this step: from scratch when `resumeFrom` is `nil`, otherwise from that checkpoint (the
    /// step was interrupted or failed after committing it). A gate step in this position records
    /// `gate_waiting` (or runs its command and records `gate_passed`).
    case runStep(String, resumeFrom: JSONObject?)
    /// The gate is waiting for `sessmigrate continue`.
    case waitAtGate(String)
    /// The operator continued: pass the gate (run its command if any) and record `gate_passed`.
    case passGate(String)
    /// Nothing is left to do.
    case finished
}

/// Where one step stands after replaying the journal.
public enum StepState: Sendable, Hashable {
    /// No event yet.
    case pending
    /// Started and not finished: running now, or interrupted (crash, kill) after its last checkpoint.
    case running(lastCheckpoint: JSONObject?)
    /// Finished; `detail` is its `step_done` result.
    case done(detail: JSONObject)
    /// The last attempt failed; the next one resumes from `lastCheckpoint`.
    case failed(error: String, lastCheckpoint: JSONObject?)
    /// Skipped: nothing to do.
    case skipped
    /// A gate waiting for the operator; `continueRequested` once `sessmigrate continue` was recorded.
    case waitingAtGate(continueRequested: Bool)
    /// A gate that was passed; complete, like `done`.
    case gatePassed

    /// True for done, skipped and passed gates: the run may go past this step.
    public var isComplete: Bool {
        switch self {
        case .done, .skipped, .gatePassed: true
        default: false
        }
    }

    /// A short label: `pending`, `running`, `done`, `failed`, `skipped`, `waiting at gate`,
    /// `continue requested`, `gate passed`.
    public var label: String {
        switch self {
        case .pending: "pending"
        case .running: "running"
        case .done: "done"
        case .failed: "failed"
        case .skipped: "skipped"
        case .waitingAtGate(let continueRequested): continueRequested ? "continue requested" : "waiting at gate"
        case .gatePassed: "gate passed"
        }
    }
}

/// One runbook step as the journal describes it.
public struct StepStatus: Sendable, Hashable {
    /// The step id.
    public var id: String
    /// True when the runbook declares the step a gate.
    public var isGate: Bool
    /// Where the step stands.
    public var state: StepState
    /// How many times it was started (`step_started` events).
    public var attempts: Int
    /// The detail of its latest checkpoint, kept after it finishes; `nil` when it never checkpointed.
    public var lastCheckpoint: JSONObject?
}

/// The pure decision logic of a journaled run: replays a journal's events against the runbook's
/// steps and says what happens next. No I/O; the runner carries out the returned ``JournalAction``s
/// and appends the events that record them.
///
/// There is no "dry run" state: a dry run never writes to the journal, so a journal only ever holds
/// what really happened and a resume can never mistake a plan for progress.
public struct JournalStateMachine: Sendable, Hashable {
    /// The steps in runbook order.
    public private(set) var steps: [StepStatus]
    /// The run id of the latest `run_started`, `nil` before the first.
    public private(set) var runId: String?
    /// True once a `run_finished` event was recorded.
    public private(set) var isRunFinishedRecorded = false
    private var indexByID: [String: Int] = [:]
    private var lastSeq: Int64 = .min

    /// Replays `events` (oldest first) over the runbook's steps.
    ///
    /// - Throws: ``JournalError`` when the journal names a step the runbook lacks or records gate
    ///   events for a step the runbook does not declare a gate (the runbook changed, as GRDB's
    ///   `hasSchemaChanges`), or when events are out of order: `seq` not increasing, step events
    ///   (or `run_finished`) before `run_started`, step events after `run_finished`, a step's events before the previous step
    ///   completed, or a transition its state does not allow (a checkpoint before `step_started`,
    ///   anything after `step_done`).
    public init(stepIDs: [String], gateStepIDs: Set<String>, events: [JournalEvent]) throws {
        steps = []
        for (index, id) in stepIDs.enumerated() {
            guard indexByID.updateValue(index, forKey: id) == nil else {
                throw JournalError(code: .unsupported, message: "the runbook has step \(id) twice")
            }
            steps.append(StepStatus(id: id, isGate: gateStepIDs.contains(id), state: .pending, attempts: 0))
        }
        for event in events { try apply(event) }
    }

    /// Records one more event, exactly as replaying it in ``init(stepIDs:gateStepIDs:events:)`` would,
    /// so a runner can keep its machine current after each append.
    public mutating func apply(_ event: JournalEvent) throws {
        guard event.seq > lastSeq else {
            throw JournalError.outOfOrder("event \(event.seq) (\(event.kind.rawValue)) follows event \(lastSeq)")
        }
        lastSeq = event.seq
        switch event.kind {
        case .lockBroken, .hookFailed:
            return  // reports only: they change no step's state and may come at any point
        case .runStarted:
            // After run_finished, a run_started (a re-run that found nothing to do) changes nothing.
            if !isRunFinishedRecorded { runId = event.runId }
        case .runFinished:
            guard runId != nil else { throw JournalError.outOfOrder("run_finished (event \(event.seq)) before run_started") }
            isRunFinishedRecorded = true
        default:
            let index = try stepIndex(for: event)
            try Self.transition(&steps[index], with: event)
        }
    }

    /// What to do next: ``JournalAction/start`` before any run, the first incomplete step's action,
    /// or ``JournalAction/finished`` when every step is complete or `run_finished` was recorded.
    public func nextAction() -> JournalAction {
        guard runId != nil else { return .start }
        if isRunFinishedRecorded { return .finished }
        for step in steps {
            switch step.state {
            case .done, .skipped, .gatePassed: continue
            case .pending: return .runStep(step.id, resumeFrom: nil)
            case .running(let checkpoint): return .runStep(step.id, resumeFrom: checkpoint)
            case .failed(_, let checkpoint): return .runStep(step.id, resumeFrom: checkpoint)
            case .waitingAtGate(let continueRequested): return continueRequested ? .passGate(step.id) : .waitAtGate(step.id)
            }
        }
        return .finished
    }

    /// True when ``nextAction()`` is ``JournalAction/finished``: re-running writes nothing.
    public var isFinished: Bool { nextAction() == .finished }

    /// The `step_done` detail of step `id` (e.g. a `watermark` a later step reads), `nil` unless it is done.
    public func detail(ofStep id: String) -> JSONObject? {
        guard let index = indexByID[id], case .done(let detail) = steps[index].state else { return nil }
        return detail
    }

    /// The `step_done` details of every done step, by step id: what later steps may refer to.
    public func outputs() -> [String: JSONObject] {
        var outputs: [String: JSONObject] = [:]
        for step in steps {
            if case .done(let detail) = step.state { outputs[step.id] = detail }
        }
        return outputs
    }

    /// The step's status, `nil` when the runbook has no such step.
    public func status(ofStep id: String) -> StepStatus? {
        indexByID[id].map { steps[$0] }
    }

    // MARK: - Replay

    private func stepIndex(for event: JournalEvent) throws -> Int {
        let kind = event.kind.rawValue
        guard runId != nil else { throw JournalError.outOfOrder("\(kind) (event \(event.seq)) before run_started") }
        guard !isRunFinishedRecorded else { throw JournalError.outOfOrder("\(kind) (event \(event.seq)) after run_finished") }
        guard let id = event.step else { throw JournalError.outOfOrder("\(kind) (event \(event.seq)) names no step") }
        guard let index = indexByID[id] else {
            throw JournalError.drift("the journal has step \(id) (event \(event.seq)) that the runbook lacks")
        }
        if event.kind.isGateEvent, !steps[index].isGate {
            throw JournalError.drift("step \(id) is a gate in the journal (event \(event.seq)) but not in the runbook")
        }
        if let earlier = steps[..<index].first(where: { !$0.state.isComplete }) {
            throw JournalError.outOfOrder(
                "step \(id) has \(kind) (event \(event.seq)) while the earlier step \(earlier.id) is \(earlier.state.label); "
                    + "were the runbook's steps reordered?")
        }
        return index
    }

    private static func transition(_ step: inout StepStatus, with event: JournalEvent) throws {
        switch (event.kind, step.state) {
        case (.stepStarted, .pending), (.stepStarted, .running), (.stepStarted, .failed):
            step.attempts += 1
            step.state = .running(lastCheckpoint: step.lastCheckpoint)
        case (.checkpoint, .running):
            step.lastCheckpoint = event.detail
            step.state = .running(lastCheckpoint: event.detail)
        case (.stepReopened, .done):
            step.state = .pending
            step.lastCheckpoint = nil
        case (.sessionsKept, .running), (.sessionsSkipped, .running), (.sessionsConflicted, .running):
            break  // reports only; the checkpoint that follows carries the counts
        case (.stepDone, .running), (.stepDone, .gatePassed):
            step.state = .done(detail: event.detail)
        case (.stepFailed, .pending), (.stepFailed, .running), (.stepFailed, .waitingAtGate):
            step.state = .failed(error: errorText(event.detail), lastCheckpoint: step.lastCheckpoint)
        case (.stepSkipped, .pending), (.stepSkipped, .running), (.stepSkipped, .failed):
            step.state = .skipped
        case (.gateWaiting, .pending), (.gateWaiting, .running), (.gateWaiting, .failed), (.gateWaiting, .waitingAtGate):
            step.state = .waitingAtGate(continueRequested: false)
        case (.continueRequested, .waitingAtGate):
            step.state = .waitingAtGate(continueRequested: true)
        case (.gatePassed, .pending), (.gatePassed, .running), (.gatePassed, .waitingAtGate(continueRequested: true)):
            step.state = .gatePassed
        default:
            throw JournalError.outOfOrder(
                "step \(step.id) has \(event.kind.rawValue) (event \(event.seq)) while it is \(step.state.label)")
        }
    }

    /// `detail["error"]` when it is a string, else the whole detail as compact JSON.
    private static func errorText(_ detail: JSONObject) -> String {
        if let text = detail["error"]?.stringValue { return text }
        return detail.isEmpty ? "unknown error" : detail.serialized(.compact)
    }
}
