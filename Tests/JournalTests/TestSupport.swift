import Foundation
import Journal
import SessionModel

/// The steps of a small rollback-like runbook used by the transcript tests; `flip` is the gate.
let runbookSteps = ["preflight", "copy", "verify", "flip", "converge"]
let runbookGates: Set<String> = ["flip"]

/// A journal event log built step by step, replayed from scratch on every question, as a resume
/// after a crash replays it.
struct Transcript {
    private(set) var events: [JournalEvent] = []
    var runId = "run-1"

    /// Appends an event with the next seq.
    mutating func record(_ kind: JournalEventKind, _ step: String? = nil, _ detail: JSONObject = [:]) {
        let seq = Int64(events.count + 1)
        events.append(
            JournalEvent(
                seq: seq, runId: runId, time: 1_700_000_000 + Double(seq), host: "test-host", pid: 4242,
                toolVersion: "0.0.0-test", step: step, kind: kind, detail: detail))
    }

    /// Records `step_started` then `step_done` for each step.
    mutating func complete(_ steps: String...) {
        for step in steps {
            record(.stepStarted, step)
            record(.stepDone, step)
        }
    }

    /// A machine replaying the whole log.
    func machine(steps: [String] = runbookSteps, gates: Set<String> = runbookGates) throws -> JournalStateMachine {
        try JournalStateMachine(stepIDs: steps, gateStepIDs: gates, events: events)
    }

    /// The next action after replaying the whole log.
    func next() throws -> JournalAction {
        try machine().nextAction()
    }
}

/// A checkpoint detail: a cursor position and a running count.
func checkpoint(_ batch: Int) -> JSONObject {
    ["cursor": .string("session-\(batch * 100)"), "sessions": .number(JSONNumber(batch * 100))]
}

/// A fixed environment: time counts up by one second per call from 1_700_000_000.
func testEnvironment(host: String = "test-host", pid: Int32 = 4242) -> JournalEnvironment {
    let clock = TestClock()
    return JournalEnvironment(now: { clock.tick() }, host: { host }, pid: { pid }, toolVersion: { "0.0.0-test" })
}

/// A clock that advances one second per reading.
final class TestClock: @unchecked Sendable {
    // Guarded by `lock`; tests may read it from several threads.
    private var seconds = 1_700_000_000.0
    private let lock = NSLock()

    func tick() -> Double {
        lock.lock()
        defer { lock.unlock() }
        seconds += 1
        return seconds
    }
}

/// A fresh path in a new temporary directory, removed after `body` (on success and on error).
func withTemporaryPath<R>(_ name: String = "run.journal", _ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory.appendingPathComponent(name).path)
}

/// Creates a journal at `path`, runs `body`, and closes it on both paths.
func withNewJournal<R>(
    _ path: String, environment: JournalEnvironment = testEnvironment(), _ body: (JournalFile) throws -> R
) throws -> R {
    let journal = try JournalFile.create(
        path: path, runbookName: "rollback-to-cloudsql", runbookText: "steps: []\n", variables: [],
        environment: environment)
    defer { journal.close() }
    return try body(journal)
}

/// Opens the journal at `path`, runs `body`, and closes it on both paths.
func withJournal<R>(
    _ path: String, environment: JournalEnvironment = testEnvironment(), _ body: (JournalFile) throws -> R
) throws -> R {
    let journal = try JournalFile.open(path: path, environment: environment)
    defer { journal.close() }
    return try body(journal)
}

/// The events of the journal at `path`, read through a connection of their own.
func events(at path: String) throws -> [JournalEvent] {
    try withJournal(path) { try $0.events() }
}

/// The lock holder of the journal at `path`, read through a connection of their own.
func lockHolder(at path: String) throws -> LockHolder? {
    try withJournal(path) { try $0.currentLockHolder() }
}

/// The `sqlite3` shell, used to tamper with journal files the way only an outside tool could.
let sqliteShell = "/usr/bin/sqlite3"

/// Runs `sql` on `path` with the sqlite3 shell; returns its exit status.
@discardableResult
func runSQLiteShell(_ path: String, _ sql: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sqliteShell)
    process.arguments = [path, sql]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs `body` with the pid of a live child process (`sleep 30`), killed and reaped afterwards.
func withLiveProcess<R>(_ body: (Int32) throws -> R) throws -> R {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["30"]
    try process.run()
    defer {
        // SIGKILL, not terminate(): the child inherits the test runner's signal mask, which may block SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    return try body(process.processIdentifier)
}

/// The pid of a process that has exited and been reaped (so `kill(pid, 0)` fails).
func deadPid() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}
