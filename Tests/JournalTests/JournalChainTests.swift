import DriverCore
import Foundation
import Journal
import SessionModel
import Testing

/// Issue 13 item 6: journals could be forged: an edited `step_done` or runbook text inside the
/// journal was obeyed. Each event is now chained to the one before by a SHA-256 hash (the first link
/// covers the runbook text and variables) and the chain is checked on open: a damaged or edited
/// journal is named, with the seq of the event that breaks the chain, and never obeyed.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
struct JournalChainTests {
    /// A journal of a run that finished its `copy` step: run_started, step_started, step_done.
    func withRecordedRun(_ body: (String) throws -> Void) throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in
                _ = try journal.append(runId: "r1", step: nil, kind: .runStarted)
                _ = try journal.append(runId: "r1", step: "copy", kind: .stepStarted)
                _ = try journal.append(runId: "r1", step: "copy", kind: .stepDone, detail: ["written": .number(JSONNumber(10))])
            }
            try body(path)
        }
    }

    /// The error opening (or reading the events of) the journal at `path`.
    func refusal(_ path: String) throws -> JournalError {
        try #require(throws: JournalError.self) {
            let journal = try JournalFile.open(path: path, environment: testEnvironment())
            defer { journal.close() }
            _ = try journal.events()
        }
    }

    static let dropTriggers = "DROP TRIGGER journal_events_no_update; DROP TRIGGER journal_events_no_delete; "

    @Test func anIntactJournalOpens() throws {
        try withRecordedRun { path throws in
            #expect(try events(at: path).map(\.seq) == [1, 2, 3])
        }
    }

    @Test func anEditedStepDoneIsNamedAndNotObeyed() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, Self.dropTriggers + #"UPDATE journal_events SET detail = '{"written":99}' WHERE seq = 3"#) == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("event 3"), "\(error)")
        }
    }

    @Test func aForgedStepDoneIsNamed() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, Self.dropTriggers + "UPDATE journal_events SET kind = 'step_done' WHERE seq = 2") == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("event 2"), "\(error)")
        }
    }

    @Test func anEditedRunbookTextIsNamed() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, "UPDATE journal_meta SET value = 'steps: [evil]' WHERE key = 'runbook_text'") == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("runbook"), "\(error)")
        }
    }

    @Test func anEditedVariableIsNamed() throws {
        try withTemporaryPath { path in
            let journal = try JournalFile.create(
                path: path, runbookName: "r", runbookText: "steps: []\n", variables: [("TARGET", "redis://10.0.0.1/0")],
                environment: testEnvironment())
            _ = try journal.append(runId: "r1", step: nil, kind: .runStarted)
            journal.close()
            #expect(try runSQLiteShell(path, "UPDATE journal_variables SET value = 'redis://evil/0'") == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("variables"), "\(error)")
        }
    }

    @Test func aDeletedEventIsNamed() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, Self.dropTriggers + "DELETE FROM journal_events WHERE seq = 2") == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("event 3"), "\(error)")
        }
    }

    @Test func removedLastEventsAreNoticed() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, Self.dropTriggers + "DELETE FROM journal_events WHERE seq = 3") == 0)
            let error = try refusal(path)
            #expect(error.code == .corrupt && error.message.contains("event 3"), "\(error)")
        }
    }

    /// Journals of the previous format (1, without the chain) are refused with a clear message.
    @Test func previousFormatIsRefused() throws {
        try withRecordedRun { path throws in
            #expect(try runSQLiteShell(path, "UPDATE journal_meta SET value = '1' WHERE key = 'format_version'") == 0)
            let error = try refusal(path)
            #expect(error.code == .unsupported && error.message.contains("format version 1"), "\(error)")
        }
    }

    /// A journal with no event may be replaced by another `run`; the first runner, which still has it
    /// open, is then refused at its first append instead of writing a chain that does not fit.
    @Test func aReplacedJournalRefusesTheFirstRunnersAppend() throws {
        try withTemporaryPath { path in
            let first = try JournalFile.create(path: path, runbookName: "one", runbookText: "steps: []\n", variables: [], environment: testEnvironment())
            defer { first.close() }
            let second = try JournalFile.create(path: path, runbookName: "two", runbookText: "steps: [x]\n", variables: [], environment: testEnvironment())
            defer { second.close() }
            let error = try #require(throws: JournalError.self) { try first.append(runId: "r1", step: nil, kind: .runStarted) }
            #expect(error.message.contains("replaced"), "\(error)")
            _ = try second.append(runId: "r2", step: nil, kind: .runStarted)
            try withJournal(path) { journal throws in
                #expect(journal.runbookName == "two")
                #expect(try journal.events().map(\.runId) == ["r2"])
            }
        }
    }
}
