import Foundation
import SessMigrate
import SessionModel

/// The variables of one run: `--var NAME=VALUE` over the bot's environment (process and `.env`)
/// over the runbook's defaults.
///
/// Secrets never reach the journal: ``redacted()`` replaces the value of any variable whose name
/// says it is secret (`PASSWORD`, `SECRET`, `TOKEN`, `KEY`) with `***` and shows store addresses
/// with their password as `***`. A resumed run therefore resolves variables again from the same
/// `--var` and environment, and checks that their redacted form matches the journal's.
public struct RunbookVariables: Sendable {
    public let values: [String: String]
    /// Names in a stable order: the runbook's, then the overrides'.
    public let names: [String]
    let environment: BotEnvironment

    /// - Throws: ``RunbookError`` for an override the runbook does not declare (a typo such as
    ///   `--var tagret=…` must never be ignored), listing the runbook's variables.
    public init(document: RunbookDocument, overrides: [String: String], environment: BotEnvironment) throws {
        var values: [String: String] = [:]
        var names: [String] = []
        for (name, value) in document.variables {
            values[name] = overrides[name] ?? environment.variables[name] ?? value
            names.append(name)
        }
        if let unknown = overrides.keys.sorted().first(where: { values[$0] == nil }) {
            let known = document.variables.map(\.name).joined(separator: ", ")
            throw RunbookError("runbook \(document.name) has no variable '\(unknown)'; its variables are: \(known.isEmpty ? "(none)" : known)")
        }
        self.values = values
        self.names = names
        self.environment = environment
    }

    /// Replaces `${name}`, `${steps.ID.KEY}` and `${env:NAME}` in `text`. With `revealingEnvironment`
    /// false, `${env:NAME}` stays as written (for dry runs and anything shown or stored).
    public func substitute(_ text: String, outputs: [String: JSONObject], revealingEnvironment: Bool = true) throws -> String {
        try Self.replacingReferences(in: text, prefix: "", unterminated: "unterminated ${ in '\(text)'") { name in
            if name.hasPrefix("env:"), !revealingEnvironment { return "${\(name)}" }
            if name.hasPrefix("env:") || name.hasPrefix("steps.") { return try lookup(name, outputs: outputs) }
            // A variable's value may hold `${env:NAME}` itself (`--var flip="curl -H 'Authorization: Bearer
            // ${env:DEPLOY_TOKEN}' …"`): expanded here, when used, so the journal keeps the reference.
            let value = try lookup(name, outputs: outputs)
            guard revealingEnvironment else { return value }
            // Any other `${…}` in the value stays as written (a shell's own).
            return try Self.replacingReferences(in: value, prefix: "env:", unterminated: "unterminated ${env: in a variable's value") {
                try lookup($0, outputs: [:])
            }
        }
    }

    /// `text` with each `${NAME}` whose name starts with `prefix` replaced by `replace(NAME)`; other text,
    /// other `${…}` included, stays as written.
    static func replacingReferences(
        in text: String, prefix: String, unterminated: @autoclosure () -> String, _ replace: (String) throws -> String
    ) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${" + prefix) {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { throw RunbookError(unterminated()) }
            result += try replace(prefix + rest[start.upperBound..<end])
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func lookup(_ name: String, outputs: [String: JSONObject]) throws -> String {
        if name.hasPrefix("env:") {
            let variable = String(name.dropFirst(4))
            guard let value = ProcessInfo.processInfo.environment[variable] ?? environment.variables[variable] else {
                throw RunbookError("${env:\(variable)} is not set: export \(variable) (or put it in the --env-file) before running")
            }
            return value
        }
        if name.hasPrefix("steps.") {
            let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { throw RunbookError("${\(name)} must be ${steps.STEP.KEY}") }
            guard let value = outputs[parts[1]]?[parts[2]] else {
                throw RunbookError("${\(name)}: step '\(parts[1])' has not recorded '\(parts[2])' (has it run?)")
            }
            if case .string(let text) = value { return text }
            return value.serialized(.compact)
        }
        if let value = values[name] ?? environment.variables[name] { return value }
        throw RunbookError("variable ${\(name)} is not set: pass --var \(name)=VALUE or set it in the environment")
    }

    /// `name = value` pairs safe to store and print.
    public func redacted() -> [(name: String, value: String)] {
        names.map { name in (name: name, value: Self.redact(name: name, value: values[name] ?? "")) }
    }

    static func redact(name: String, value: String) -> String {
        let upper = name.uppercased()
        if ["PASSWORD", "SECRET", "TOKEN", "KEY"].contains(where: { upper.contains($0) }) { return "***" }
        // Parsed without reading password files; text that does not parse is redacted as text.
        if value.contains("://"), value.contains("@") || value.contains("password-command") || value.contains("password_command") {
            return StoreAddress.redacted(value)
        }
        return value
    }
}
