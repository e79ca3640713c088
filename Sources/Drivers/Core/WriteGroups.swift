/// Group commits: a store whose commits are costly next to its writes (a SQLite file, where each
/// commit syncs the file and its journal) may keep one transaction open across several batches
/// and commit them together. A batch written into an open group is not durable until the group
/// commits, so whoever records progress (a copy's checkpoint) waits for that commit: every write
/// call still writes its batch whole or not at all (a savepoint per call), and a group that cannot
/// commit is lost whole, which its writers learn from ``WriteGroupState/rolledBack``.
public enum WriteGroupState: Sendable, Hashable {
    /// Committed: durable.
    case committed
    /// Still open: written, not yet durable.
    case pending
    /// Rolled back (a failed commit, or a fault that ended the transaction): its batches are not in
    /// the store.
    case rolledBack
}

extension SessionStore {
    public func beginWriteGroups(seconds: Double) {}
    public var openWriteGroup: Int? { nil }
    public var writeGroupLosses: Int { 0 }
    public func state(ofWriteGroup group: Int) -> WriteGroupState { .committed }
    public func commitWriteGroup() throws {}
}
