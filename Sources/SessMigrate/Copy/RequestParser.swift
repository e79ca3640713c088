import DriverCore
import Foundation
import SessionModel

/// The options a ``CopyRequest`` (and a diff or verify ``SessionScope``) is made of, by their
/// canonical names: the runbook spelling (`batch_size`) and the command-line one (`--batch-size`)
/// are derived from one name, so both front ends read the same options.
public enum RequestOption: String, Sendable, Hashable, CaseIterable {
    case app, user, session
    case updatedSince = "updated_since"
    case updatedBefore = "updated_before"
    case shard
    case shardBy = "shard_by"
    case onConflict = "on_conflict"
    case ttl
    case ttlFrom = "ttl_from"
    case includeExpired = "include_expired"
    case batchSize = "batch_size"
    case retries
    case dryRun = "dry_run"
    case skipBad = "skip_bad"
    case mirror
    case yes
    case workers
    case maxRate = "max_rate"
    case pauseFile = "pause_file"

    /// The options that may be given more than once (lists).
    public var isList: Bool { [.app, .user, .session].contains(self) }

    /// The runbook key: `batch_size`; lists take the plural (`apps`, `users`, `sessions`).
    public var runbookKey: String { isList ? rawValue + "s" : rawValue }

    /// The command-line option: `--batch-size`.
    public var commandLineFlag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
}

/// Raw option values as the operator typed them, before any validation: the command line's
/// strings and flags, or a runbook step's scalars and lists.
public struct RequestInput: Sendable, Hashable {
    public var values: [RequestOption: String] = [:]
    public var lists: [RequestOption: [String]] = [:]

    public init(values: [RequestOption: String] = [:], lists: [RequestOption: [String]] = [:]) {
        self.values = values
        self.lists = lists
    }
}

/// An option value the request parser refuses: which option, and what is wrong with it. Shown in
/// the spelling of the front end that read it (``message(spelling:)``).
public struct RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var option: RequestOption
    /// What is wrong, after the option's name: `must be a positive integer, not 'x'`.
    public var problem: String

    public init(_ option: RequestOption, _ problem: String) {
        self.option = option
        self.problem = problem
    }

    public enum Spelling: Sendable { case commandLine, runbook }

    public func message(spelling: Spelling) -> String {
        (spelling == .commandLine ? option.commandLineFlag : option.runbookKey) + " " + problem
    }

    public var description: String { message(spelling: .commandLine) }
}

extension CopyRequest {
    /// Builds and validates a request; every rule is here, for both front ends. `environment`
    /// answers `shard: auto` (Cloud Run Jobs, Kubernetes Indexed Jobs).
    ///
    /// - Throws: ``RequestError`` for the first option that is not acceptable.
    public static func parse(_ input: RequestInput, environment: [String: String] = [:]) throws(RequestError) -> CopyRequest {
        let reader = RequestReader(input: input)
        var request = CopyRequest()
        request.scope = try SessionScope.parse(input, environment: environment)
        if let text = reader.value(.onConflict) {
            guard let policy = ConflictPolicy(rawValue: text) else {
                throw RequestError(.onConflict, "must be merge, newer, source, skip or fail, not '\(text)'")
            }
            request.onConflict = policy
        }
        request.ttl.seconds = try reader.integer(.ttl, in: 1...315_360_000, unit: "seconds")
        if let text = reader.value(.ttlFrom) {
            guard let origin = TTLOrigin(rawValue: text) else { throw RequestError(.ttlFrom, "must be update or now, not '\(text)'") }
            request.ttl.origin = origin
        }
        request.ttl.includeExpired = try reader.bool(.includeExpired)
        request.batchSize = try reader.integer(.batchSize, in: 1...maxBatchSize, unit: "sessions") ?? request.batchSize
        if let retries = try reader.integer(.retries, in: 0...100, unit: "retries") { request.retry = RetryPolicy(retries: retries) }
        request.dryRun = try reader.bool(.dryRun)
        request.skipBad = try reader.bool(.skipBad)
        request.mirror = try reader.bool(.mirror)
        if request.mirror, !(try reader.bool(.yes)), !request.dryRun {
            throw RequestError(.mirror, "deletes target sessions the source lacks: confirm with yes (try a dry run first)")
        }
        try request.parseScaling(reader)
        return request
    }
}

