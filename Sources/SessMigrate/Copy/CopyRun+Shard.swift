import DriverCore

extension CopyRun {
    /// This run with its shard function settled against the source (``SessionScope/settleShard(for:)``:
    /// `shard_by` `auto` or `slots` need its Redis layout and whether it is a cluster). The source is
    /// opened once and released to the run's ``OpenMemo``, so the run's first open takes that connection.
    ///
    /// - Throws: ``RequestError`` (`shard_by`) when `slots` was chosen for a source that cannot give it.
    func settlingShard() throws -> CopyRun {
        guard request.scope.unsettledShardChoice != nil else { return self }
        var run = self
        let store = try opener.open(source, forWriting: false)
        defer { opener.release(store, source, forWriting: false) }
        do { try run.request.scope.settleShard(for: store) } catch { throw RequestError(.shardBy, error.description) }
        return run
    }
}

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
