import DriverCore
import SessionModel

/// What a long operation reports while it runs: typed, so the command line draws a progress bar
/// (or writes log lines) and a runbook journals lists, without either parsing text.
public enum ProgressEvent: Sendable {
    /// An operation starts: `copy`, `snapshot`, `restore`, `converge pass 2`, `verify`, `diff`.
    /// `total` is the number of sessions expected, when the source can tell cheaply.
    case began(operation: String, total: Int?)
    /// Sessions done so far in the current operation.
    case advanced(ProgressCounts)
    /// Sessions kept because the target's version is newer (``ConflictPolicy/newer``), per batch.
    case kept([SessionKey])
    /// Bad sessions passed over (``CopyRequest/skipBad``), per batch.
    case skipped([SkippedSession])
    /// Sessions left as the target has them because an event id differs between the sides, per batch.
    case conflicted([SessionConflict])
    /// A transient fault is about to be retried.
    case retrying(RetryNotice)
    /// A sentence for the operator (a runbook step's news, a decision taken).
    case note(String)
    /// The current operation ended.
    case ended
}

/// Counts of an operation in progress.
public struct ProgressCounts: Sendable, Hashable {
    /// Sessions read (or compared) so far.
    public var sessions: Int
    /// Events read so far.
    public var events: Int
    /// Sessions written so far (copies only).
    public var written: Int
    /// Sessions expected in all, when known.
    public var total: Int?
    /// Seconds since the operation began.
    public var seconds: Double

    public init(sessions: Int, events: Int, written: Int = 0, total: Int? = nil, seconds: Double) {
        self.sessions = sessions
        self.events = events
        self.written = written
        self.total = total
        self.seconds = seconds
    }

    /// Done / total, in 0...1, when the total is known.
    public var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(1, Double(sessions) / Double(total))
    }

    /// Seconds left at the rate so far, when the total is known.
    public var secondsLeft: Double? {
        guard let fraction, fraction > 0, seconds > 0 else { return nil }
        return seconds / fraction - seconds
    }
}

/// Where progress events go. A no-op by default.
public typealias ProgressSink = (ProgressEvent) -> Void
