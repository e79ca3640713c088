import Foundation
import Yams

/// The named moments of a run at which a runbook's hooks run (gh-ost's hooks are the model).
public enum HookMoment: String, Sendable, Hashable, CaseIterable, Comparable {
    /// A step's attempt started (`step_started` is recorded); gates included.
    case onStepStart = "on_step_start"
    /// A step's work is complete, just before its `step_done` is recorded.
    case onStepDone = "on_step_done"
    /// A gate starts waiting for `sessmigrate continue` (`gate_waiting` is recorded), or is about to run
    /// its command.
    case onGate = "on_gate"
    /// A step's attempt failed (`step_failed` is recorded), whether the runner retries it or stops.
    case onFailure = "on_failure"
    /// The run finished (`run_finished` is recorded).
    case onDone = "on_done"

    public static func < (lhs: HookMoment, rhs: HookMoment) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// When the hook runs, in a few words (dry runs and messages).
    public var when: String {
        switch self {
        case .onStepStart: "when each step starts"
        case .onStepDone: "when each step is done"
        case .onGate: "when a gate starts waiting or runs its command"
        case .onFailure: "when a step fails (also before a retry)"
        case .onDone: "when the run finishes"
        }
    }
}

/// What a hook is told about the moment: `SESSMIGRATE_STATUS`.
public enum HookStatus: String, Sendable, Hashable {
    case started, done, failed, waiting, finished
}

/// One hook as the runbook declares it: a shell command (values substituted like a step's), whether
/// its failure fails the run, and how long it may take.
public struct HookSpec: Sendable, Hashable {
    /// The command as written (`${…}` references unresolved): run with `/bin/sh -c` once resolved.
    public var command: String
    /// A failing required hook fails the run (the step it reports on, when there is one); otherwise a
    /// failure is recorded (`hook_failed`) and reported, and the run goes on.
    public var required = false
    /// Seconds before the hook's process group gets SIGTERM (then SIGKILL ``RunbookHooks/killGraceSeconds`` later).
    public var timeoutSeconds = RunbookHooks.defaultTimeoutSeconds

    public init(command: String, required: Bool = false, timeoutSeconds: Int = RunbookHooks.defaultTimeoutSeconds) {
        self.command = command
        self.required = required
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The `hooks:` mapping of a runbook:
///
/// ```yaml
/// hooks:
///   on_step_done: ./notify.sh            # the short form: a command
///   on_failure:                           # the long form
///     command: curl -fsS -X POST "$SLACK_WEBHOOK" -d "{\"text\": \"$SESSMIGRATE_MESSAGE\"}"
///     required: true
///     timeout_seconds: 30
/// ```
///
/// Unknown moments and keys are refused when the runbook is read. The hooks are part of the runbook's
/// text, which the journal stores and `resume` reads back: they cannot change during a run.
public struct RunbookHooks: Sendable, Hashable {
    public static let defaultTimeoutSeconds = 30
    public static let timeoutRange = 1...86_400
    /// Seconds between SIGTERM and SIGKILL to a hook's process group that outlived its timeout.
    public static let killGraceSeconds = 2.0

    /// The declared hooks by moment.
    public var specs: [HookMoment: HookSpec] = [:]

    public init(specs: [HookMoment: HookSpec] = [:]) {
        self.specs = specs
    }

    public var isEmpty: Bool { specs.isEmpty }

    public subscript(moment: HookMoment) -> HookSpec? { specs[moment] }

    /// Reads the `hooks` node of a runbook (`nil`: no hooks).
    static func parse(_ node: Node?) throws -> RunbookHooks {
        guard let node else { return RunbookHooks() }
        guard let mapping = node.mapping else {
            throw RunbookError("hooks must be a mapping of moment: command (moments: \(Self.momentList))")
        }
        var hooks = RunbookHooks()
        for (key, value) in mapping {
            guard let name = key.string, let moment = HookMoment(rawValue: name) else {
                throw RunbookError("hooks: unknown hook '\(key.string ?? "?")'; the hooks are: \(Self.momentList)")
            }
            hooks.specs[moment] = try spec(value, name: name)
        }
        return hooks
    }

    static var momentList: String { HookMoment.allCases.map(\.rawValue).joined(separator: ", ") }

    private static func spec(_ node: Node, name: String) throws -> HookSpec {
        if let command = node.string {
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else { throw RunbookError("hooks: \(name) has an empty command") }
            return HookSpec(command: command)
        }
        guard let long = node.mapping else {
            throw RunbookError("hooks: \(name) must be a command or a mapping with command, required, timeout_seconds")
        }
        let known = ["command", "required", "timeout_seconds"]
        if let unknown = long.keys.first(where: { !known.contains($0.string ?? "") }) {
            throw RunbookError("hooks: \(name) has no key '\(unknown.string ?? "?")'; it takes: \(known.joined(separator: ", "))")
        }
        guard let command = long["command"]?.string, !command.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RunbookError("hooks: \(name) needs a command")
        }
        var spec = HookSpec(command: command)
        switch long["required"]?.string {
        case "true"?: spec.required = true
        case "false"?, nil: break
        case let other?: throw RunbookError("hooks: \(name): required must be true or false, not '\(other)'")
        }
        if let node = long["timeout_seconds"] {
            guard let text = node.string, let seconds = Int(text), timeoutRange.contains(seconds) else {
                throw RunbookError(
                    "hooks: \(name): timeout_seconds must be a whole number from \(timeoutRange.lowerBound) to \(timeoutRange.upperBound), "
                        + "not '\(node.string ?? "?")'")
            }
            spec.timeoutSeconds = seconds
        }
        return spec
    }

    /// What a dry run says about the hooks: one line each, the command as written (never resolved, so
    /// neither a variable's value nor `${env:…}` is shown). Hooks never run in a dry run.
    public func dryRunLines() -> [String] {
        specs.sorted { $0.key < $1.key }.map { moment, spec in
            let options = (spec.required ? "required, " : "") + "timeout \(spec.timeoutSeconds) s"
            return "hook \(moment.rawValue) (\(options)): would run \(moment.when) (not in a dry run): \(spec.command)"
        }
    }
}
