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

    /// Retries after transient faults (see ``RetryPolicy``); `.none` to fail at the first.
    public var retry = RetryPolicy()

    /// Runs the comparison; each difference goes to `report` as it is found.
    ///
    /// A transient fault after both stores were opened reconnects and compares again from the
    /// start (a comparison commits nothing), with bounded backoff; each retry is announced through
    /// `onRetry`. Sessions already reported by a failed attempt are not reported again; the
    /// counts are those of the attempt that completed.
    public func run(
        onRetry: (RetryNotice) -> Void = { _ in }, report: (SessionDifference) -> Void
    ) throws -> (DiffSummary, StoreLayout, StoreLayout) {
        let pair = StorePair(first: { [self] in try opener.open(a, forWriting: false) }) { [self] _ in try opener.open(b, forWriting: false) }
        defer { pair.close() }
        _ = try Retrier(policy: retry).run(retryable: isServerNotReady, notify: onRetry) { _ in try pair.stores() }
        var reported = Set<SessionKey>()
        return try Retrier(policy: retry).run(notify: onRetry) { attempt in
            let (storeA, storeB) = try pair.stores(reopen: attempt > 0)
            let summary = try engine.run(storeA, storeB) { difference in
                if attempt == 0 || !reported.contains(difference.key) { report(difference) }
                if retry.retries > 0 { reported.insert(difference.key) }
            }
            return (summary, storeA.layout, storeB.layout)
        }
    }
}
