import Foundation
import Yams

/// A runbook: a named, ordered list of steps with variables, read from a YAML file.
///
/// ```yaml
/// name: backfill
/// description: Pre-deploy backfill, CloudSQL -> Redis
/// variables:                 # defaults; --var NAME=VALUE and the bot's environment override them
///   source: cloudsql
///   target: redis
/// steps:
///   - id: copy
///     kind: copy               # preflight, snapshot, restore, copy, verify, gate, converge, watermark
///     source: ${source}
///     target: ${target}
///     ttl_from: update
/// ```
/// Values may use `${name}` (a variable) and `${steps.ID.KEY}` (a value an earlier step recorded,
/// such as `${steps.watermark.time}`).
public struct RunbookDocument: Sendable, Hashable {
    public var name: String
    public var description: String
    /// Default values of variables, in file order.
    public var variables: [(name: String, value: String)]
    public var steps: [StepSpec]

    public static func == (lhs: RunbookDocument, rhs: RunbookDocument) -> Bool {
        lhs.name == rhs.name && lhs.description == rhs.description && lhs.steps == rhs.steps
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
        if let node = mapping["variables"] {
            guard let entries = node.mapping else { throw RunbookError("variables must be a mapping of NAME: value") }
            for (key, value) in entries {
                guard let key = key.string, let value = value.string else { throw RunbookError("variable values must be scalars") }
                variables.append((name: key, value: value))
            }
        }
        guard let stepNodes = mapping["steps"]?.sequence, !stepNodes.isEmpty else { throw RunbookError("the runbook has no steps") }
        var steps: [StepSpec] = []
        for (index, node) in stepNodes.enumerated() {
            let step = try StepSpec(node: node, index: index)
            if steps.contains(where: { $0.id == step.id }) { throw RunbookError("step id '\(step.id)' is used twice") }
            steps.append(step)
        }
        return RunbookDocument(name: name, description: mapping["description"]?.string ?? "", variables: variables, steps: steps)
    }
}

/// The kinds of step a runbook can hold.
public enum StepKind: String, Sendable, Hashable, CaseIterable {
    case preflight, snapshot, restore, copy, verify, gate, converge, watermark
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
            guard let key = key.string, key != "id", key != "kind" else { continue }
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
