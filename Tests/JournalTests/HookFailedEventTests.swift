import DriverCore
import Journal
import SessionModel
import Testing

/// `hook_failed` (a runbook hook failed) is a run-level report: accepted at any point of a run,
/// even before `run_started` and after `run_finished`, and it changes no step's state.
@Suite struct HookFailedEventTests {
    static let detail: JSONObject = ["hook": .string("on_step_done"), "step": .string("copy"), "required": .bool(false)]

    @Test func isRunLevel() {
        #expect(!JournalEventKind.hookFailed.isStepEvent)
        #expect(!JournalEventKind.hookFailed.isGateEvent)
        #expect(JournalEventKind(rawValue: "hook_failed") == .hookFailed)
    }

    @Test func isAcceptedAtAnyPointAndChangesNothing() throws {
        var log = Transcript()
        var plain = Transcript()
        func both(_ kind: JournalEventKind, _ step: String? = nil) {
            log.record(kind, step)
            plain.record(kind, step)
        }
        log.record(.hookFailed, nil, Self.detail)  // before run_started
        both(.runStarted)
        both(.stepStarted, "preflight")
        log.record(.hookFailed, nil, Self.detail)  // while a step runs
        both(.stepDone, "preflight")
        log.record(.hookFailed, nil, Self.detail)  // between steps
        #expect(try log.machine().steps == plain.machine().steps)
        #expect(try log.next() == plain.next())
        for step in runbookSteps.dropFirst() {
            if runbookGates.contains(step) {
                both(.gatePassed, step)
                both(.stepDone, step)
            } else {
                both(.stepStarted, step)
                both(.stepDone, step)
            }
        }
        both(.runFinished)
        log.record(.hookFailed, nil, Self.detail)  // after run_finished (an on_done hook)
        #expect(try log.machine().isFinished)
        #expect(try log.machine().steps == plain.machine().steps)
    }
}
