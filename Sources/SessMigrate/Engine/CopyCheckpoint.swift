import DriverCore
import SessionModel

/// Where an interrupted copy stands: the source cursor's resume token after the last batch
/// committed to the target, and the summary counted up to that batch.
///
/// ``CopyEngine/run(from:to:targetTTLSeconds:resume:checkpoint:onBatchWritten:progress:)`` hands
/// one to its `checkpoint` callback after every batch and resumes from one given as `resume`.
/// ``json()`` and ``init(json:)`` let a journal store it as a JSON object:
///
/// ```json
/// {"version": 1, "cursor": "k1:…", "summary": {"apps": {"app": {"read": 3, "inserted": 3, …}},
///  "seconds": 1.5, "dropped_fields": {}, "dry_run": false, "kept_sessions": [["app", "u", "s"]],
///  "expected_sessions": 10}}
/// ```
public struct CopyCheckpoint: Sendable, Hashable {
    /// The source scan's ``SessionCursor/resumeToken`` (`nil`: start from the beginning).
    public var cursor: String?
    /// The counts of every batch up to and including the one this checkpoint follows.
    public var summary: CopySummary

    public init(cursor: String?, summary: CopySummary) {
        self.cursor = cursor
        self.summary = summary
    }

    /// The version of the JSON form written by ``json()``.
    public static let formatVersion = 1

    /// The checkpoint as a JSON object (stable key order).
    public func json() -> JSONObject {
        [
            "version": .number(JSONNumber(Self.formatVersion)),
            "cursor": cursor.map(JSONValue.string) ?? .null,
            "summary": .object(summary.json()),
        ]
    }

    /// Reads the JSON form of ``json()``.
    ///
    /// - Throws: ``CopyCheckpointError`` naming the missing or malformed member, or a version
    ///   this build does not know.
    public init(json: JSONObject) throws {
        let reader = CheckpointReader(path: "checkpoint")
        let version = try reader.int(json, "version")
        guard version == Self.formatVersion else {
            throw CopyCheckpointError("checkpoint format version \(version) is not supported (this build reads version \(Self.formatVersion))")
        }
        switch json["cursor"] {
        case .string(let token)?: cursor = token
        case .null?, nil: cursor = nil
        default: throw CopyCheckpointError("checkpoint.cursor is not a string or null")
        }
        summary = try CopySummary(json: try reader.object(json, "summary"))
    }
}

/// A checkpoint JSON object that cannot be read back.
public struct CopyCheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension CopySummary {
    /// The summary as a JSON object (apps and dropped fields sorted by name).
    func json() -> JSONObject {
        var apps = JSONObject()
        for name in self.apps.keys.sorted() { apps[name] = .object(self.apps[name, default: CopyCounts()].json()) }
        var dropped = JSONObject()
        for name in droppedFields.keys.sorted() { dropped[name] = .number(JSONNumber(droppedFields[name, default: 0])) }
        return [
            "apps": .object(apps),
            "seconds": .number(JSONNumber(seconds)),
            "dropped_fields": .object(dropped),
            "dry_run": .bool(dryRun),
            "kept_sessions": .array(keptSessions.map { .array([.string($0.appName), .string($0.userId), .string($0.sessionId)]) }),
            "expected_sessions": expectedSessions.map { .number(JSONNumber($0)) } ?? .null,
            "skipped": .array(skipped.map { .object($0.json()) }),
            "skipped_count": .number(JSONNumber(skippedCount)),
        ]
    }

    init(json: JSONObject) throws {
        self.init()
        let reader = CheckpointReader(path: "checkpoint.summary")
        for (name, value) in try reader.object(json, "apps") {
            guard case .object(let counts) = value else { throw CopyCheckpointError("checkpoint.summary.apps[\(name)] is not an object") }
            apps[name] = try CopyCounts(json: counts, path: "checkpoint.summary.apps[\(name)]")
        }
        seconds = try reader.double(json, "seconds")
        let dropped = try reader.object(json, "dropped_fields")
        let droppedReader = CheckpointReader(path: "checkpoint.summary.dropped_fields")
        for name in dropped.keys { droppedFields[name] = try droppedReader.int(dropped, name) }
        guard case .bool(let dry)? = json["dry_run"] else { throw CopyCheckpointError("checkpoint.summary.dry_run is missing or not a boolean") }
        dryRun = dry
        guard case .array(let kept)? = json["kept_sessions"] else { throw CopyCheckpointError("checkpoint.summary.kept_sessions is missing or not an array") }
        keptSessions = try kept.map { value in
            guard case .array(let parts) = value, parts.count == 3, let app = parts[0].stringValue,
                let user = parts[1].stringValue, let id = parts[2].stringValue
            else { throw CopyCheckpointError("checkpoint.summary.kept_sessions holds an entry that is not [app, user, id]") }
            return SessionKey(appName: app, userId: user, sessionId: id)
        }
        expectedSessions = json["expected_sessions"] == .null ? nil : try reader.int(json, "expected_sessions")
        // Absent in checkpoints written before --skip-bad existed.
        if case .array(let items)? = json["skipped"] {
            skipped = try items.map { item in
                guard case .object(let object) = item, let skip = SkippedSession(json: object) else {
                    throw CopyCheckpointError("checkpoint.summary.skipped holds an entry that is not {store, location, reason, key}")
                }
                return skip
            }
            skippedCount = json["skipped_count"] == nil ? skipped.count : try reader.int(json, "skipped_count")
        }
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
            ("read", \.read), ("inserted", \.inserted), ("updated", \.updated), ("unchanged", \.unchanged),
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
        for (name, keyPath) in Self.members { self[keyPath: keyPath] = try reader.int(json, name) }
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
