import DriverCore
import SessMigrate
import Testing

@testable import Runbook

/// The runner's retry decisions for a step, without I/O.
@Suite struct StepRetryCounterTests {
    struct Fault: DriverError {
        var code: DriverErrorCode
        var description: String { "fault \(code)" }
        var debugDescription: String { description }
    }

    @Test func retriesTransientFaultsUpToTheBoundThenStops() {
        var counter = StepRetryCounter(policy: RetryPolicy(retries: 2))
        let lost = Fault(code: .connectionFailed)
        #expect(counter.decide(after: lost, checkpoints: 0) == .retry(RetryNotice(retry: 1, of: 2, delay: 0.5, error: "fault connection failed")))
        #expect(counter.decide(after: lost, checkpoints: 0) == .retry(RetryNotice(retry: 2, of: 2, delay: 1, error: "fault connection failed")))
        #expect(counter.decide(after: lost, checkpoints: 0) == .exhausted(retries: 2))
    }

    @Test func aCheckpointBetweenFaultsStartsANewCount() {
        var counter = StepRetryCounter(policy: RetryPolicy(retries: 1))
        let timeout = Fault(code: .timeout)
        guard case .retry = counter.decide(after: timeout, checkpoints: 3) else { Issue.record("expected a retry"); return }
        guard case .retry = counter.decide(after: timeout, checkpoints: 5) else { Issue.record("expected a retry"); return }
        #expect(counter.decide(after: timeout, checkpoints: 5) == .exhausted(retries: 1))
        counter.stepSucceeded()
        guard case .retry = counter.decide(after: timeout, checkpoints: 5) else { Issue.record("expected a retry"); return }
    }

    @Test func otherErrorsStopAtOnce() {
        var counter = StepRetryCounter(policy: RetryPolicy(retries: 5))
        #expect(counter.decide(after: Fault(code: .authentication), checkpoints: 0) == .fatal)
        #expect(counter.decide(after: StepFailure("verify found differences"), checkpoints: 0) == .fatal)
    }
}
