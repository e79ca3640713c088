import DriverCore
import Foundation
import SessionModel

/// One store written by several workers one call at a time: a snapshot is one SQLite file with one
/// writer (``SnapshotWriter``), so a pool's workers read their shares side by side and take turns
/// writing into it. Every call holds the lock for its whole duration.
final class SerializedStore: SessionStore, @unchecked Sendable {
    // @unchecked: every use of `inner` holds `lock`, so the store is used by one thread at a time,
    // as drivers require; scans (cursors outliving a call) are refused.
    private let inner: any SessionStore
    private let lock = NSLock()

    init(_ inner: any SessionStore) { self.inner = inner }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `body` while no worker writes into the store. A snapshot's writer records a batch in two
    /// transactions (its sessions, then their digests), so the pool's journal appends and test hooks
    /// (where a kill may come) run between batches, never between the two, as in one pipeline.
    func exclusively<T>(_ body: () throws -> T) rethrows -> T { try locked(body) }

    var layout: StoreLayout { locked { inner.layout } }
    var eventDataStyle: JSONStyle? { locked { inner.eventDataStyle } }
    var capabilities: StoreCapabilities { locked { inner.capabilities } }
    var connectionSecurity: String? { locked { inner.connectionSecurity } }
    func fetchStats() throws -> StoreStats { try locked { try inner.fetchStats() } }
    func writeEpoch() throws -> String? { try locked { try inner.writeEpoch() } }
    func serverTime() throws -> Double? { try locked { try inner.serverTime() } }
    func countSessions(_ scope: SessionScope) throws -> Int? { try locked { try inner.countSessions(scope) } }

    func scanSessions(_ query: SessionQuery) throws -> any SessionCursor {
        throw SharedTargetError(description: "a target written by several workers cannot be scanned (mirroring into a snapshot is not supported)")
    }

    func fetchSessions(_ keys: [SessionKey]) throws -> [SessionKey: Session] { try locked { try inner.fetchSessions(keys) } }
    func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        try locked { try inner.fetchVersionedSessions(keys) }
    }
    func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> { try locked { try inner.writeSessions(fenced: writes) } }
    func writeSessions(_ sessions: [Session]) throws { try locked { try inner.writeSessions(sessions) } }
    func deleteSessions(_ keys: [SessionKey]) throws { try locked { try inner.deleteSessions(keys) } }
    func unrepresentableFields(in session: Session) -> [String] { locked { inner.unrepresentableFields(in: session) } }
    func readBack(_ session: Session) throws -> Session { try locked { try inner.readBack(session) } }
    func fetchIdentity() throws -> StoreIdentity? { try locked { try inner.fetchIdentity() } }
    func acquireRunLock(owner: String) throws { try locked { try inner.acquireRunLock(owner: owner) } }
    func refreshRunLock(owner: String) throws { try locked { try inner.refreshRunLock(owner: owner) } }
    func releaseRunLock(owner: String) { locked { inner.releaseRunLock(owner: owner) } }
    func beginWriteGroups(seconds: Double) { locked { inner.beginWriteGroups(seconds: seconds) } }
    var openWriteGroup: Int? { locked { inner.openWriteGroup } }
    var writeGroupLosses: Int { locked { inner.writeGroupLosses } }
    func state(ofWriteGroup group: Int) -> WriteGroupState { locked { inner.state(ofWriteGroup: group) } }
    func commitWriteGroup() throws { try locked { try inner.commitWriteGroup() } }

    /// The owner of the shared store closes it, not the workers.
    func close() throws {}
}

/// An operation a target shared by several workers does not support.
struct SharedTargetError: Error, CustomStringConvertible {
    var description: String
}
