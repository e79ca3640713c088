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
        var stores: (a: any SessionStore, b: any SessionStore)? = try Retrier(policy: retry).run(
            retryable: isServerNotReady, notify: onRetry) { _ in try openBoth() }
        func closeStores() {
            if let stores {
                try? stores.a.close()
                try? stores.b.close()
            }
            stores = nil
        }
        defer { closeStores() }
        var reported = Set<SessionKey>()
        return try Retrier(policy: retry).run(notify: onRetry) { attempt in
            if attempt > 0 {
                closeStores()
                stores = try openBoth()
            }
            guard let (storeA, storeB) = stores else { throw AddressError("internal error: the stores are not open") }
            let summary = try engine.run(storeA, storeB) { difference in
                if attempt == 0 || !reported.contains(difference.key) { report(difference) }
                if retry.retries > 0 { reported.insert(difference.key) }
            }
            return (summary, storeA.layout, storeB.layout)
        }
    }

    func openBoth() throws -> (a: any SessionStore, b: any SessionStore) {
        let storeA = try opener.open(a, forWriting: false)
        do {
            return (storeA, try opener.open(b, forWriting: false))
        } catch {
            try? storeA.close()
            throw error
        }
    }
}
