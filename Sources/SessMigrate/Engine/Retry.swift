import DriverCore
import Foundation
import MySQLDriver
import RedisDriver

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

/// True for a fault from a server that is there but not ready: Redis `LOADING`, `BUSY`,
/// `TRYAGAIN`, `MASTERDOWN`; MariaDB shutting down, too many connections, a deadlock or lock wait.
/// Worth waiting for even before the first successful connection, unlike a refused or unreachable
/// connection, which at the start is usually a wrong address and is reported at once.
public func isServerNotReady(_ error: any Error) -> Bool {
    guard let cause = transientCause(of: error) else { return false }
    if let redis = cause as? RedisError { return redis.serverErrorPrefix != nil }
    if let mysql = cause as? MySQLError { return [1040, 1053, 1205, 1213, 1614].contains(mysql.errorNumber) }
    return false
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

/// Runs work again after transient faults, with bounded exponential backoff. Never prints:
/// each retry is announced through `notify`. Errors that are not transient pass through at once.
public struct Retrier {
    public var policy: RetryPolicy
    /// Waits; injected by tests.
    public var sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }

    public init(policy: RetryPolicy) {
        self.policy = policy
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
    public func run<T>(
        progressMarker: () -> Int = { 0 }, retryable: (any Error) -> Bool = { transientCause(of: $0) != nil },
        notify: (RetryNotice) -> Void = { _ in }, _ body: (_ attempt: Int) throws -> T
    ) throws -> T {
        var attempt = 0
        var failuresInARow = 0
        var markerAtLastFailure = progressMarker()
        while true {
            do {
                return try body(attempt)
            } catch {
                guard retryable(error), let cause = transientCause(of: error) else { throw error }
                let marker = progressMarker()
                if marker != markerAtLastFailure { failuresInARow = 0 }
                markerAtLastFailure = marker
                failuresInARow += 1
                guard failuresInARow <= policy.retries else {
                    throw RetriesExhaustedError(retries: policy.retries, underlying: error)
                }
                let delay = policy.delay(beforeRetry: failuresInARow)
                notify(RetryNotice(retry: failuresInARow, of: policy.retries, delay: delay, error: cause.description))
                sleep(delay)
                attempt += 1
            }
        }
    }
}
