import DriverCore
import Foundation

/// How many times, and how patiently, work is retried after a transient fault (a server restarted,
/// a connection killed, `LOADING`/`BUSY`, a deadlock or a lock wait timeout).
///
/// The count is of failures in a row: a retried copy that commits a batch again has made
/// progress, so its next fault starts from the first delay again. A run that keeps failing without
/// progress stops after `retries` retries, about `firstDelay × 2^retries` seconds in all (capped per
/// wait at `maxDelay`): 0.5 + 1 + 2 + 4 + 8 + 8 = 23.5 s with the defaults, longer than a MariaDB
/// or Redis restart takes.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after consecutive failures; 0 never retries.
    public var retries: Int
    /// Seconds before the first retry; each further retry waits twice as long.
    public var firstDelay: Double
    /// The longest single wait, in seconds.
    public var maxDelay: Double

    public init(retries: Int = 6, firstDelay: Double = 0.5, maxDelay: Double = 8) {
        self.retries = max(0, retries)
        self.firstDelay = max(0, firstDelay)
        self.maxDelay = max(self.firstDelay, maxDelay)
    }

    /// Never retries.
    public static let none = RetryPolicy(retries: 0)

    /// Seconds to wait before retry number `retry` (1-based) of a run of failures.
    public func delay(beforeRetry retry: Int) -> Double {
        min(maxDelay, firstDelay * pow(2, Double(max(0, retry - 1))))
    }
}

/// A transient fault that is about to be retried, for progress output and journals.
public struct RetryNotice: Sendable, Hashable, CustomStringConvertible {
    /// 1-based number of this retry in the current run of failures.
    public var retry: Int
    /// The policy's bound.
    public var of: Int
    /// Seconds until the retry.
    public var delay: Double
    /// The fault (redacted like every error).
    public var error: String

    public init(retry: Int, of: Int, delay: Double, error: String) {
        self.retry = retry
        self.of = of
        self.delay = delay
        self.error = error
    }

    public var description: String {
        "transient fault (\(error)); retry \(retry) of \(of) in \(String(format: "%.1f", delay)) s, from the last committed batch"
    }
}

/// Work that failed on transient faults more times in a row than the policy allows.
public struct RetriesExhaustedError: Error, CustomStringConvertible {
    public var retries: Int
    public var underlying: any Error

    public var description: String {
        "\(underlying) (still failing after \(retries) retries; everything committed so far is complete and kept)"
    }
}

/// The driver error behind `error`, looking through the wrappers jobs add (``CopyError``,
/// ``RetriesExhaustedError``, and any ``DriverErrorWrapping``), if it is transient.
public func transientCause(of error: any Error) -> (any DriverError)? {
    if let driver = error as? any DriverError { return driver.isTransient ? driver : nil }
    if let wrapping = error as? any DriverErrorWrapping, let inner = wrapping.wrappedError { return transientCause(of: inner) }
    return nil
}

/// True for a fault from a server that is there but not ready (each driver says which of its
/// errors are: Redis `LOADING`/`BUSY`, MariaDB shutting down or a deadlock, …). Worth waiting for
/// even before the first successful connection, unlike a refused or unreachable connection, which
/// at the start is usually a wrong address and is reported at once.
public func isServerNotReady(_ error: any Error) -> Bool {
    transientCause(of: error)?.isServerNotReady ?? false
}

/// An error that carries another one (the cause, for ``transientCause(of:)``).
public protocol DriverErrorWrapping: Error {
    var wrappedError: (any Error)? { get }
}

extension CopyError: DriverErrorWrapping {
    public var wrappedError: (any Error)? { underlying }
}

extension StoreError: DriverErrorWrapping {
    public var wrappedError: (any Error)? { underlying }
}

/// Counts transient faults in a row and decides, from the error alone, whether to retry (no I/O:
/// tested on its own). The command line's retry loop (``Retrier``) and the runbook runner's step
/// retries both use it. A failure after the work committed more progress (a checkpoint, a batch)
/// starts a new count.
public struct RetryCounter: Sendable {
    public enum Decision: Equatable, Sendable {
        /// Wait `notice.delay` and run the work again from its last checkpoint.
        case retry(RetryNotice)
        /// A transient fault, but `policy.retries` in a row already failed: stop, resumable.
        case exhausted(retries: Int)
        /// Not a transient fault: stop.
        case fatal
    }

    public let policy: RetryPolicy
    private var failuresInARow = 0
    private var progressAtLastFailure: Int

    /// - Parameter progress: the progress marker before the work starts.
    public init(policy: RetryPolicy, progress: Int = 0) {
        self.policy = policy
        self.progressAtLastFailure = progress
    }

    /// The work (or a runbook step) finished: the next one starts a new count.
    public mutating func succeeded() {
        failuresInARow = 0
    }

    /// What to do after the work threw `error`, `progress` being its progress marker now (a count
    /// of committed batches or checkpoints). `retryable` narrows which transient faults count.
    public mutating func decide(after error: any Error, progress: Int, retryable: (any Error) -> Bool = { _ in true }) -> Decision {
        guard retryable(error), let cause = transientCause(of: error) else { return .fatal }
        if progress != progressAtLastFailure { failuresInARow = 0 }
        progressAtLastFailure = progress
        failuresInARow += 1
        guard failuresInARow <= policy.retries else { return .exhausted(retries: policy.retries) }
        let delay = policy.delay(beforeRetry: failuresInARow)
        return .retry(RetryNotice(retry: failuresInARow, of: policy.retries, delay: delay, error: cause.description))
    }
}

/// Runs work again after transient faults, with bounded exponential backoff (a ``RetryCounter``).
/// Never prints: each retry is announced through `notify`. Errors that are not transient pass
/// through at once.
public struct Retrier {
    public var policy: RetryPolicy
    /// The clock whose `sleep` waits; injected by tests.
    public var clock: Clock

    public init(policy: RetryPolicy, clock: Clock = .system) {
        self.policy = policy
        self.clock = clock
    }

    /// Calls `body` until it returns or throws an error that is not transient, or until
    /// `policy.retries` retries in a row have failed (then ``RetriesExhaustedError``).
    ///
    /// - Parameters:
    ///   - body: the work; its argument is the number of earlier attempts (0 the first time).
    ///     Each attempt must start from what earlier ones committed (checkpoints), and must open
    ///     its own connections: the failed attempt's are gone.
    ///   - progressMarker: a number that grows when the work commits something (e.g. batches
    ///     checkpointed); a failure after progress starts a new run of retries.
    ///   - retryable: which failures to retry (all transient ones by default).
    ///   - notify: told of each retry before its wait.
    @discardableResult
    public func run<T>(
        progressMarker: () -> Int = { 0 }, retryable: (any Error) -> Bool = { transientCause(of: $0) != nil },
        notify: (RetryNotice) -> Void = { _ in }, _ body: (_ attempt: Int) throws -> T
    ) throws -> T {
        var counter = RetryCounter(policy: policy, progress: progressMarker())
        var attempt = 0
        while true {
            do {
                return try body(attempt)
            } catch {
                switch counter.decide(after: error, progress: progressMarker(), retryable: retryable) {
                case .fatal: throw error
                case .exhausted(let retries): throw RetriesExhaustedError(retries: retries, underlying: error)
                case .retry(let notice):
                    notify(notice)
                    clock.sleep(notice.delay)
                    attempt += 1
                }
            }
        }
    }
}
