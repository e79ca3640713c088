import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// What a step needs while it runs: its parameters resolved, where to report checkpoints, and
/// the test hooks. Steps never print; they return the detail recorded in `step_done`.
public struct StepContext {
    public var id: String
    public var spec: StepSpec
    public var variables: RunbookVariables
    /// `step_done` details of the steps that already finished, for `${steps.ID.KEY}`.
    public var outputs: [String: JSONObject]
    /// The last checkpoint of an interrupted attempt of this step, if any.
    public var resumeFrom: JSONObject?
    /// 1 for the first attempt of this step, more after a crash or failure.
    public var attempt = 1
    /// Report nothing and write nothing anywhere.
    public var dryRun: Bool
    /// Records a checkpoint in the journal (durably) after a batch was committed.
    public var checkpoint: (JSONObject) throws -> Void
    /// Test hook called after a batch reached the target and before its checkpoint.
    public var afterBatchWritten: () throws -> Void
    /// Progress lines for the operator (stderr in the CLI).
    public var progress: (String) -> Void
    public var opener = StoreOpener()
    public var now: () -> Double = Clock.epochSeconds

    /// A resolved scalar parameter, or `nil` when absent.
    public func value(_ name: String) throws -> String? {
        try spec.values[name].map { try variables.substitute($0, outputs: outputs) }
    }

    /// A resolved scalar parameter that must be present.
    public func required(_ name: String) throws -> String {
        guard let value = try value(name) else { throw RunbookError("step '\(id)' (\(spec.kind.rawValue)) needs '\(name)'") }
        return value
    }

    /// A resolved list parameter (empty when absent).
    public func list(_ name: String) throws -> [String] {
        try (spec.lists[name] ?? []).map { try variables.substitute($0, outputs: outputs) }
    }

    /// A store address parameter, parsed with the bot's environment (`cloudsql`, `redis` work).
    public func address(_ name: String) throws -> StoreAddress {
        try address(text: try required(name))
    }

    func address(text: String) throws -> StoreAddress {
        do {
            return try StoreAddress.parse(text, environment: variables.environment) { progress("step '\(id)': warning: \($0)") }
        } catch {
            throw RunbookError("step '\(id)': \(error.message)")
        }
    }

    /// Copy options from the step's parameters: `apps`/`users`/`sessions` lists, `updated_since`,
    /// `updated_before` (epoch seconds or UTC text), `on_conflict`, `mirror`, `ttl`, `ttl_from`,
    /// `include_expired`, `batch_size`, `skip_bad`.
    public func copyOptions() throws -> CopyOptions {
        var options = CopyOptions(batchSize: Int(try value("batch_size") ?? "") ?? 200)
        options.filter.apps = Set(try list("apps"))
        options.filter.users = Set(try list("users"))
        options.filter.sessionIds = Set(try list("sessions"))
        options.filter.updatedSince = try time("updated_since")
        options.filter.updatedBefore = try time("updated_before")
        if let text = try value("on_conflict") {
            guard let policy = ConflictPolicy(rawValue: text) else { throw RunbookError("step '\(id)': on_conflict '\(text)' is not newer, source, skip or fail") }
            options.onConflict = policy
        }
        options.mirror = try value("mirror") == "true"
        options.ttlSeconds = try value("ttl").flatMap { Int($0) }
        if let text = try value("ttl_from") {
            guard let origin = TTLOrigin(rawValue: text) else { throw RunbookError("step '\(id)': ttl_from '\(text)' is not update or now") }
            options.ttlOrigin = origin
        }
        options.includeExpired = try value("include_expired") == "true"
        options.skipBad = try value("skip_bad") == "true"
        options.dryRun = dryRun
        return options
    }

    func time(_ name: String) throws -> Double? {
        guard var text = try value(name), !text.isEmpty else { return nil }
        if let epoch = Double(text) { return epoch }
        if text.hasSuffix("Z") { text.removeLast() }
        do {
            return try PythonTime.epoch(fromNaiveUTC: text)
        } catch {
            throw RunbookError("step '\(id)': \(name) '\(text)' is not a time")
        }
    }
}
