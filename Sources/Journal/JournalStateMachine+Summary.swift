import SessionModel

/// What `sessmigrate status` shows: every step, the next action, and a sentence saying what happens
/// next and how to continue.
public struct JournalSummary: Sendable, Hashable {
    /// Each step with its state, attempts and last checkpoint, in runbook order.
    public var steps: [StepStatus]
    /// The action the next `run`/`resume` takes.
    public var next: JournalAction
    /// One or two sentences: what happens next and the command that makes it happen.
    public var nextSentence: String

    /// One line per step (`step copy: running, 2 attempts, last checkpoint {…}`), then `next: …`.
    public var lines: [String] {
        steps.map(Self.line) + ["next: " + nextSentence]
    }

    private static func line(_ step: StepStatus) -> String {
        var text = "step \(step.id)" + (step.isGate ? " (gate)" : "") + ": " + step.state.label
        if step.attempts > 0 { text += step.attempts == 1 ? ", 1 attempt" : ", \(step.attempts) attempts" }
        if case .failed(let error, _) = step.state { text += ", error: " + error }
        if let checkpoint = step.lastCheckpoint { text += ", last checkpoint " + checkpoint.serialized(.compact) }
        if case .done(let detail) = step.state, !detail.isEmpty { text += ", result " + detail.serialized(.compact) }
        return text
    }
}

extension JournalStateMachine {
    /// The status report; the commands it suggests name `journalPath` (shell-quoted), or `J` when `nil`.
    public func statusReport(journalPath: String? = nil) -> JournalSummary {
        let next = nextAction()
        return JournalSummary(steps: steps, next: next, nextSentence: sentence(for: next, journalPath: journalPath))
    }

    /// The status report as lines for `sessmigrate status` (see ``JournalSummary/lines``).
    public func summary(journalPath: String? = nil) -> [String] {
        statusReport(journalPath: journalPath).lines
    }

    private func sentence(for action: JournalAction, journalPath: String?) -> String {
        let journal = "--journal " + (journalPath.map(JournalError.shellQuoted) ?? "J")
        let resume = "`sessmigrate resume \(journal)`"
        switch action {
        case .start:
            return "The run has not started yet; \(resume) starts it at the first step."
        case .finished:
            return "The run is finished; running or resuming it again changes nothing."
        case .waitAtGate(let id):
            return "The run is waiting at gate \(id) for the operator. When it is safe to go on, run "
                + "`sessmigrate continue \(journal)`; if no runner is still waiting, follow it with \(resume)."
        case .passGate(let id):
            return "Continue was requested at gate \(id); the waiting runner passes it now, or \(resume) does "
                + "if that runner is gone."
        case .runStep(let id, let checkpoint):
            return runStepSentence(id: id, checkpoint: checkpoint, resume: resume)
        }
    }

    private func runStepSentence(id: String, checkpoint: JSONObject?, resume: String) -> String {
        guard let step = status(ofStep: id) else { return "Next, step \(id) runs: \(resume)." }
        let from =
            checkpoint == nil
            ? "from its start (its writes are idempotent, so repeating them is harmless)"
            : "from its last checkpoint (at most one batch is repeated, harmlessly)"
        switch step.state {
        case .failed(let error, _):
            return "Step \(id) failed (attempt \(step.attempts)): \(error). Fix the cause, then \(resume) "
                + "retries it \(from)."
        case .running:
            return "Step \(id) started (attempt \(step.attempts)) and has not finished: it is running now, or it "
                + "was interrupted. If no runner holds the journal, \(resume) runs it again \(from)."
        default:
            return step.isGate
                ? "Next, gate \(id) is reached; \(resume) goes on to it."
                : "Next, step \(id) runs; \(resume) goes on."
        }
    }
}
