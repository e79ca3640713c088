import DriverCore
import SessionModel

/// One worker's place in a ``WorkerPool`` checkpoint: its sub-shard, its own copy checkpoint (its
/// cursor and counters) and whether it has finished.
///
/// A pool's ``CopyCheckpoint`` (format version 3) is one JSON object: the merged counters at the top,
/// as in version 2 (so `status` reads it unchanged), `cursor` null, and one entry per worker:
///
/// ```json
/// {"version": 3, "cursor": null, "apps": {…merged…}, …,
///  "workers": [{"shard": "0/4", "finished": true, "checkpoint": {"version": 2, "cursor": "…", "apps": {…}, …}},
///              {"shard": "1/4", "finished": false, "checkpoint": null}, …]}
/// ```
///
/// A worker of a `slots` shard also has `"shard_by": "slots:…"` (see ``ScopeJSON``).
///
/// Its size is bounded by the worker count: N cursors and N sets of counters, never a list of sessions.
public struct WorkerCheckpoint: Sendable, Hashable {
    /// The worker's share of the scope.
    public var shard: Shard
    /// The worker's last checkpoint; `nil` before its first batch.
    public var checkpoint: CopyCheckpoint?
    /// The worker copied (and, mirroring, deleted) all of its share.
    public var finished: Bool

    public init(shard: Shard, checkpoint: CopyCheckpoint? = nil, finished: Bool = false) {
        self.shard = shard
        self.checkpoint = checkpoint
        self.finished = finished
    }

    /// The checkpoint format version of a pool.
    public static let formatVersion = 3

    func json() -> JSONObject {
        var object: JSONObject = [
            "shard": .string(shard.description), "finished": .bool(finished),
            "checkpoint": checkpoint.map { .object($0.json()) } ?? .null,
        ]
        // Only a function other than the id's is named, so pools checkpointed before `slots` read as before.
        if let function = ScopeJSON.functionJSON(shard.function) { object[ScopeJSON.shardByKey] = function }
        return object
    }

    init(json: JSONObject, index: Int) throws {
        let path = "checkpoint.workers[\(index)]"
        guard let text = json["shard"]?.stringValue, let function = try? ScopeJSON.function(in: json),
            let shard = try? Shard(parsing: text, function: function)
        else {
            throw CopyCheckpointError("\(path).shard is missing or not a shard i/N (with its shard_by)")
        }
        guard case .bool(let finished)? = json["finished"] else { throw CopyCheckpointError("\(path).finished is missing or not a boolean") }
        self.shard = shard
        self.finished = finished
        switch json["checkpoint"] {
        case .object(let object)?:
            let inner = try CopyCheckpoint(json: object)
            guard inner.workers == nil else { throw CopyCheckpointError("\(path).checkpoint holds workers of its own") }
            checkpoint = inner
        case .null?, nil: checkpoint = nil
        default: throw CopyCheckpointError("\(path).checkpoint is not an object or null")
        }
    }

    static func list(_ value: JSONValue?) throws -> [WorkerCheckpoint] {
        guard case .array(let items)? = value, !items.isEmpty else { throw CopyCheckpointError("checkpoint.workers is missing or empty") }
        return try items.enumerated().map { index, item in
            guard case .object(let object) = item else { throw CopyCheckpointError("checkpoint.workers[\(index)] is not an object") }
            return try WorkerCheckpoint(json: object, index: index)
        }
    }
}

extension CopyCheckpoint {
    /// A worker pool's checkpoint: the workers' own, and their counters merged.
    public init(workers: [WorkerCheckpoint], dryRun: Bool) {
        var summary = CopySummary.merged(workers.compactMap { $0.checkpoint?.summary })
        summary.dryRun = dryRun
        self.init(cursor: nil, summary: summary, unkeyedSkips: workers.contains { $0.checkpoint?.unkeyedSkips ?? false })
        self.workers = workers
    }
}

extension CopySummary {
    /// The summaries of a pool's workers as one: counts added, the time of the slowest worker (they
    /// run side by side), the named kept, conflicting and skipped sessions merged with their caps.
    public static func merged(_ parts: [CopySummary]) -> CopySummary {
        var merged = CopySummary()
        for part in parts {
            for (app, counts) in part.apps { merged.apps[app, default: CopyCounts()].add(counts) }
            for (field, count) in part.droppedFields { merged.droppedFields[field, default: 0] += count }
            merged.seconds = max(merged.seconds, part.seconds)
            merged.dryRun = merged.dryRun || part.dryRun
            merged.restarts += part.restarts
            merged.vanished += part.vanished
        }
        let totals = parts.map(\.expectedSessions)
        merged.expectedSessions = totals.isEmpty || totals.contains(nil) ? nil : totals.reduce(0) { $0 + ($1 ?? 0) }
        merged.kept = mergedList(parts.map(\.kept))
        merged.conflicts = mergedList(parts.map(\.conflicts))
        merged.skipped = mergedList(parts.map(\.skipped))
        return merged
    }

    /// Lists merged: every item counted, the first ``listLimit`` named, worker by worker.
    private static func mergedList<Element>(_ lists: [BoundedList<Element>]) -> BoundedList<Element> {
        var merged = BoundedList<Element>(limit: listLimit, omittedCount: lists.reduce(0) { $0 + $1.omitted })
        for list in lists { merged.append(contentsOf: list.items) }
        return merged
    }
}
