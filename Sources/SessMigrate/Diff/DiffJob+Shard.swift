import DriverCore

extension DiffJob {
    /// Settles `scope`'s shard function against store A (``SessionScope/settleShard(for:)``), opened
    /// here and parked in this job's ``OpenMemo`` for the comparison's first open.
    /// ``run(events:report:)`` and ``contains(_:events:)`` settle their own scope on the A they
    /// open; a caller that reports the scope settles it first.
    ///
    /// - Throws: ``RequestError`` (`shard_by`) when `slots` was chosen for an A that cannot give it.
    public mutating func settleShard(_ scope: inout SessionScope) throws {
        guard scope.unsettledShardChoice != nil else { return }
        if opener.memo == nil { opener = opener.remembering() }
        let store = try opener.open(a, forWriting: false)
        defer { opener.release(store, a, forWriting: false) }
        try Self.settle(&scope, a: store)
    }

    static func settle(_ scope: inout SessionScope, a: any SessionStore) throws {
        do { try scope.settleShard(for: a) } catch { throw RequestError(.shardBy, error.description) }
    }
}
