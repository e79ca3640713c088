import DriverCore
import MySQLDriver
import RedisDriver
import Testing

@testable import SessMigrate

/// The retry policy and loop, without I/O: faults are thrown by the test, waits are recorded.
@Suite struct RetryTests {
    struct Fault: DriverError {
        var code: DriverErrorCode
        var description: String { "fault \(code)" }
        var debugDescription: String { description }
    }

    @Test func delaysDoubleUpToTheCap() {
        let policy = RetryPolicy(retries: 6, firstDelay: 0.5, maxDelay: 8)
        #expect((1...7).map(policy.delay(beforeRetry:)) == [0.5, 1, 2, 4, 8, 8, 8])
    }

    @Test func transientFaultsAreRetriedUntilSuccess() throws {
        var waits: [Double] = []
        var notices: [RetryNotice] = []
        var retrier = Retrier(policy: RetryPolicy(retries: 3))
        retrier.clock.sleep = { waits.append($0) }
        let value = try retrier.run(notify: { notices.append($0) }) { attempt -> Int in
            if attempt < 2 { throw Fault(code: .connectionFailed) }
            return attempt
        }
        #expect(value == 2)
        #expect(waits == [0.5, 1])
        #expect(notices.map(\.retry) == [1, 2])
        #expect(notices.allSatisfy { $0.of == 3 && $0.error == "fault connection failed" })
    }

    @Test func nonTransientErrorsPassThroughAtOnce() {
        var attempts = 0
        var retrier = Retrier(policy: RetryPolicy(retries: 5))
        retrier.clock.sleep = { _ in Issue.record("must not wait") }
        #expect(throws: Fault.self) {
            try retrier.run { _ -> Int in
                attempts += 1
                throw Fault(code: .authentication)
            }
        }
        #expect(attempts == 1)
    }

    @Test func givesUpAfterTheBoundWithTheCause() {
        var attempts = 0
        var retrier = Retrier(policy: RetryPolicy(retries: 2))
        retrier.clock.sleep = { _ in }
        do {
            _ = try retrier.run { _ -> Int in
                attempts += 1
                throw CopyError(source: "a", target: "b", underlying: Fault(code: .timeout))
            }
            Issue.record("expected an error")
        } catch let error as RetriesExhaustedError {
            #expect(error.retries == 2)
            #expect(String(describing: error).contains("still failing after 2 retries"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(attempts == 3)
    }

    @Test func progressStartsANewRunOfRetries() throws {
        var progress = 0
        var waits: [Double] = []
        var retrier = Retrier(policy: RetryPolicy(retries: 2))
        retrier.clock.sleep = { waits.append($0) }
        // Five faults in all, never more than two in a row without progress in between.
        let value = try retrier.run(progressMarker: { progress }) { attempt -> Int in
            if attempt == 5 { return attempt }
            if attempt % 2 == 1 { progress += 1 }
            throw Fault(code: .connectionFailed)
        }
        #expect(value == 5)
        #expect(waits == [0.5, 0.5, 1, 0.5, 1])
    }

    @Test func whichFaultsAreTransient() {
        #expect(MySQLError(code: .query, errorNumber: 1213, message: "deadlock").isTransient)
        #expect(MySQLError(code: .timeout, errorNumber: 1205, message: "lock wait").isTransient)
        #expect(MySQLError(code: .query, errorNumber: 1927, message: "killed").isTransient)
        #expect(MySQLError(code: .connectionFailed, errorNumber: 2013, message: "lost").isTransient)
        #expect(!MySQLError(code: .authentication, errorNumber: 1045, message: "denied").isTransient)
        #expect(!MySQLError(code: .constraint, errorNumber: 1062, message: "dup").isTransient)
        #expect(!SessionDataError(store: "redis", location: "session:a", message: "bad").isTransient)
        #expect(isServerNotReady(MySQLError(code: .query, errorNumber: 1213, message: "deadlock")))
        #expect(!isServerNotReady(MySQLError(code: .connectionFailed, errorNumber: 2003, message: "refused")))
    }
}
