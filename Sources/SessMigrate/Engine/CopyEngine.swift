import DriverCore
import SessionModel

/// Counters of a copy, reported while it runs and at the end.
public struct CopySummary: Sendable, Hashable {
    public var sessionsRead = 0
    public var eventsRead = 0
    public var sessionsWritten = 0
    public var eventsWritten = 0
    public var sessionsUnchanged = 0
    public var eventsUnchanged = 0
    /// Wall-clock seconds from the first read to the last write.
    public var seconds = 0.0
    /// Fields the target cannot hold, dropped from written sessions: dotted name → occurrences.
    public var droppedFields: [String: Int] = [:]

    public init() {}

    /// Events read per second.
    public var eventsPerSecond: Double { seconds > 0 ? Double(eventsRead) / seconds : 0 }
}

/// Options of `copy`.
public struct CopyOptions: Sendable, Hashable {
    /// Sessions per read batch and per write batch.
    public var batchSize: Int

    public init(batchSize: Int = 200) {
        self.batchSize = max(1, batchSize)
    }
}

/// Copies every session of a source store into a target store, one batch of whole sessions at a
/// time: read a batch, read the target's version of the same sessions, write the ones that differ.
///
/// Memory is bounded by the batch size. Every write is idempotent, so a copy that is interrupted
/// and run again converges, and a copy run twice writes nothing the second time. The engine owns no
/// connections and never prints; progress goes to the `progress` callback after each batch.
public struct CopyEngine {
    public var options: CopyOptions
    /// Time source, injected for tests.
    public var now: @Sendable () -> Double

    public init(options: CopyOptions, now: @escaping @Sendable () -> Double = Clock.epochSeconds) {
        self.options = options
        self.now = now
    }

    /// Runs the copy. `progress` is called after each committed batch with the running totals.
    public func run(from source: any SessionStore, to target: any SessionStore, progress: (CopySummary) -> Void = { _ in }) throws -> CopySummary {
        let started = now()
        var summary = CopySummary()
        let comparison = SessionComparison(source: source.capabilities, target: target.capabilities)
        let cursor = try source.scanSessions(SessionQuery(batchSize: options.batchSize))
        var batch: [Session] = []
        batch.reserveCapacity(options.batchSize)
        while let session = try cursor.next() {
            batch.append(prepare(session, source: source.capabilities))
            if batch.count == options.batchSize {
                try copyBatch(batch, to: target, comparison: comparison, summary: &summary)
                batch.removeAll(keepingCapacity: true)
                summary.seconds = now() - started
                progress(summary)
            }
        }
        if !batch.isEmpty { try copyBatch(batch, to: target, comparison: comparison, summary: &summary) }
        summary.seconds = now() - started
        progress(summary)
        return summary
    }

    /// Applies the expiry policy: a Redis expiry is kept only when the source has one to keep;
    /// otherwise the target applies its configured TTL.
    func prepare(_ session: Session, source: StoreCapabilities) -> Session {
        var session = session
        if !source.keepsExpiry { session.expiry = nil }
        if let newest = session.events.last?.timestamp, newest > session.lastUpdateTime {
            // ADK's stale-session check expects update_time to be the newest event's time.
            session.lastUpdateTime = newest
        }
        return session
    }

    func copyBatch(_ batch: [Session], to target: any SessionStore, comparison: SessionComparison, summary: inout CopySummary) throws {
        let stored = try target.fetchSessions(batch.map(\.key))
        var changed: [Session] = []
        for session in batch {
            summary.sessionsRead += 1
            summary.eventsRead += session.events.count
            if let existing = stored[session.key], comparison.isUnchanged(existing, comparedTo: session) {
                summary.sessionsUnchanged += 1
                summary.eventsUnchanged += session.events.count
            } else {
                changed.append(session)
            }
        }
        guard !changed.isEmpty else { return }
        for session in changed {
            for field in target.unrepresentableFields(in: session) { summary.droppedFields[field, default: 0] += 1 }
        }
        try target.writeSessions(changed)
        summary.sessionsWritten += changed.count
        summary.eventsWritten += changed.reduce(0) { $0 + $1.events.count }
    }
}
