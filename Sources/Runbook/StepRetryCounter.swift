import SessMigrate

/// Counts a runbook step's transient faults in a row and decides, from the error alone, whether the
/// runner retries the step (no I/O: tested on its own). A failure after the step committed another
/// checkpoint starts a new count, as ``Retrier`` does for a plain copy.
struct StepRetryCounter {
    enum Decision: Equatable {
        /// Record the fault, wait `notice.delay` and run the step again from its last checkpoint.
        case retry(RetryNotice)
        /// A transient fault, but `policy.retries` in a row already failed: stop, resumable.
        case exhausted(retries: Int)
        /// Not a transient fault: stop.
        case fatal
    }

    let policy: RetryPolicy
    private var failuresInARow = 0
    private var checkpointsAtLastFailure = 0

    init(policy: RetryPolicy) {
        self.policy = policy
    }

    /// The step finished: the next step starts a new count.
    mutating func stepSucceeded() {
        failuresInARow = 0
    }

    /// What to do after the step threw `error`, `checkpoints` being the number of checkpoints the
    /// run has recorded so far.
    mutating func decide(after error: any Error, checkpoints: Int) -> Decision {
        guard let cause = transientCause(of: error) else { return .fatal }
        if checkpoints != checkpointsAtLastFailure { failuresInARow = 0 }
        checkpointsAtLastFailure = checkpoints
        failuresInARow += 1
        guard failuresInARow <= policy.retries else { return .exhausted(retries: policy.retries) }
        let delay = policy.delay(beforeRetry: failuresInARow)
        return .retry(RetryNotice(retry: failuresInARow, of: policy.retries, delay: delay, error: cause.description))
    }
}
