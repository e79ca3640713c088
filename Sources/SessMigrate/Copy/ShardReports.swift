import DriverCore
import SessionModel

/// One shard's `verify --format json` report, as `verify --combine` reads it: which stores (A and
/// B, redacted), which mode (`equal` or `contains`), which scope and shard, and the counts.
public struct ShardReport: Sendable {
    /// Where the report came from (a file name), for messages.
    public var name: String
    public var a: String
    public var b: String
    public var mode: String
    /// The shard the report covers, with its function (`scope.shard_by`); `nil` for an unsharded
    /// report (one report then covers all).
    public var shard: Shard?
    /// Everything that must be the same in every report: stores, mode, the scope without the shard,
    /// the containment options.
    public var identity: JSONObject
    public var document: JSONObject

    /// Reads a report.
    ///
    /// - Throws: ``ShardReportError`` naming the report and the member missing.
    public init(name: String, document: JSONObject) throws {
        guard let a = document["a"]?.stringValue, let b = document["b"]?.stringValue, var scope = document["scope"]?.objectValue else {
            throw ShardReportError("\(name) is not a `sessmigrate verify --format json` report of this version (no a, b or scope)")
        }
        let mode = document["mode"]?.stringValue ?? "equal"
        guard mode == "equal" || mode == "contains" else { throw ShardReportError("\(name): unknown mode '\(mode)'") }
        self.name = name
        self.a = a
        self.b = b
        self.mode = mode
        self.document = document
        switch scope["shard"] {
        case .string(let text)?:
            do { shard = try Shard(parsing: text, function: ScopeJSON.function(in: scope)) } catch {
                throw ShardReportError("\(name): \(error.description)")
            }
        case .null?, nil: shard = nil
        default: throw ShardReportError("\(name): scope.shard is not i/N or null")
        }
        scope["shard"] = nil
        scope[ScopeJSON.shardByKey] = nil
        identity = ["a": .string(a), "b": .string(b), "mode": .string(mode), "scope": .object(scope)]
        if let options = document["options"] { identity["options"] = options }
    }
}

/// Reports that cannot be combined into one verdict.
public struct ShardReportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// `verify --combine`: the reports of every shard of one comparison made one verdict, after
/// checking that they compare the same stores in the same mode and scope, split by the same shard
/// function, and cover each shard of `0..<N` exactly once (a single unsharded report covers everything).
public struct CombinedReport: Sendable {
    public var a: String
    public var b: String
    public var mode: String
    /// How many shards were combined (1 for an unsharded report).
    public var shards: Int
    /// Equal mode: the counts added up.
    public var diff = DiffSummary()
    /// Contains mode: the counts added up, lists capped (the reports' JSON members).
    public var containment: JSONObject = [:]

    /// Combines `reports`.
    ///
    /// - Throws: ``ShardReportError`` naming what does not fit: reports of other stores, mode or
    ///   scope, shards of different counts, a shard given twice or missing.
    public static func combine(_ reports: [ShardReport]) throws -> CombinedReport {
        guard let first = reports.first else { throw ShardReportError("--combine needs the reports of every shard") }
        for report in reports.dropFirst() where report.identity != first.identity {
            let what = ["a", "b", "mode", "scope", "options"].filter { report.identity[$0] != first.identity[$0] }
            throw ShardReportError(
                "\(report.name) and \(first.name) differ in \(what.joined(separator: ", ")): they are not shards of one comparison")
        }
        let count = try coverage(reports)
        var combined = CombinedReport(a: first.a, b: first.b, mode: first.mode, shards: count)
        if first.mode == "equal" {
            combined.diff = try addDiffs(reports)
        } else {
            combined.containment = try addContainments(reports)
        }
        return combined
    }

