import DriverCore
import Foundation
import SessMigrate
import SessionModel

/// What a step needs while it runs: its parameters resolved, where to report checkpoints and
/// progress, and the test hooks. Steps never print; they return the detail recorded in `step_done`.
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
    /// Progress for the operator and the journal (kept and skipped sessions are journaled).
    public var events: ProgressSink
    public var opener = StoreOpener()
    public var clock = Clock.system

    /// A sentence for the operator.
    public func note(_ text: String) { events(.note(text)) }

    /// The current time on the run's clock.
    public func now() -> Double { clock.now() }

    /// A resolved scalar parameter, or `nil` when absent.
    public func value(_ name: String) throws -> String? {
        try spec.values[name].map { try variables.substitute($0, outputs: outputs) }
    }

    /// A resolved scalar parameter that must be present.
    public func required(_ name: String) throws -> String {
        guard let value = try value(name) else { throw RunbookError("step '\(id)' (\(spec.kind.rawValue)) needs '\(name)'") }
        return value
    }

    /// A resolved boolean parameter: `true` or `false` (absent or empty: `false`).
    public func flag(_ name: String) throws -> Bool {
        guard let text = try value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return false }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw RunbookError("step '\(id)': \(name) must be true or false, not '\(text)'")
        }
    }

    /// A resolved whole number in `range`, or `fallback` when absent or empty.
    public func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let text = try value(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return fallback }
        guard let number = Int(text), range.contains(number) else {
            throw RunbookError("step '\(id)': \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
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
            return try StoreAddress.parse(text, environment: variables.environment) { note("step '\(id)': warning: \($0)") }
        } catch {
            throw RunbookError("step '\(id)': \(error.message)")
        }
    }

    /// The step's options as the ``RequestInput`` the command line would give: `apps`/`users`/
    /// `sessions` lists and the scalar options by their runbook names.
    func requestInput() throws -> RequestInput {
        var input = RequestInput()
        for option in RequestOption.allCases {
            if option.isList {
                let items = try list(option.runbookKey)
                if !items.isEmpty { input.lists[option] = items }
            } else if let text = try value(option.runbookKey) {
                input.values[option] = text
            }
        }
        return input
    }

    /// The copy request of a copying step (`copy`, `converge`, `snapshot`, `restore`), parsed and
    /// validated by the same rules as the command line's options (``CopyRequest/parse(_:environment:)``).
    /// Transient faults are retried by the runner, which journals them: the request itself does not retry.
    public func copyRequest() throws -> CopyRequest {
        var request: CopyRequest
        let input = try requestInput()
        do {
            request = try CopyRequest.parse(input, environment: variables.environment.variables)
        } catch {
            throw RunbookError("step '\(id)': \(error.message(spelling: .runbook))")
        }
        request.retry = .none
        request.dryRun = request.dryRun || dryRun
        return request
    }

    /// The scope of a comparing step (`verify`), by the same rules.
    public func scope() throws -> SessionScope {
        let input = try requestInput()
        do {
            return try SessionScope.parse(input, environment: variables.environment.variables)
        } catch {
            throw RunbookError("step '\(id)': \(error.message(spelling: .runbook))")
        }
    }

    /// A time parameter (epoch seconds or UTC text), as the request parser reads times.
    func time(_ name: String) throws -> Double? {
        guard let text = try value(name), !text.isEmpty else { return nil }
        var input = RequestInput()
        input.values[.updatedSince] = text
        do {
            return try SessionScope.parse(input).updatedSince
        } catch {
            throw RunbookError("step '\(id)': \(name) '\(text)' is not a time (YYYY-MM-DD[ HH:MM:SS[.ffffff]] or epoch seconds)")
        }
    }

    /// The checkpoint of an interrupted attempt, as a copy checkpoint.
    func copyResume(_ object: JSONObject?) throws -> CopyCheckpoint? {
        try object.map { try CopyCheckpoint(json: $0) }
    }
}
