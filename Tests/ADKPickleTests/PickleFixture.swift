import Foundation
import SessionModel
import Testing

/// A pickle written by a real ADK (see Fixtures/make_fixtures.py) and what ADK reads from it.
struct PickleFixture: Sendable, CustomTestStringConvertible {
    /// What one ADK version made of the pickle: actions JSON (Python `json.dumps` text) or an error.
    enum Outcome: Sendable {
        case json(String)
        case error(String)
    }

    let name: String
    let writer: String
    let `protocol`: Int
    let pickle: String
    let adk213: Outcome?
    let adk121: Outcome?

    var testDescription: String { "\(name) (ADK \(writer))" }

    var bytes: [UInt8] { Data(base64Encoded: pickle).map { [UInt8]($0) } ?? [] }

    /// The case name without the protocol suffix (`full_p4` → `full`).
    var caseName: String { String(name[..<(name.lastIndex(of: "_") ?? name.endIndex)]) }

    /// True when ADK 2.13 refused the pickle only because its restricted unpickler lacks a global
    /// that CPython uses for protocols 2 and 3 (`__builtin__.set`, `builtins.frozenset`).
    var refusedByRestrictedUnpickler: Bool {
        if case .error(let message)? = adk213 { return message.hasPrefix("UnpicklingError: Refusing") }
        return false
    }

    static let all = pickleFixturesFromADK1210 + pickleFixturesFromADK2130
}

enum TestFiles {
    /// Tests/ADKPickleTests/Fixtures.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The venv's python if that venv is installed (scripts/setup makes them).
    static func python(_ venv: String) -> String? {
        let path = "/root/.cache/sessmigrate/\(venv)/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