extension SessionScope {
    /// The scope options of `input` (`app`, `user`, `session`, `updated_since`, `updated_before`,
    /// `shard`, `shard_by`), validated as for a copy: `diff` and `verify` take exactly these. A shard's
    /// function is `id` at once, or for `slots` and `auto` (the default) settled once the source is
    /// open (``SessionScope/settleShard(for:)``).
    public static func parse(_ input: RequestInput, environment: [String: String] = [:]) throws(RequestError) -> SessionScope {
        let reader = RequestReader(input: input)
        var scope = SessionScope()
        scope.apps = try reader.names(.app)
        scope.users = try reader.names(.user)
        scope.sessionIds = try reader.names(.session)
        scope.updatedSince = try reader.time(.updatedSince)
        scope.updatedBefore = try reader.time(.updatedBefore)
        if let since = scope.updatedSince, let before = scope.updatedBefore, before <= since {
            throw RequestError(.updatedBefore, "must be later than updated_since")
        }
        if let text = reader.value(.shard) {
            do {
                scope.shard = try ShardSpec.resolve(text, environment: environment)
            } catch {
                throw RequestError(.shard, error.description)
            }
        }
        if let text = reader.value(.shardBy) {
            guard let choice = ShardChoice(rawValue: text) else { throw RequestError(.shardBy, "must be id, slots or auto, not '\(text)'") }
            guard scope.shard != nil else { throw RequestError(.shardBy, "needs shard (it chooses how the sessions are split into shards)") }
            scope.unsettledShardChoice = choice == .id ? nil : choice
        } else if scope.shard != nil {
            scope.unsettledShardChoice = .auto
        }
        return scope
    }
}

/// Typed access to a ``RequestInput`` with the shared rules and messages.
struct RequestReader {
    let input: RequestInput

    func value(_ option: RequestOption) -> String? {
        guard let text = input.values[option] else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A list option; empty names are refused (an empty `--app ''` would match nothing).
    func names(_ option: RequestOption) throws(RequestError) -> Set<String> {
        let items = input.lists[option] ?? []
        if items.contains(where: \.isEmpty) { throw RequestError(option, "must not be empty") }
        return Set(items)
    }

    func integer(_ option: RequestOption, in range: ClosedRange<Int>, unit: String) throws(RequestError) -> Int? {
        guard let text = value(option) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw RequestError(option, "must be a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    /// `true` or `false` (a flag on the command line is `true` when present).
    func bool(_ option: RequestOption) throws(RequestError) -> Bool {
        guard let text = value(option) else { return false }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw RequestError(option, "must be true or false, not '\(text)'")
        }
    }

    /// A UTC time: epoch seconds, `YYYY-MM-DD`, or `YYYY-MM-DD HH:MM:SS[.ffffff]` (`T` separator
    /// and a trailing `Z` accepted).
    func time(_ option: RequestOption) throws(RequestError) -> Double? {
        guard var text = value(option) else { return nil }
        if let epoch = Double(text), epoch.isFinite { return epoch }
        if text.hasSuffix("Z") { text.removeLast() }
        if text.count == 10 { text += " 00:00:00" }
        do {
            return try PythonTime.epoch(fromNaiveUTC: text)
        } catch {
            throw RequestError(option, "must be a UTC time (YYYY-MM-DD[ HH:MM:SS[.ffffff]] or epoch seconds), not '\(value(option) ?? "")'")
        }
    }
}

/// `shard` values: `i/N` (0-based), `auto` (Cloud Run Jobs: `CLOUD_RUN_TASK_INDEX` of
/// `CLOUD_RUN_TASK_COUNT`), or `auto/N` (Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` of `N`).
public enum ShardSpec {
    public static func resolve(_ text: String, environment: [String: String]) throws(ShardError) -> Shard {
        guard text == "auto" || text.hasPrefix("auto/") else { return try Shard(parsing: text) }
        if text == "auto" {
            guard let index = environment["CLOUD_RUN_TASK_INDEX"].flatMap({ Int($0) }),
                let count = environment["CLOUD_RUN_TASK_COUNT"].flatMap({ Int($0) })
            else {
                throw ShardError("auto needs CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT (a Cloud Run Job task); on Kubernetes use auto/N")
            }
            return try Shard(index: index, count: count)
        }
        guard let count = Int(text.dropFirst("auto/".count)) else { throw ShardError("'\(text)' is not auto/N") }
        guard let index = environment["JOB_COMPLETION_INDEX"].flatMap({ Int($0) }) else {
            throw ShardError("auto/\(count) needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job pod)")
        }
        return try Shard(index: index, count: count)
    }
}
