import DriverCore
import Foundation
import Journal
import SessionModel
import Testing

/// Issue 13 item 4: `unlock --force` against a live runner let a second runner write to the same
/// journal, which then failed forever with "journal events are out of order". `--force` now refuses a
/// holder that is provably alive on this host (same host, and its pid runs with the process start time
/// the lock recorded, so a reused pid does not count), the plain `unlock` error does not suggest
/// `--force` for it, and a runner checks it still holds the lock in the transaction of every append.
@Suite struct JournalLockLivenessTests {
    @Test func forceRefusesAHolderThatIsProvablyAlive() throws {
        try withTemporaryPath { path in
            try withLiveProcess { holderPid in
                try withNewJournal(path, environment: testEnvironment(pid: holderPid)) { holder in
                    try holder.acquireLock(runId: "run-1")
                    try withJournal(path) { second in
                        let plain = try #require(throws: JournalError.self) { try second.breakLock(force: false) }
                        #expect(!plain.message.contains("--force"), "\(plain)")
                        let forced = try #require(throws: JournalError.self) { try second.breakLock(force: true) }
                        #expect(forced.message.contains("pid \(holderPid)") && forced.message.contains("running"), "\(forced)")
                        #expect(try second.currentLockHolder()?.runId == "run-1")
                        #expect(try second.events().allSatisfy { $0.kind != .lockBroken })
                    }
                }
            }
        }
    }

    /// A live pid whose start time differs from the recorded one is another process: the lock is stale.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func aReusedPidIsStale() throws {
        try withTemporaryPath { path in
            try withLiveProcess { livePid in
                let crashed = try JournalFile.create(
                    path: path, runbookName: "r", runbookText: "", variables: [], environment: testEnvironment(pid: livePid))
                defer { crashed.close() }
                try crashed.acquireLock(runId: "run-1")
                // The recorded holder started at another time than the process now using its pid.
                #expect(try runSQLiteShell(path, "UPDATE journal_lock SET process_start = '1'") == 0)
                try withJournal(path) { second in
                    let holder = try #require(try second.currentLockHolder())
                    #expect(second.state(of: holder) == .stale)
                    #expect(try second.breakLock(force: false)?.runId == "run-1")
                }
            }
        }
    }

    /// The lock row was replaced behind the runner's back (an `unlock --force` on another host, then a
    /// second runner): the first runner's next append is refused and writes nothing.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func appendStopsOnceTheLockIsLost() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { runner in
                try runner.acquireLock(runId: "run-1")
                _ = try runner.append(runId: "run-1", step: nil, kind: .runStarted)
                #expect(try runSQLiteShell(path, "UPDATE journal_lock SET run_id = 'run-2', pid = 1, host = 'pod-2'") == 0)
                let error = try #require(throws: JournalError.self) {
                    try runner.append(runId: "run-1", step: "copy", kind: .stepStarted)
                }
                #expect(error.message.contains("no longer holds") && error.message.contains("run-2"), "\(error)")
                #expect(try events(at: path).count == 1)
            }
        }
    }

    /// Appending without holding the lock (`sessmigrate continue`) stays possible.
    @Test func appendWithoutTheLockIsUnchanged() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { runner in
                try runner.acquireLock(runId: "run-1")
                try withJournal(path) { other in
                    _ = try other.append(runId: "continue-1", step: "flip", kind: .continueRequested)
                }
                _ = try runner.append(runId: "run-1", step: nil, kind: .runStarted)
                #expect(try events(at: path).count == 2)
            }
        }
    }
}
