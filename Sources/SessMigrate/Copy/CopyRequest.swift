import DriverCore
import SessionModel

/// Everything a copy is asked to do, whoever asks: `copy`, `snapshot`, `restore` and the runbook
/// steps `copy`, `converge`, `snapshot` and `restore` all build one, from command-line options or
/// from runbook values, through the same parser (``CopyRequest/parse(_:)``), so the same inputs give
/// the same request and the same bad inputs the same errors.
public struct CopyRequest: Sendable, Hashable {
    /// Which sessions; pushed down to the stores (``SessionQuery/scope``).
    public var scope = SessionScope()
    /// What to do when the target already holds a session.
    public var onConflict = ConflictPolicy.merge
    /// Redis expiries of written sessions.
    public var ttl = TTLPolicy()
    /// Sessions per read batch and per write batch (and per checkpoint).
    public var batchSize = 200
    /// Transient faults waited out (see ``RetryPolicy``).
    public var retry = RetryPolicy()
    /// Report what would happen; write nothing anywhere.
    public var dryRun = false
    /// Pass over bad sessions (unreadable in the source, or rejected by the target as too large)
    /// and go on; without it the copy stops before writing the batch that holds the first one.
    public var skipBad = false
    /// Also delete target sessions in scope that the source does not have.
    public var mirror = false
    /// Pipelines run side by side in one process, each on its own thread with its own connections
    /// and its own share of the scope (a sub-shard, see ``WorkerPool``); `nil` is the default, one
    /// per core (``defaultWorkers``), and a resumed copy then keeps the count its checkpoint was
    /// made with. `1` is the single pipeline.
    public var workers: Int?
    /// The most events per second read from the source, all workers together (a token bucket fed by
    /// the events of each batch, sleeping on the run's clock); `nil`: no limit.
    public var maxRate: Int?
    /// While this file exists the copy pauses between batches (each worker after checkpointing its
    /// last batch), and resumes when it is removed.
    public var pauseFile: String?

    public init() {}

    /// The defaults, with this batch size.
    public init(batchSize: Int) {
        self.batchSize = max(1, batchSize)
    }

    /// The largest accepted batch size.
    public static let maxBatchSize = 100_000
}

/// What to do when the target already holds a session the source has.
public enum ConflictPolicy: String, Sendable, Hashable, CaseIterable {
    /// The two-sided merge (``SessionMerge``): the union of both sides' events by id, state folded as
    /// ADK would, nothing of either side dropped; the same event id with different content is a
    /// conflict, reported and left as the target has it. The default.
    case merge
    /// Keep (and report) a target session updated later than the source's, whole (the source's newer
    /// events are then not copied); otherwise merge events by id, the source's state winning.
    case newer
    /// The source's version replaces the target's.
    case source
    /// Leave existing target sessions alone.
    case skip
    /// Stop at the first session that exists in the target with different content.
    case fail
}

/// Where a Redis expiry is counted from when the source has none.
public enum TTLOrigin: String, Sendable, Hashable, CaseIterable {
    /// From the session's last update: a session idle longer than the TTL is already expired.
    case update
    /// From the time of the copy.
    case now
}

/// How written sessions expire in a store that keeps expiries (Redis).
public struct TTLPolicy: Sendable, Hashable {
    /// TTL in seconds for sessions the source gives no expiry; `nil` uses the target's own (`?ttl=`,
    /// `REDIS_SESSION_TTL`, 3600). Given explicitly, it also replaces a Redis source's expiry.
    public var seconds: Int?
    /// Where the TTL is counted from.
    public var origin = TTLOrigin.update
    /// Write sessions whose expiry has already passed (with a TTL counted from now).
    public var includeExpired = false

    public init(seconds: Int? = nil, origin: TTLOrigin = .update, includeExpired: Bool = false) {
        self.seconds = seconds
        self.origin = origin
        self.includeExpired = includeExpired
    }
}
