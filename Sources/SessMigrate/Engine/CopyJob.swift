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

    /// Runs the copy and returns its summary. A dry run opens the target read-only and creates
    /// nothing: a SQLite file that does not exist yet is treated as an empty store.
    public func run(progress: (CopySummary) -> Void = { _ in }) throws -> CopySummary {
        guard source != target else { throw AddressError("source and target are the same store (\(source))") }
        let from = try opener.open(source, forWriting: false)
        defer { try? from.close() }
        let to = try openTarget()
        defer { try? to.close() }
        do {
            return try CopyEngine(options: options).run(from: from, to: to, targetTTLSeconds: target.ttlSeconds, progress: progress)
        } catch let error as any DriverError {
            throw CopyError(source: source.description, target: target.description, underlying: error)
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
