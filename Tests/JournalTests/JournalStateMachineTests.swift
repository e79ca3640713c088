import DriverCore
import Journal
import SessionModel
import Testing

/// Transcripts: each test records events one by one, as a runner would, and asks the machine
/// (replaying the whole log, as a resume does) what happens next.
@Suite struct JournalStateMachineTests {
    @Test func freshJournalStartsThenRunsTheFirstStep() throws {
        var log = Transcript()
        #expect(try log.next() == .start)
        #expect(try !log.machine().isFinished)
        log.record(.runStarted)
        #expect(try log.next() == .runStep("preflight", resumeFrom: nil))
        #expect(try log.machine().steps.map(\.state) == Array(repeating: .pending, count: runbookSteps.count))
        #expect(try log.machine().runId == "run-1")
    }

    @Test func crashAfterStepStartedRunsTheStepAgainFromScratch() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "copy")
        #expect(try log.next() == .runStep("copy", resumeFrom: nil))
        let copy = try #require(try log.machine().status(ofStep: "copy"))
        #expect(copy.state == .running(lastCheckpoint: nil))
        #expect(copy.attempts == 1)
    }

    @Test func crashAfterCheckpointResumesFromThatCheckpoint() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "copy")
        for batch in 1...3 {
            log.record(.checkpoint, "copy", checkpoint(batch))
            #expect(try log.next() == .runStep("copy", resumeFrom: checkpoint(batch)))
        }
        // The resumed attempt dies before its first checkpoint: still from checkpoint 3.
        log.record(.runStarted)
        log.record(.stepStarted, "copy")
        #expect(try log.next() == .runStep("copy", resumeFrom: checkpoint(3)))
        #expect(try log.machine().status(ofStep: "copy")?.attempts == 2)
        log.record(.checkpoint, "copy", checkpoint(4))
        #expect(try log.next() == .runStep("copy", resumeFrom: checkpoint(4)))
        // Killed between the last checkpoint and step_done: the last batch is repeated, nothing more.
        log.record(.stepDone, "copy", ["sessions": .number(JSONNumber(400))])
        #expect(try log.next() == .runStep("verify", resumeFrom: nil))
        #expect(try log.machine().status(ofStep: "copy")?.lastCheckpoint == checkpoint(4))
    }

    @Test func failedStepIsRetriedFromItsLastCheckpoint() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "copy")
        log.record(.checkpoint, "copy", checkpoint(1))
        log.record(.stepFailed, "copy", ["error": .string("mysql: connection failed")])
        #expect(try log.next() == .runStep("copy", resumeFrom: checkpoint(1)))
        let failed = try #require(try log.machine().status(ofStep: "copy"))
        #expect(failed.state == .failed(error: "mysql: connection failed", lastCheckpoint: checkpoint(1)))
        log.record(.runStarted)
        log.record(.stepStarted, "copy")
        #expect(try log.next() == .runStep("copy", resumeFrom: checkpoint(1)))
        log.record(.stepDone, "copy")
        #expect(try log.next() == .runStep("verify", resumeFrom: nil))
        #expect(try log.machine().status(ofStep: "copy")?.attempts == 2)
    }

    @Test func gateWaitsUntilContinueThenPasses() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy", "verify")
        #expect(try log.next() == .runStep("flip", resumeFrom: nil))
        log.record(.stepStarted, "flip")
        log.record(.gateWaiting, "flip")
        #expect(try log.next() == .waitAtGate("flip"))
        #expect(try log.machine().status(ofStep: "flip")?.state == .waitingAtGate(continueRequested: false))
        log.record(.continueRequested, "flip")
        #expect(try log.next() == .passGate("flip"))
        log.record(.gatePassed, "flip")
        #expect(try log.next() == .runStep("converge", resumeFrom: nil))
        #expect(try log.machine().status(ofStep: "flip")?.state == .gatePassed)
    }

    @Test func gateWaitingAgainAfterContinueWaitsAgain() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy", "verify")
        log.record(.gateWaiting, "flip")
        log.record(.continueRequested, "flip")
        log.record(.stepFailed, "flip", ["error": .string("flip command exited with status 1")])
        #expect(try log.next() == .runStep("flip", resumeFrom: nil))
        log.record(.gateWaiting, "flip")
        #expect(try log.next() == .waitAtGate("flip"))
    }

    @Test func finishedRunStaysFinished() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy")
        log.record(.stepSkipped, "verify")
        log.record(.gatePassed, "flip")
        log.record(.stepStarted, "converge")
        log.record(.stepDone, "converge")
        // All steps complete: finished even before run_finished is recorded.
        #expect(try log.next() == .finished)
        log.record(.runFinished)
        let machine = try log.machine()
        #expect(machine.nextAction() == .finished)
        #expect(machine.isFinished)
        #expect(machine.isRunFinishedRecorded)
        // A lock broken afterwards, or a re-run that found nothing to do, changes nothing.
        log.record(.lockBroken)
        log.runId = "run-2"
        log.record(.runStarted)
        #expect(try log.next() == .finished)
        #expect(try log.machine().runId == "run-1")
    }

    @Test func laterStepReadsTheWatermarkOfAnEarlierOne() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.record(.stepStarted, "preflight")
        log.record(.stepDone, "preflight", ["watermark": .number(JSONNumber(1_700_000_123.5))])
        let machine = try log.machine()
        #expect(machine.detail(ofStep: "preflight")?["watermark"] == .number(JSONNumber(1_700_000_123.5)))
        #expect(machine.detail(ofStep: "copy") == nil)
        #expect(machine.detail(ofStep: "no-such-step") == nil)
    }

    @Test func applyingEventsOneByOneMatchesReplay() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "copy")
        log.record(.checkpoint, "copy", checkpoint(1))
        var machine = try JournalStateMachine(stepIDs: runbookSteps, gateStepIDs: runbookGates, events: [])
        for event in log.events { try machine.apply(event) }
        #expect(machine == (try log.machine()))
    }

    @Test func journalStepTheRunbookLacksIsDrift() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "snapshot-redis")
        let error = try #require(throws: JournalError.self) { try log.machine() }
        #expect(error.code == .unsupported)
        #expect(error.message.contains("snapshot-redis"))
    }

    @Test func gateEventsOnAStepThatIsNoLongerAGateAreDrift() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy", "verify")
        log.record(.gateWaiting, "flip")
        let error = try #require(throws: JournalError.self) { try log.machine(gates: []) }
        #expect(error.code == .unsupported)
    }

    @Test func reorderedRunbookIsRefused() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy")
        // A runbook that now has "verify" before "copy".
        let steps = ["preflight", "verify", "copy", "flip", "converge"]
        #expect(throws: JournalError.self) { try log.machine(steps: steps) }
    }

    @Test func duplicateStepIDsAreRefused() {
        #expect(throws: JournalError.self) {
            try JournalStateMachine(stepIDs: ["copy", "copy"], gateStepIDs: [], events: [])
        }
    }

    /// Logs that no runner writes; each must be refused, never guessed at.
    @Test(arguments: [
        "seq goes back", "step before run_started", "checkpoint before step_started", "event after step_done",
        "continue without a waiting gate", "gate passed without continue", "event after run_finished",
        "later step before an earlier one finished",
    ])
    func eventsOutOfOrderAreRefused(_ scenario: String) throws {
        var log = Transcript()
        if scenario != "step before run_started" { log.record(.runStarted) }
        switch scenario {
        case "seq goes back":
            log.record(.stepStarted, "preflight")
            let events = log.events.reversed()
            #expect(throws: JournalError.self) {
                try JournalStateMachine(stepIDs: runbookSteps, gateStepIDs: runbookGates, events: Array(events))
            }
            return
        case "step before run_started": log.record(.stepStarted, "preflight")
        case "checkpoint before step_started": log.record(.checkpoint, "preflight", checkpoint(1))
        case "event after step_done":
            log.complete("preflight")
            log.record(.checkpoint, "preflight", checkpoint(1))
        case "continue without a waiting gate":
            log.complete("preflight", "copy", "verify")
            log.record(.continueRequested, "flip")
        case "gate passed without continue":
            log.complete("preflight", "copy", "verify")
            log.record(.gateWaiting, "flip")
            log.record(.gatePassed, "flip")
        case "event after run_finished":
            log.record(.runFinished)
            log.record(.stepStarted, "preflight")
        default:
            log.record(.stepStarted, "preflight")
            log.record(.stepStarted, "copy")
        }
        let error = try #require(throws: JournalError.self) { try log.machine() }
        #expect(error.code == .corrupt)
    }
}
