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
