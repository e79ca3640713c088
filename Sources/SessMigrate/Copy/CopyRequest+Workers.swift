import DriverCore
import Foundation

extension CopyRequest {
    /// The most workers one process runs.
    public static let maxWorkers = 256

    /// One worker per core (at most ``maxWorkers``).
    public static var defaultWorkers: Int { max(1, min(maxWorkers, ProcessInfo.processInfo.activeProcessorCount)) }

    /// Reads `workers`, `max_rate` and `pause_file` (see ``RequestOption``).
    mutating func parseScaling(_ reader: RequestReader) throws(RequestError) {
        workers = try reader.integer(.workers, in: 1...Self.maxWorkers, unit: "workers")
        if let workers, let shard = scope.shard, shard.count * workers > Shard.maxCount {
            throw RequestError(
                .workers, "\(workers) would split shard \(shard) into \(shard.count * workers) sub-shards, more than \(Shard.maxCount): use fewer workers")
        }
        maxRate = try reader.integer(.maxRate, in: 1...1_000_000_000, unit: "events per second")
        pauseFile = reader.value(.pauseFile)
    }

    /// How many workers a run of this request uses, resuming from `checkpoint`: the given count, or
    /// without one the count the checkpoint was made with (so a retried task on a machine with
    /// another number of cores continues every worker's own position), else one per core, but one
    /// for named sessions that fit in one batch (more would only open more connections and read
    /// the same keys or rows to find nothing), and one for a time-bounded scope (a converge pass):
    /// no store indexes the update time (ADK's MySQL schema has no index on it, Redis none at all),
    /// so finding the sessions changed since a time reads every session row or key, and each worker
    /// would read them all again, on the bot's production store, for what is usually a few changed
    /// sessions. A wide time window copied in bulk takes `--workers`. Never more than the sub-shards
    /// a shard can still be split into.
    public func workerCount(resuming checkpoint: CopyCheckpoint?) -> Int {
        if let workers { return workers }
        if let checkpoint { return checkpoint.workers?.count ?? 1 }
        if !scope.sessionIds.isEmpty, scope.sessionIds.count <= batchSize { return 1 }
        if scope.updatedSince != nil || scope.updatedBefore != nil { return 1 }
        return max(1, min(Self.defaultWorkers, Shard.maxCount / (scope.shard?.count ?? 1)))
    }
}

extension Shard {
    /// The largest shard count (see ``Shard/init(index:count:)``).
    public static let maxCount = 1_000_000

    /// This shard split into `parts` sub-shards, one per worker, under the same function. They
    /// partition this shard exactly:
    ///
    /// - ``ShardFunction/sessionId``: part `i` of shard `j` of `M` is shard `j + M·i` of `M·parts`. An id
    ///   whose CRC-32 `c` has `c mod M·parts = j + M·i` has `c mod M = j` (as `M` divides `M·parts`),
    ///   and every `c` with `c mod M = j` has `c mod M·parts = j + M·k` for exactly one `k` in `0..<parts`.
    /// - ``ShardFunction/slots(_:)``: part `k` is shard `j·parts + k` of `M·parts`, contiguous slot
    ///   sub-ranges in order. With `x = slot·M / 16384` (a real number), a slot is in shard
    ///   `floor(x)` of `M` and in shard `s = floor(parts·x)` of `M·parts`; since
    ///   `floor(floor(y) / n) = floor(y / n)` for `n ≥ 1`, `floor(s / parts) = floor(x)`: sub-shard `s`
    ///   lies in shard `floor(s / parts)`, so shard `j`'s slots are in exactly the sub-shards
    ///   `j·parts ..< (j + 1)·parts`, each slot in one.
    ///
    /// - Throws: ``ShardError`` when `M·parts` exceeds ``maxCount``.
    public func split(into parts: Int) throws(ShardError) -> [Shard] {
        guard parts >= 1 else { throw ShardError("a shard splits into at least one part, not \(parts)") }
        guard count <= Self.maxCount / parts else {
            throw ShardError("shard \(self) split into \(parts) would make \(count * parts) shards, more than \(Self.maxCount)")
        }
        return try (0..<parts).map { part throws(ShardError) in
            switch function {
            case .sessionId: try Shard(index: index + count * part, count: count * parts)
            case .slots: try Shard(index: index * parts + part, count: count * parts, function: function)
            }
        }
    }
}
