import DriverCore
import SessionModel

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
