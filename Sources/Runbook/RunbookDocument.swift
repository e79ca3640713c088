import Foundation
import SessMigrate
import Yams

/// A runbook: a named, ordered list of steps with variables, read from a YAML file.
///
/// ```yaml
/// name: backfill
/// description: Pre-deploy backfill, CloudSQL -> Redis
/// variables:                 # defaults; --var NAME=VALUE and the bot's environment override them
///   source: cloudsql
///   target: redis
///   recovered:                 # the long form: a default, and whether `resume` may change it
///     default: cloudsql
///     may_change_on_resume: true
/// steps:
///   - id: copy
///     kind: copy               # preflight, snapshot, restore, copy, verify, gate, converge, watermark
///     source: ${source}
///     target: ${target}
///     ttl_from: update
/// hooks:                       # optional: commands run at named moments (RunbookHooks)
///   on_failure: ./page-oncall.sh
/// ```
/// Values may use `${name}` (a variable), `${steps.ID.KEY}` (a value an earlier step recorded,
/// such as `${steps.watermark.time}`) and `${env:NAME}` (an environment variable, read when the
/// value is used and never written to the journal: for secrets in a gate command).
public struct RunbookDocument: Sendable, Hashable {
    public var name: String
    public var description: String
    /// Default values of variables, in file order.
    public var variables: [(name: String, value: String)]
    /// Variables whose value `resume` may change (`may_change_on_resume: true`); every other
    /// variable must keep the value the run started with.
    public var mutableVariables: Set<String> = []
    public var steps: [StepSpec]
    /// Commands run at named moments of the run (`hooks:`; ``RunbookHooks``).
    public var hooks = RunbookHooks()

    public static func == (lhs: RunbookDocument, rhs: RunbookDocument) -> Bool {
        lhs.name == rhs.name && lhs.description == rhs.description && lhs.steps == rhs.steps && lhs.hooks == rhs.hooks
            && lhs.variables.map(\.name) == rhs.variables.map(\.name) && lhs.variables.map(\.value) == rhs.variables.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(steps)
    }

    /// Parses a runbook, naming the first problem (step id, key) in the error.
    public static func parse(_ text: String) throws -> RunbookDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RunbookError("the runbook is not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else { throw RunbookError("the runbook must be a mapping with name, variables and steps") }
        guard let name = mapping["name"]?.string, !name.isEmpty else { throw RunbookError("the runbook has no name") }
        var variables: [(name: String, value: String)] = []
        var mutable: Set<String> = []
        if let node = mapping["variables"] {
            guard let entries = node.mapping else { throw RunbookError("variables must be a mapping of NAME: value") }
            for (key, value) in entries {
                guard let key = key.string else { throw RunbookError("variable names must be scalars") }
                if let text = value.string {
                    variables.append((name: key, value: text))
                } else if let long = value.mapping {
                    let known: Set<String> = ["default", "may_change_on_resume", "description"]
                    if let unknown = long.keys.compactMap(\.string).first(where: { !known.contains($0) }) {
                        throw RunbookError("variable \(key): unknown key '\(unknown)' (known: default, may_change_on_resume, description)")
                    }
                    variables.append((name: key, value: long["default"]?.string ?? ""))
                    switch long["may_change_on_resume"]?.string {
                    case "true"?: mutable.insert(key)
                    case "false"?, nil: break
                    case let other?: throw RunbookError("variable \(key): may_change_on_resume must be true or false, not '\(other)'")
                    }
                } else {
                    throw RunbookError("variable \(key) must be a scalar or a mapping with default and may_change_on_resume")
                }
            }
        }
        guard let stepNodes = mapping["steps"]?.sequence, !stepNodes.isEmpty else { throw RunbookError("the runbook has no steps") }
        var steps: [StepSpec] = []
        for (index, node) in stepNodes.enumerated() {
            let step = try StepSpec(node: node, index: index)
            if steps.contains(where: { $0.id == step.id }) { throw RunbookError("step id '\(step.id)' is used twice") }
            steps.append(step)
        }
        var document = RunbookDocument(name: name, description: mapping["description"]?.string ?? "", variables: variables, steps: steps)
        document.mutableVariables = mutable
        document.hooks = try RunbookHooks.parse(mapping["hooks"])
        return document
    }
}

/// The kinds of step a runbook can hold.
public enum StepKind: String, Sendable, Hashable, CaseIterable {
    case preflight, snapshot, restore, copy, verify, gate, converge, watermark

    /// The parameters a step of this kind takes; any other key is refused when the runbook is read,
    /// so a typo is never ignored. Copy options use the request parser's names (``RequestOption``).
    public var keys: Set<String> {
        let scope: Set<String> = ["apps", "users", "sessions", "updated_since", "updated_before", "shard", "shard_by"]
        let request = scope.union(RequestOption.allCases.map(\.runbookKey))
        switch self {
        case .preflight: return ["stores", "at_risk_from", "at_risk_to", "free_space_for", "space_for_store"]
        case .snapshot: return scope.union(["source", "file", "force", "best_effort", "batch_size", "skip_bad", "workers", "max_rate", "pause_file"])
        case .restore: return request.union(["file", "target", "skip_if_missing"])
        case .copy: return request.union(["source", "target"])
        case .verify:
            return scope.union([
                "a", "b", "replay", "store", "skip_bad", "mode", "pending_since", "ttl", "ttl_from", "include_expired", "reopen_on_failure", "pass_size",
            ])
        case .gate: return ["command"]
        case .converge:
            return request.union([
                "source", "target", "since", "max_passes", "margin_seconds", "required", "drain_after", "drain", "sweep_since", "pass_interval",
            ])
        case .watermark: return ["store", "margin_seconds"]
        }
    }
}

/// One step as written in the runbook (values still hold `${…}` references).
public struct StepSpec: Sendable, Hashable {
    public var id: String
    public var kind: StepKind
    /// Scalar parameters by name.
    public var values: [String: String]
    /// List parameters by name (e.g. `stores`, `apps`).
    public var lists: [String: [String]]

    init(node: Node, index: Int) throws {
        guard let mapping = node.mapping else { throw RunbookError("step \(index + 1) is not a mapping") }
        guard let id = mapping["id"]?.string, !id.isEmpty else { throw RunbookError("step \(index + 1) has no id") }
        guard let kindText = mapping["kind"]?.string, let kind = StepKind(rawValue: kindText) else {
            throw RunbookError("step '\(id)' needs a kind: one of \(StepKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.id = id
        self.kind = kind
        values = [:]
        lists = [:]
        for (key, value) in mapping {
            guard let key = key.string, key != "id", key != "kind", key != "description" else { continue }
            guard kind.keys.contains(key) else {
                throw RunbookError("step '\(id)' (\(kind.rawValue)) has no parameter '\(key)'; it takes: \(kind.keys.sorted().joined(separator: ", "))")
            }
            if let scalar = value.string {
                values[key] = scalar
            } else if let sequence = value.sequence {
                lists[key] = try sequence.map { item in
                    guard let text = item.string else { throw RunbookError("step '\(id)': \(key) must be a list of scalars") }
                    return text
                }
            } else {
                throw RunbookError("step '\(id)': \(key) must be a scalar or a list")
            }
        }
    }
}

/// A runbook that cannot be read or run as written.
public struct RunbookError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
