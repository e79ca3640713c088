import Foundation
import Journal
import SessMigrate
import SessionModel
import Testing

@testable import Runbook

@Suite struct RunbookDocumentTests {
    static let runbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("runbooks")

    @Test(arguments: ["backfill", "rollback-to-cloudsql", "restore-snapshot", "fallback-inmemory"])
    func shippedRunbooksParse(name: String) throws {
        let text = try String(contentsOf: Self.runbooks.appendingPathComponent(name + ".yaml"), encoding: .utf8)
        let document = try RunbookDocument.parse(text)
        #expect(document.name == name)
        #expect(!document.steps.isEmpty)
        let variables = try RunbookVariables(document: document, overrides: [:], environment: BotEnvironment(variables: [:]))
        for step in document.steps {
            for (key, value) in step.values where !value.contains("${steps.") {
                _ = try variables.substitute(value, outputs: [:])
                _ = key
            }
        }
    }

    @Test func variablesOverrideEnvironmentOverridesDefaults() throws {
        let document = try RunbookDocument.parse(
            """
            name: t
            variables:
              a: default-a
              b: default-b
              c: default-c
            steps:
              - id: w
                kind: watermark
            """)
        let variables = try RunbookVariables(document: document, overrides: ["a": "cli"], environment: BotEnvironment(variables: ["b": "env"]))
        #expect(try variables.substitute("${a} ${b} ${c}", outputs: [:]) == "cli env default-c")
        #expect(try variables.substitute("${steps.copy.started_at}", outputs: ["copy": ["started_at": .string("17")]]) == "17")
        #expect(throws: RunbookError.self) { try variables.substitute("${missing}", outputs: [:]) }
    }

    @Test func secretsAreRedactedForTheJournal() throws {
        let document = try RunbookDocument.parse(
            """
            name: t
            variables:
              target: mysql://bot:hunter22@db:3306/app
              API_TOKEN: abc
            steps:
              - id: w
                kind: watermark
            """)
        let redacted = try RunbookVariables(document: document, overrides: [:], environment: BotEnvironment(variables: [:])).redacted()
        let text = redacted.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        #expect(!text.contains("hunter22"))
        #expect(!text.contains("abc"))
        #expect(text.contains("mysql://bot:***@db:3306/app"))
    }

    @Test(arguments: [
        "name: x\nsteps: []", "steps:\n  - id: a\n    kind: copy", "name: x\nsteps:\n  - id: a\n    kind: teleport",
        "name: x\nsteps:\n  - id: a\n    kind: copy\n  - id: a\n    kind: verify", "name: [", "name: x\nsteps:\n  - kind: copy",
    ])
    func badRunbooksAreRefusedWithAReason(text: String) {
        #expect(throws: RunbookError.self) { try RunbookDocument.parse(text) }
    }
}
