import DriverCore

extension RedisSessionStore {
    /// The cursor of a `slots` shard (``DriverCore/ShardFunction/slots(_:)``) of a cluster whose layout
    /// keeps sessions under the shard's key form: only the shard's slots are read (``RedisSlotScan``),
    /// none of the other slots' keys, and no `SCAN`. `nil` for any other read (a standalone server, a
    /// shard by id, a key form of another layout: those scan and judge each key).
    ///
    /// Its tokens name the next slot under the slot map's digest (``RedisResumePoint/init(slotToken:)``);
    /// a token of another slot map (a resharding) or of another form (a `SCAN` position) starts the
    /// shard over: repeats are harmless (idempotent writes, the planner skips equal sessions), and
    /// nothing is skipped.
    func slotCursor(_ query: SessionQuery, layout: RedisLayout, filter: RedisKeyFilter, loader: RedisSessionLoader) -> RedisSessionCursor? {
        guard let cluster = keyspace as? RedisClusterKeyspace, let shard = query.scope.shard, shard.function == .slots(layout.shardKeyForm)
        else { return nil }
        let digest = cluster.topology.digest
        var start: RedisResumePoint?
        var startToken: String?
        if let token = query.resumeAfter, let point = try? RedisResumePoint(slotToken: token), point.epoch == digest {
            start = point
            startToken = token
        }
        let scan = RedisSlotScan(
            keyspace: cluster, slots: shard.slotRange, from: start?.position.node ?? shard.slotRange.lowerBound, prefix: layout.dataPrefix,
            budget: max(query.batchSize, 1000))
        return RedisSessionCursor(
            scan: scan, loader: loader, batchSize: query.batchSize, nodeCount: RedisHashSlot.count, start: start, startToken: startToken,
            epoch: digest, skipBad: query.skipBad, filter: filter, slotTokens: true)
    }
}

extension RedisResumePoint {
    static let slotTag = "k1"

    /// `k1:<slot map digest>:<slot>[:<skip>:<digest>]`: a slot scan's position (``RedisSlotScan``);
    /// slot 16384 means done.
    var slotToken: String {
        let base = "\(Self.slotTag):\(epoch ?? Self.unknownNodeEpoch):\(position.node)"
        return skip > 0 ? "\(base):\(skip):\(digest)" : base
    }

    /// Parses ``slotToken``.
    ///
    /// - Throws: ``ResumeTokenError`` for anything else (another tag, a slot outside `0...16384`, a
    ///   damaged digest or skip).
    init(slotToken token: String) throws(ResumeTokenError) {
        func fail(_ message: String) -> ResumeTokenError { ResumeTokenError(store: "redis", token: token, message: message) }
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        func isHex16(_ text: Substring) -> Bool { text.count == 16 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase && $0.isASCII } }
        guard parts.count == 3 || parts.count == 5, parts[0] == Self.slotTag, isHex16(parts[1]) else {
            throw fail("not a Redis Cluster slot position (expected k1:<slot map>:<slot>)")
        }
        guard parts[2].count <= 5, parts[2].allSatisfy({ $0.isASCII && $0.isNumber }), let slot = Int(parts[2]), slot <= RedisHashSlot.count else {
            throw fail("the slot is not in 0...\(RedisHashSlot.count)")
        }
        self.init(position: RedisScanPosition(node: slot, cursor: "0"), epoch: String(parts[1]))
        isSlotPosition = true
        guard parts.count == 5 else { return }
        guard parts[3].count <= 9, parts[3].allSatisfy({ $0.isASCII && $0.isNumber }), let skip = Int(parts[3]), skip > 0, slot < RedisHashSlot.count,
            isHex16(parts[4])
        else { throw fail("the position within the slots' keys is damaged") }
        self.skip = skip
        self.digest = String(parts[4])
    }
}
