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

    public init(document: RunbookDocument, overrides: [String: String], environment: BotEnvironment) {
        var values: [String: String] = [:]
        var names: [String] = []
        for (name, value) in document.variables {
            values[name] = overrides[name] ?? environment.variables[name] ?? value
            names.append(name)
        }
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) where values[name] == nil {
            values[name] = value
            names.append(name)
        }
        self.values = values
        self.names = names
        self.environment = environment
    }

    /// Replaces `${name}` and `${steps.ID.KEY}` in `text`.
    public func substitute(_ text: String, outputs: [String: JSONObject]) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { throw RunbookError("unterminated ${ in '\(text)'") }
            let name = String(rest[start.upperBound..<end])
            result += try lookup(name, outputs: outputs)
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func lookup(_ name: String, outputs: [String: JSONObject]) throws -> String {
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
        if value.contains("://"), value.contains("@") { return StoreAddress.redacted(value) }
        return value
    }
}
