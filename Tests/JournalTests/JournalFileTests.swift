import DriverCore
import Foundation
import Journal
import SessionModel
import Testing

@Suite struct JournalFileTests {
    private let variables: [(name: String, value: String)] = [
        ("SOURCE", "mysql://app:***@127.0.0.1:3307/app"), ("TARGET", "redis://127.0.0.1:6390/3"),
        ("REDIS_PASSWORD", "***"), ("APP", "support-bot"),
    ]

    @Test func createThenOpenRoundTrips() throws {
        try withTemporaryPath { path in
            let text = "name: rollback\nsteps:\n  - copy: {from: redis, to: cloudsql}  # é 😀\n"
            let created = try JournalFile.create(
                path: path, runbookName: "rollback-to-cloudsql", runbookText: text, variables: variables,
                environment: testEnvironment())
            created.close()
            try withJournal(path) { journal in
                #expect(journal.formatVersion == JournalFile.currentFormatVersion)
                #expect(journal.runbookName == "rollback-to-cloudsql")
                #expect(journal.runbookText == text)
                #expect(journal.variables.map(\.name) == variables.map(\.name))
                #expect(journal.variables.map(\.value) == variables.map(\.value))
                let events = try journal.events()
                #expect(events.isEmpty)
            }
        }
    }

    @Test func appendsKeepOrderAndSurviveReopening() throws {
        try withTemporaryPath { path in
            let appended = try withNewJournal(path) { journal in
                var appended: [JournalEvent] = []
                appended.append(try journal.append(runId: "r1", step: nil, kind: .runStarted))
                appended.append(try journal.append(runId: "r1", step: "copy", kind: .stepStarted))
                for batch in 1...3 {
                    appended.append(try journal.append(runId: "r1", step: "copy", kind: .checkpoint, detail: checkpoint(batch)))
                }
                // Each append is committed on its own: a second connection sees it before this one closes.
                #expect(try events(at: path) == appended)
                return appended
            }
            #expect(appended.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(appended.map(\.time) == [1_700_000_002, 1_700_000_003, 1_700_000_004, 1_700_000_005, 1_700_000_006])
            #expect(appended.allSatisfy { $0.host == "test-host" && $0.pid == 4242 && $0.toolVersion == "0.0.0-test" })
            #expect(appended[4].detail == checkpoint(3))
            #expect(try events(at: path) == appended)
        }
    }

    @Test func appendChecksThatTheStepFitsTheKind() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in
                #expect(throws: JournalError.self) { try journal.append(runId: "r1", step: nil, kind: .checkpoint) }
                #expect(throws: JournalError.self) { try journal.append(runId: "r1", step: "copy", kind: .runFinished) }
                let events = try journal.events()
                #expect(events.isEmpty)
            }
        }
    }

    @Test func createRefusesAnExistingFile() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in _ = try journal.append(runId: "r1", step: nil, kind: .runStarted) }
            let error = try #require(throws: JournalError.self) {
                try JournalFile.create(path: path, runbookName: "other", runbookText: "", variables: [])
            }
            #expect(error.code == .constraint)
            #expect(error.message.contains("already exists"))
            try withJournal(path) { journal in
                let events = try journal.events()
                #expect(journal.runbookName == "rollback-to-cloudsql")
                #expect(events.count == 1)
            }
            let other = path + ".txt"
            try Data("notes".utf8).write(to: URL(fileURLWithPath: other))
            #expect(throws: JournalError.self) {
                try JournalFile.create(path: other, runbookName: "x", runbookText: "", variables: [])
            }
            #expect(try String(contentsOfFile: other, encoding: .utf8) == "notes")
        }
    }

    @Test func fileIsCreatedWithMode0600() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in _ = try journal.append(runId: "r1", step: nil, kind: .runStarted) }
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }
    }

    @Test(arguments: [
        ("REDIS_PASSWORD", "hunter2"), ("api_token", "abc"), ("ClientSecret", ""),
        ("SOURCE", "mysql://app:apppw@127.0.0.1:3307/app"), ("TARGET", "redis://:pw@10.0.0.1:6379/0"),
    ])
    func unredactedSecretsAreRefused(_ name: String, _ value: String) throws {
        try withTemporaryPath { path in
            let error = try #require(throws: JournalError.self) {
                try JournalFile.create(path: path, runbookName: "r", runbookText: "", variables: [(name, value)])
            }
            #expect(error.message.contains(name))
            #expect(value.isEmpty || !error.message.contains(value))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func openRefusesMissingAndForeignFiles() throws {
        try withTemporaryPath { path in
            let missing = try #require(throws: JournalError.self) { try JournalFile.open(path: path) }
            #expect(missing.code == .notFound)
            try Data("not a database at all, just text that is long enough".utf8).write(to: URL(fileURLWithPath: path))
            let foreign = try #require(throws: JournalError.self) { try JournalFile.open(path: path) }
            #expect(foreign.code == .corrupt)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func newerFormatIsRefused() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { _ in }
            #expect(try runSQLiteShell(path, "UPDATE journal_meta SET value = '3' WHERE key = 'format_version'") == 0)
            let error = try #require(throws: JournalError.self) { try JournalFile.open(path: path) }
            #expect(error.code == .unsupported)
            #expect(error.message.contains("format version 3"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func eventsCannotBeUpdatedOrDeleted() throws {
        try withTemporaryPath { path in
            let stored = try withNewJournal(path) { journal in
                _ = try journal.append(runId: "r1", step: nil, kind: .runStarted)
                return try journal.events()
            }
            #expect(try runSQLiteShell(path, "UPDATE journal_events SET kind = 'run_finished'") != 0)
            #expect(try runSQLiteShell(path, "DELETE FROM journal_events") != 0)
            #expect(try events(at: path) == stored)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func damagedEventIsReportedByItsSeq() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in _ = try journal.append(runId: "r1", step: nil, kind: .runStarted) }
            let insert =
                "INSERT INTO journal_events (run_id, time, host, pid, tool_version, step, kind, detail, hash) "
                + "VALUES ('r1', 0, 'h', 1, 'v', 'copy', 'checkpoint', '[1, 2]', 'x')"
            #expect(try runSQLiteShell(path, insert) == 0)
            // Opening reads (and checks) every event, so the damage is reported at once.
            let error = try #require(throws: JournalError.self) { try withJournal(path) { _ in } }
            #expect(error.code == .corrupt)
            #expect(error.message.contains("event 2"))
        }
    }
}
