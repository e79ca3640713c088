import Foundation
import Journal
import SessMigrate
import SessionModel

/// Read-side helpers for `status`, `log`, `continue` and `unlock`.
public enum RunbookStatus {
    /// The state machine of the run in a journal.
    public static func machine(_ journal: JournalFile) throws -> JournalStateMachine {
        let document = try RunbookDocument.parse(journal.runbookText)
        let gates = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        return try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gates, events: try journal.events())
    }

    /// Lines for `status`: each step's state, attempts and last checkpoint, then what happens next.
    public static func describe(journalPath: String) throws -> [String] {
        let journal = try JournalFile.open(path: journalPath)
        defer { journal.close() }
        var lines = ["runbook: \(journal.runbookName)", "journal: \(journalPath)"]
        lines += journal.variables.map { "var:     \($0.name)=\($0.value)" }
        lines += try machine(journal).summary()
        return lines
    }

    /// Every event, oldest first.
    public static func events(journalPath: String) throws -> [JournalEvent] {
        let journal = try JournalFile.open(path: journalPath)
        defer { journal.close() }
        return try journal.events()
    }

    /// Records `continue_requested` for the gate the run waits at; returns the gate's id.
    public static func requestContinue(journalPath: String) throws -> String {
        let journal = try JournalFile.open(path: journalPath)
        defer { journal.close() }
        guard case .waitAtGate(let gate) = try machine(journal).nextAction() else {
            throw RunbookError("no gate is waiting in \(journalPath); `sessmigrate status --journal \(journalPath)` shows where the run is")
        }
        let environment = JournalEnvironment.live(toolVersion: SessMigrateVersion.current)
        _ = try journal.append(runId: "continue-\(environment.host())-\(environment.pid())", step: gate, kind: .continueRequested, detail: [:])
        return gate
    }
}
