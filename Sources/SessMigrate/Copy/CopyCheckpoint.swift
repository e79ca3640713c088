import DriverCore
import SessionModel

/// Where an interrupted copy stands: the source cursor's resume token after the last batch
/// committed to the target, and the counters up to that batch. Nothing in it grows with the
/// number of sessions: the kept and skipped sessions are reported per batch as
/// ``ProgressEvent/kept(_:)`` and ``ProgressEvent/skipped(_:)`` (a runbook journals them as events
/// of their own), and only their counts are here.
///
/// ``json()`` and ``init(json:)`` let a journal store it as a JSON object:
///
/// ```json
/// {"version": 2, "cursor": "k1:…", "dry_run": false, "seconds": 1.5, "expected_sessions": 10,
///  "apps": {"app": {"read": 3, "inserted": 3, …}}, "dropped_fields": {}, "kept_count": 0,
///  "skipped_count": 0, "unkeyed_skips": false}
/// ```
public struct CopyCheckpoint: Sendable, Hashable {
    /// The source scan's ``SessionCursor/resumeToken`` (`nil`: start from the beginning).
    public var cursor: String?
    /// The counts of every batch up to and including the one this checkpoint follows (the kept and
    /// skipped lists hold counts only).
    public var summary: CopySummary
    /// A bad session without a readable key was skipped (``MirrorRefusedError``).
    public var unkeyedSkips: Bool
    /// The target's ``SessionStore/writeEpoch()`` when the batches were written: a resume into a
    /// target whose epoch changed (a Redis restart that may have lost them) starts over.
    public var targetEpoch: String?
    /// The function of the shard the cursor walks (`shard_by` in JSON, left out for the session id's):
    /// a checkpoint of another function is not resumed (its cursor covers other sessions).
    public var shardFunction: ShardFunction = .sessionId
    /// The workers' own checkpoints when a ``WorkerPool`` made this one (format version 3); `cursor`
    /// is then `nil` and `summary` holds the workers' counters merged.
    public var workers: [WorkerCheckpoint]?

    public init(cursor: String?, summary: CopySummary, unkeyedSkips: Bool = false, targetEpoch: String? = nil) {
        self.cursor = cursor
        self.targetEpoch = targetEpoch
        var counts = summary
        counts.kept = BoundedList(limit: CopySummary.listLimit, omittedCount: summary.kept.count)
        counts.skipped = BoundedList(limit: CopySummary.listLimit, omittedCount: summary.skipped.count)
        counts.conflicts = BoundedList(limit: CopySummary.listLimit, omittedCount: summary.conflicts.count)
        self.summary = counts
        self.unkeyedSkips = unkeyedSkips
    }

    /// True when the checkpoint was made by a dry run.
    public var dryRun: Bool { summary.dryRun }

    /// The version of the JSON form written by ``json()``; version 1 (with lists) is still read.
    public static let formatVersion = 2

    /// The checkpoint as a JSON object (stable key order); a worker pool's adds `workers` (version 3).
    public func json() -> JSONObject {
        var object = singleJSON()
        if let workers {
            object["version"] = .number(JSONNumber(WorkerCheckpoint.formatVersion))
            object["workers"] = .array(workers.map { .object($0.json()) })
        }
        return object
    }

    private func singleJSON() -> JSONObject {
        var apps = JSONObject()
        for name in summary.apps.keys.sorted() { apps[name] = .object(summary.apps[name, default: CopyCounts()].json()) }
        var dropped = JSONObject()
        for name in summary.droppedFields.keys.sorted() { dropped[name] = .number(JSONNumber(summary.droppedFields[name, default: 0])) }
        var object: JSONObject = [
            "version": .number(JSONNumber(Self.formatVersion)),
            "cursor": cursor.map(JSONValue.string) ?? .null,
            "dry_run": .bool(summary.dryRun),
            "seconds": .number(JSONNumber(summary.seconds)),
            "expected_sessions": summary.expectedSessions.map { .number(JSONNumber($0)) } ?? .null,
            "apps": .object(apps),
            "dropped_fields": .object(dropped),
            "kept_count": .number(JSONNumber(summary.kept.count)),
            "conflict_count": .number(JSONNumber(summary.conflicts.count)),
            "skipped_count": .number(JSONNumber(summary.skipped.count)),
            "unkeyed_skips": .bool(unkeyedSkips),
            "target_epoch": targetEpoch.map(JSONValue.string) ?? .null,
            "restarts": .number(JSONNumber(summary.restarts)),
            "vanished": .number(JSONNumber(summary.vanished)),
        ]
        if let function = ScopeJSON.functionJSON(shardFunction) { object[ScopeJSON.shardByKey] = function }
        return object
    }

    /// Reads the JSON form of ``json()`` (or of version 1, whose lists are counted).
    ///
    /// - Throws: ``CopyCheckpointError`` naming the missing or malformed member, or a version
    ///   this build does not know.
    public init(json: JSONObject) throws {
        let reader = CheckpointReader(path: "checkpoint")
        let version = try reader.int(json, "version")
        switch json["cursor"] {
        case .string(let token)?: cursor = token
        case .null?, nil: cursor = nil
        default: throw CopyCheckpointError("checkpoint.cursor is not a string or null")
        }
        switch version {
        case 2, WorkerCheckpoint.formatVersion:
            summary = try CopySummary(counters: json, path: "checkpoint")
            guard case .bool(let unkeyed)? = json["unkeyed_skips"] else { throw CopyCheckpointError("checkpoint.unkeyed_skips is missing or not a boolean") }
            unkeyedSkips = unkeyed
            targetEpoch = json["target_epoch"]?.stringValue
            do { shardFunction = try ScopeJSON.function(in: json) } catch { throw CopyCheckpointError("checkpoint.\(error.description)") }
            if version == WorkerCheckpoint.formatVersion { workers = try WorkerCheckpoint.list(json["workers"]) }
        case 1:
            let old = try reader.object(json, "summary")
            summary = try CopySummary(counters: old, path: "checkpoint.summary")
            unkeyedSkips = old["skipped"]?.arrayValue?.contains { $0.objectValue?["key"] == .null } ?? false
            targetEpoch = nil
        default:
            throw CopyCheckpointError(
                "checkpoint format version \(version) is not supported (this build reads versions 1, \(Self.formatVersion) and \(WorkerCheckpoint.formatVersion))"
            )
        }
    }
}

