import DriverCore
import Foundation
import SessionModel

/// `copy SRC DST`: opens both stores, runs the ``CopyEngine``, closes both.
public struct CopyJob {
    public var source: StoreAddress
    public var target: StoreAddress
    public var options: CopyOptions
    public var opener = StoreOpener()

    public init(source: StoreAddress, target: StoreAddress, options: CopyOptions) {
        self.source = source
        self.target = target
        self.options = options
    }

    /// Retries after transient faults (see ``RetryPolicy``); `.none` to fail at the first.
    public var retry = RetryPolicy()

    /// Runs the copy and returns its summary. A dry run opens the target read-only and creates
    /// nothing: a SQLite file that does not exist yet is treated as an empty store.
    ///
    /// A transient fault after both stores were opened (a server restarted, a connection killed,
    /// `LOADING`/`BUSY`, a deadlock) reconnects both and continues from the last committed batch,
    /// with bounded backoff; each retry is announced through `onRetry`. Failing to connect at the
    /// start is reported at once (a wrong address should not wait out the backoff).
    public func run(progress: (CopySummary) -> Void = { _ in }, onRetry: (RetryNotice) -> Void = { _ in }) throws -> CopySummary {
        guard source != target else { throw AddressError("source and target are the same store (\(source))") }
        let pair = StorePair(first: { [self] in try opener.open(source, forWriting: false) }) { [self] from in
            // A target that is the source itself (by identity) is refused before it is opened for writing.
            try opener.refuseSameStore(source: from, at: source, target: target)
            return try openTarget()
        }
        defer { pair.close() }
        // At the start only a server that is up but not ready is waited for: a refused connection
        // then is usually a wrong address, reported at once.
        _ = try Retrier(policy: retry).run(retryable: isServerNotReady, notify: onRetry) { _ in try pair.stores() }
        var lastCheckpoint: CopyCheckpoint?
        var batches = 0
        return try Retrier(policy: retry).run(progressMarker: { batches }, notify: onRetry) { attempt in
            let (from, to) = try pair.stores(reopen: attempt > 0)
            do {
                return try CopyEngine(options: options).run(
                    from: from, to: to, targetTTLSeconds: target.ttlSeconds, resume: lastCheckpoint,
                    checkpoint: { point in
                        lastCheckpoint = point
                        batches += 1
                    },
                    progress: progress)
            } catch let error as any DriverError {
                throw CopyError(source: source.description, target: target.description, underlying: error)
            }
        }
    }

    func openTarget() throws -> any SessionStore {
        guard options.dryRun else { return try opener.open(target, forWriting: true) }
        if case .sqlite(let sqlite) = target, !FileManager.default.fileExists(atPath: sqlite.path) {
            return EmptySessionStore(layout: StoreLayout(kind: "sqlite", name: "new file"))
        }
        return try opener.open(target, forWriting: false)
    }
}

/// A failure during a copy, naming both stores (redacted).
public struct CopyError: Error, CustomStringConvertible {
    public var source: String
    public var target: String
    public var underlying: any DriverError

    public var description: String { "copy \(source) -> \(target) failed: \(underlying.description)" }
}

/// A target that does not exist yet, for dry runs: it holds nothing and accepts no writes.
final class EmptySessionStore: SessionStore {
    let layout: StoreLayout
    var capabilities: StoreCapabilities { StoreCapabilities(keepsCreateTime: true, keepsExpiry: false) }

    init(layout: StoreLayout) { self.layout = layout }

    func fetchStats() throws -> StoreStats {
        StoreStats(layout: layout, sessions: 0, events: 0, appStates: 0, userStates: 0, oldestUpdateTime: nil, newestUpdateTime: nil)
    }

    func scanSessions(_ query: SessionQuery) throws -> any SessionCursor { EmptyCursor(resumeToken: query.resumeAfter) }
    func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] { [:] }
    func writeSessions(_ sessions: [Session]) throws { throw DryRunWriteError() }
    func deleteSessions(_ keys: [SessionKey]) throws { throw DryRunWriteError() }
    func close() throws {}

    /// Returns nothing; its resume token stays the one it was started from.
    final class EmptyCursor: SessionCursor {
        let resumeToken: String?

        init(resumeToken: String?) { self.resumeToken = resumeToken }

        func next() throws -> Session? { nil }
    }
}

/// A write reached a store during a dry run: a bug, reported instead of writing.
struct DryRunWriteError: DriverError {
    var code: DriverErrorCode { .unsupported }
    var description: String { "internal error: a dry run tried to write" }
    var debugDescription: String { description }
}
