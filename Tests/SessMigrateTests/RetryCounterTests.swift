import DriverCore
import Testing

@testable import SessMigrate

/// The one retry counter (a runbook step's retries and the command line's), without I/O.
@Suite struct RetryCounterTests {
    typealias Fault = RetryTests.Fault

    @Test func retriesTransientFaultsUpToTheBoundThenStops() {
        var counter = RetryCounter(policy: RetryPolicy(retries: 2))
        let lost = Fault(code: .connectionFailed)
        #expect(counter.decide(after: lost, progress: 0) == .retry(RetryNotice(retry: 1, of: 2, delay: 0.5, error: "fault connection failed")))
        #expect(counter.decide(after: lost, progress: 0) == .retry(RetryNotice(retry: 2, of: 2, delay: 1, error: "fault connection failed")))
        #expect(counter.decide(after: lost, progress: 0) == .exhausted(retries: 2))
    }

    @Test func aCheckpointBetweenFaultsStartsANewCount() {
        var counter = RetryCounter(policy: RetryPolicy(retries: 1))
        let timeout = Fault(code: .timeout)
        guard case .retry = counter.decide(after: timeout, progress: 3) else { Issue.record("expected a retry"); return }
        guard case .retry = counter.decide(after: timeout, progress: 5) else { Issue.record("expected a retry"); return }
        #expect(counter.decide(after: timeout, progress: 5) == .exhausted(retries: 1))
        counter.succeeded()
        guard case .retry = counter.decide(after: timeout, progress: 5) else { Issue.record("expected a retry"); return }
    }

    @Test func otherErrorsStopAtOnce() {
        var counter = RetryCounter(policy: RetryPolicy(retries: 5))
        #expect(counter.decide(after: Fault(code: .authentication), progress: 0) == .fatal)
        #expect(counter.decide(after: AddressError("not a fault of the servers"), progress: 0) == .fatal)
    }
}