/// A checkpoint JSON object that cannot be read back.
public struct CopyCheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension CopySummary {
    /// The counters of a checkpoint object (version 2, or a version-1 `summary`).
    init(counters json: JSONObject, path: String) throws {
        self.init()
        let reader = CheckpointReader(path: path)
        for (name, value) in try reader.object(json, "apps") {
            guard case .object(let counts) = value else { throw CopyCheckpointError("\(path).apps[\(name)] is not an object") }
            apps[name] = try CopyCounts(json: counts, path: "\(path).apps[\(name)]")
        }
        seconds = try reader.double(json, "seconds")
        let dropped = try reader.object(json, "dropped_fields")
        let droppedReader = CheckpointReader(path: "\(path).dropped_fields")
        for name in dropped.keys { droppedFields[name] = try droppedReader.int(dropped, name) }
        guard case .bool(let dry)? = json["dry_run"] else { throw CopyCheckpointError("\(path).dry_run is missing or not a boolean") }
        dryRun = dry
        expectedSessions = json["expected_sessions"] == .null || json["expected_sessions"] == nil ? nil : try reader.int(json, "expected_sessions")
        let keptCount = json["kept_count"] == nil ? json["kept_sessions"]?.arrayValue?.count ?? 0 : try reader.int(json, "kept_count")
        let skippedCount = json["skipped_count"] == nil ? json["skipped"]?.arrayValue?.count ?? 0 : try reader.int(json, "skipped_count")
        kept = BoundedList(limit: Self.listLimit, omittedCount: keptCount)
        restarts = json["restarts"] == nil ? 0 : try reader.int(json, "restarts")
        vanished = json["vanished"] == nil ? 0 : try reader.int(json, "vanished")
        conflicts = BoundedList(limit: Self.listLimit, omittedCount: json["conflict_count"] == nil ? 0 : try reader.int(json, "conflict_count"))
        skipped = BoundedList(limit: Self.listLimit, omittedCount: skippedCount)
    }
}

extension SkippedSession {
    /// `{"store", "location", "reason", "key": [app, user, id] or null}`: names only, no payload.
    public func json() -> JSONObject {
        [
            "store": .string(store), "location": .string(location), "reason": .string(reason),
            "key": key.map { .array([.string($0.appName), .string($0.userId), .string($0.sessionId)]) } ?? .null,
        ]
    }

    /// Reads ``json()``; `nil` when a member is missing or malformed.
    public init?(json: JSONObject) {
        guard let store = json["store"]?.stringValue, let location = json["location"]?.stringValue,
            let reason = json["reason"]?.stringValue
        else { return nil }
        var key: SessionKey?
        switch json["key"] {
        case .array(let parts)? where parts.count == 3:
            guard let app = parts[0].stringValue, let user = parts[1].stringValue, let id = parts[2].stringValue else { return nil }
            key = SessionKey(appName: app, userId: user, sessionId: id)
        case .null?, nil: key = nil
        default: return nil
        }
        self.init(store: store, location: location, reason: reason, key: key)
    }
}

extension CopyCounts {
    /// Member names of the JSON form, with the key paths they hold.
    private static var members: [(String, WritableKeyPath<CopyCounts, Int>)] {
        [
            ("read", \.read), ("inserted", \.inserted), ("updated", \.updated), ("merged", \.merged), ("conflicted", \.conflicted),
            ("unchanged", \.unchanged),
            ("kept_newer_target", \.keptNewerTarget), ("skipped_existing", \.skippedExisting),
            ("skipped_expired", \.skippedExpired), ("deleted", \.deleted), ("events_read", \.eventsRead),
            ("events_written", \.eventsWritten),
        ]
    }

    func json() -> JSONObject {
        JSONObject(Self.members.map { (key: $0.0, value: JSONValue.number(JSONNumber(self[keyPath: $0.1]))) })
    }

    init(json: JSONObject, path: String) throws {
        self.init()
        let reader = CheckpointReader(path: path)
        // `merged` and `conflicted` are absent in checkpoints written before the two-sided merge.
        for (name, keyPath) in Self.members where json[name] != nil || !["merged", "conflicted"].contains(name) {
            self[keyPath: keyPath] = try reader.int(json, name)
        }
    }
}

/// Typed member access with errors naming the member's path.
private struct CheckpointReader {
    let path: String

    func int(_ object: JSONObject, _ name: String) throws -> Int {
        guard case .number(let number)? = object[name], let value = Int(number.literal) else {
            throw CopyCheckpointError("\(path).\(name) is missing or not an integer")
        }
        return value
    }

    func double(_ object: JSONObject, _ name: String) throws -> Double {
        guard case .number(let number)? = object[name], number.doubleValue.isFinite else {
            throw CopyCheckpointError("\(path).\(name) is missing or not a number")
        }
        return number.doubleValue
    }

    func object(_ object: JSONObject, _ name: String) throws -> JSONObject {
        guard case .object(let value)? = object[name] else { throw CopyCheckpointError("\(path).\(name) is missing or not an object") }
        return value
    }
}
