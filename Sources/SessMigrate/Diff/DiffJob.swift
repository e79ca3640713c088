import DriverCore
import SessionModel

/// `diff A B` and `verify A B`: opens both stores read-only, runs the ``DiffEngine``, closes both.
public struct DiffJob {
    public var a: StoreAddress
    public var b: StoreAddress
    public var engine: DiffEngine
    public var opener = StoreOpener()

    public init(a: StoreAddress, b: StoreAddress, engine: DiffEngine) {
        self.a = a
        self.b = b
        self.engine = engine
    }

    /// Both stores, read-only; a retry's reopen skips the samples of the first open (``OpenMemo``).
    func storePair() -> StorePair {
        let opener = opener.memo == nil ? opener.remembering() : opener
        return StorePair(first: { [a] in try opener.open(a, forWriting: false) }) { [b] _ in try opener.open(b, forWriting: false) }
    }

    /// Retries after transient faults (see ``RetryPolicy``); `.none` to fail at the first.
    public var retry = RetryPolicy()

    /// Runs the comparison; each difference goes to `report` as it is found.
    ///
    /// A transient fault after both stores were opened reconnects and compares again from the
    /// start (a comparison commits nothing), with bounded backoff; each retry is announced through
    /// `onRetry`. Sessions already reported by a failed attempt are not reported again; the
    /// counts are those of the attempt that completed.
    public func run(
        events: ProgressSink = { _ in }, report: (SessionDifference) -> Void
    ) throws -> (DiffSummary, StoreLayout, StoreLayout) {
        let pair = storePair()
        defer { pair.close() }
        let retrier = Retrier(policy: retry, clock: engine.clock)
        try retrier.run(retryable: isServerNotReady, notify: { events(.retrying($0)) }) { _ in _ = try pair.stores() }
        var engine = engine
        try Self.settle(&engine.scope, a: try pair.stores().0)
        var reported = Set<SessionKey>()
        return try retrier.run(notify: { events(.retrying($0)) }) { attempt in
            let (storeA, storeB) = try pair.stores(reopen: attempt > 0)
            let summary = try engine.run(storeA, storeB, events: events) { difference in
                if attempt == 0 || !reported.contains(difference.key) { report(difference) }
                if retry.retries > 0 { reported.insert(difference.key) }
            }
            return (summary, storeA.layout, storeB.layout)
        }
    }
}

extension DiffJob {
    /// `verify --contains`: does B hold everything of A (see ``ContainmentEngine``)? Opens both stores
    /// read-only; a transient fault compares again from the start, as ``run(events:report:)`` does.
    public func contains(_ containment: ContainmentEngine, events: ProgressSink = { _ in }) throws -> ContainmentSummary {
        let pair = storePair()
        defer { pair.close() }
        let retrier = Retrier(policy: retry, clock: containment.clock)
        try retrier.run(retryable: isServerNotReady, notify: { events(.retrying($0)) }) { _ in _ = try pair.stores() }
        var containment = containment
        try Self.settle(&containment.scope, a: try pair.stores().0)
        return try retrier.run(notify: { events(.retrying($0)) }) { attempt in
            let (storeA, storeB) = try pair.stores(reopen: attempt > 0)
            return try containment.run(storeA, storeB, events: events)
        }
    }
}