    /// The shard count, once every shard of `0..<N` is present exactly once.
    static func coverage(_ reports: [ShardReport]) throws -> Int {
        if reports.count == 1, reports[0].shard == nil { return 1 }
        guard let count = reports.first?.shard?.count, reports.allSatisfy({ $0.shard?.count == count }) else {
            let shown = reports.map { "\($0.name): \($0.shard?.description ?? "unsharded")" }
            throw ShardReportError("the reports are not shards of one split (\(shown.joined(separator: ", ")))")
        }
        if let function = reports.first?.shard?.function, let other = reports.first(where: { $0.shard?.function != function }) {
            throw ShardReportError(
                "the reports split the sessions by different shard functions (\(reports[0].name): \(function), \(other.name): "
                    + "\(other.shard?.function.description ?? "none")): they are not shards of one split")
        }
        var seen: [Int: String] = [:]
        for report in reports {
            guard let index = report.shard?.index else { continue }
            if let other = seen[index] { throw ShardReportError("shard \(index)/\(count) is in two reports: \(other) and \(report.name)") }
            seen[index] = report.name
        }
        let missing = (0..<count).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            let shown = missing.prefix(20).map { "\($0)/\(count)" }.joined(separator: ", ") + (missing.count > 20 ? ", …" : "")
            throw ShardReportError("\(missing.count) of \(count) shards have no report: \(shown)")
        }
        return count
    }

    static func number(_ object: JSONObject?, _ key: String, _ name: String) throws -> Double {
        guard let value = object?[key]?.doubleValue else { throw ShardReportError("\(name): \(key) is missing or not a number") }
        return value
    }

    static func addDiffs(_ reports: [ShardReport]) throws -> DiffSummary {
        var total = DiffSummary()
        for report in reports {
            let summary = report.document["summary"]?.objectValue
            func int(_ key: String) throws -> Int { Int(try number(summary, key, report.name)) }
            total.sessionsInA += try int("sessions_a")
            total.sessionsInB += try int("sessions_b")
            total.eventsInA += try int("events_a")
            total.eventsInB += try int("events_b")
            total.identical += try int("sessions_identical")
            total.onlyInA += try int("only_in_a")
            total.onlyInB += try int("only_in_b")
            total.changed += try int("changed")
            total.seconds = max(total.seconds, try number(summary, "seconds", report.name))
            total.skippedA += try skipped(summary?["skipped_a"], report.name)
            total.skippedB += try skipped(summary?["skipped_b"], report.name)
        }
        return total
    }

    static func skipped(_ value: JSONValue?, _ name: String) throws -> [SkippedSession] {
        guard let items = value?.arrayValue else { throw ShardReportError("\(name): the skipped sessions are missing") }
        return try items.map { item in
            guard let object = item.objectValue, let skipped = SkippedSession(json: object) else {
                throw ShardReportError("\(name): a skipped session is malformed")
            }
            return skipped
        }
    }

    /// Containment reports added up: counts summed, lists joined (at most 1000 names each), the
    /// oldest pending update the oldest of all.
    static func addContainments(_ reports: [ShardReport]) throws -> JSONObject {
        let counters = ["sessions_in_a", "events_in_a", "sessions_contained", "pending_converge", "expired", "only_in_b", "failure_count"]
        var sums = [String: Int]()
        var lists = [String: [JSONValue]]()
        var oldest: Double?
        var seconds = 0.0
        for report in reports {
            for key in counters { sums[key, default: 0] += Int(try number(report.document, key, report.name)) }
            for key in ["pending", "failures", "skipped_a", "skipped_b"] {
                guard let items = report.document[key]?.arrayValue else { throw ShardReportError("\(report.name): \(key) is missing") }
                lists[key, default: []] += items
            }
            if let time = report.document["oldest_pending_update"]?.doubleValue { oldest = min(oldest ?? time, time) }
            seconds = max(seconds, try number(report.document, "seconds", report.name))
        }
        var combined: JSONObject = ["format": .number(JSONNumber(1)), "mode": .string("contains")]
        combined["contained"] = .bool(sums["failure_count", default: 0] == 0)
        for key in counters { combined[key] = .number(JSONNumber(sums[key, default: 0])) }
        for key in ["pending", "failures", "skipped_a", "skipped_b"] { combined[key] = .array(Array(lists[key, default: []].prefix(1000))) }
        combined["skipped_count"] = .number(JSONNumber(lists["skipped_a", default: []].count + lists["skipped_b", default: []].count))
        combined["oldest_pending_update"] = oldest.map { .number(JSONNumber($0)) } ?? .null
        combined["seconds"] = .number(JSONNumber(seconds))
        return combined
    }
}
