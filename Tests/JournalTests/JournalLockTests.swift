import DriverCore
import Foundation
import Journal
import SessionModel
import Testing

@Suite struct JournalLockTests {
    /// The time the first lock of a fresh test environment records (created_at took 1_700_000_001).
    private let firstLockTime = "2023-11-14 22:13:22 UTC"

    @Test func liveHolderIsRefusedWithHostPidAndStartTime() throws {
        try withTemporaryPath { path in
            try withLiveProcess { holderPid in
                try withNewJournal(path, environment: testEnvironment(pid: holderPid)) { holder in
                    try holder.acquireLock(runId: "run-1")
                    try holder.acquireLock(runId: "run-1")  // Already held by this instance: no-op.
                    try withJournal(path) { second in
                        let error = try #require(throws: JournalError.self) { try second.acquireLock(runId: "run-2") }
                        #expect(error.code == .constraint)
                        #expect(
                            error.lockHolder
                                == LockHolder(
                                    host: "test-host", pid: holderPid, startedAt: 1_700_000_002, runId: "run-1",
                                    process: ProcessIdentity.of(pid: holderPid)))
                        #expect(error.message.contains("host test-host pid \(holderPid) since \(firstLockTime)"))
                        #expect(error.message.contains("still running"))
                        #expect(error.message.contains("`sessmigrate unlock --journal \(path)`"))
                        // unlock without --force refuses a live holder on this host.
                        #expect(throws: JournalError.self) { try second.breakLock(force: false) }
                        #expect(try second.currentLockHolder()?.pid == holderPid)
                    }
                }
            }
        }
    }

    @Test func staleHolderIsStillRefusedAndUnlockClearsIt() throws {
        try withTemporaryPath { path in
            let gone = try deadPid()
            try withNewJournal(path, environment: testEnvironment(pid: gone)) { holder in
                try holder.acquireLock(runId: "run-1")
            }
            // Closing released that lock; take it again and "crash" (never release).
            let crashed = try JournalFile.open(path: path, environment: testEnvironment(pid: gone))
            try crashed.acquireLock(runId: "run-1")
            try withJournal(path) { second in
                let error = try #require(throws: JournalError.self) { try second.acquireLock(runId: "run-2") }
                #expect(error.message.contains("stale lock"))
                #expect(error.message.contains("pid \(gone)"))
                #expect(error.message.contains("`sessmigrate unlock --journal \(path)`"))
                #expect(second.state(of: try #require(error.lockHolder)) == .stale)

                let broken = try #require(try second.breakLock(force: false))
                #expect(broken.pid == gone)
                #expect(try second.breakLock(force: false) == nil)  // Nothing left to break.
                let event = try #require(try second.events().last)
                #expect(event.kind == .lockBroken)
                #expect(event.runId == "run-1")
                #expect(event.detail["pid"] == .number(JSONNumber(Int(gone))))
                #expect(event.detail["holder_state"] == .string("stale"))
                try second.acquireLock(runId: "run-2")
                #expect(try second.currentLockHolder()?.runId == "run-2")
            }
            // The crashed instance no longer holds the lock; its close must not remove anyone else's.
            crashed.close()
        }
    }

    @Test func closingReleasesOnlyTheLockItHolds() throws {
        try withTemporaryPath { path in
            let first = try JournalFile.create(
                path: path, runbookName: "r", runbookText: "", variables: [], environment: testEnvironment(pid: try deadPid()))
            try first.acquireLock(runId: "run-1")
            try withJournal(path) { second in
                _ = try second.breakLock(force: false)
                try second.acquireLock(runId: "run-2")
                first.close()
                #expect(try second.currentLockHolder()?.runId == "run-2")
                second.releaseLock()
                #expect(try second.currentLockHolder() == nil)
            }
        }
    }

    @Test func holderOnAnotherHostIsRefusedButUnlockable() throws {
        try withTemporaryPath { path in
            let crashed = try JournalFile.create(
                path: path, runbookName: "r", runbookText: "", variables: [],
                environment: testEnvironment(host: "pod-7f9c", pid: 1))
            try crashed.acquireLock(runId: "run-1")
            try withJournal(path) { second in
                let error = try #require(throws: JournalError.self) { try second.acquireLock(runId: "run-2") }
                #expect(error.message.contains("host pod-7f9c pid 1"))
                #expect(error.message.contains("another host"))
                #expect(error.message.contains("sessmigrate unlock --journal"))
                #expect(try second.breakLock(force: false)?.host == "pod-7f9c")
            }
            crashed.close()
        }
    }

    /// A live pid whose lock records no process (written where /proc was unreadable) may be another
    /// program: `unlock` refuses, suggesting --force, which clears it. (A holder provably alive is never
    /// cleared: JournalLockLivenessTests.)
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sqliteShell)))
    func forceBreaksALiveHoldersLockThatRecordsNoProcess() throws {
        try withTemporaryPath { path in
            try withLiveProcess { holderPid in
                try withNewJournal(path, environment: testEnvironment(pid: holderPid)) { holder in
                    try holder.acquireLock(runId: "run-1")
                    #expect(try runSQLiteShell(path, "UPDATE journal_lock SET boot_id = NULL, process_start = NULL") == 0)
                    try withJournal(path) { second in
                        let plain = try #require(throws: JournalError.self) { try second.breakLock(force: false) }
                        #expect(plain.message.contains("--force"), "\(plain)")
                        let broken = try second.breakLock(force: true)
                        #expect(broken?.pid == holderPid)
                        #expect(try second.events().last?.detail["forced"] == .bool(true))
                        #expect(try second.currentLockHolder() == nil)
                    }
                }
            }
        }
    }

    @Test func racingContendersGetOneWinner() throws {
        let contenders = 6
        try withTemporaryPath { path in
            try withNewJournal(path) { _ in }
            let outcome = RaceOutcome()
            let ready = DispatchSemaphore(value: 0)
            let go = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for index in 0..<contenders {
                group.enter()
                // One thread and one connection per contender, as separate processes would have.
                Thread {
                    defer { group.leave() }
                    guard let journal = try? JournalFile.open(path: path, environment: testEnvironment(pid: getpid())) else {
                        outcome.record(won: false)
                        ready.signal()
                        return
                    }
                    defer { journal.close() }
                    ready.signal()
                    go.wait()
                    let won = (try? journal.acquireLock(runId: "run-\(index)")) != nil
                    outcome.record(won: won)
                    // The winner holds the lock until every contender has tried; close() then releases it.
                    while won && outcome.attempts < contenders { Thread.sleep(forTimeInterval: 0.01) }
                }.start()
            }
            for _ in 0..<contenders { ready.wait() }
            for _ in 0..<contenders { go.signal() }
            group.wait()
            #expect(outcome.attempts == contenders)
            #expect(outcome.winners == 1)
            #expect(try lockHolder(at: path) == nil)
        }
    }
}

/// What the racing contenders saw, collected from several threads.
private final class RaceOutcome: @unchecked Sendable {
    // Guarded by `lock`.
    private var counts = (attempts: 0, winners: 0)
    private let lock = NSLock()

    func record(won: Bool) {
        lock.lock()
        defer { lock.unlock() }
        counts.attempts += 1
        if won { counts.winners += 1 }
    }

    var attempts: Int {
        lock.lock()
        defer { lock.unlock() }
        return counts.attempts
    }

    var winners: Int {
        lock.lock()
        defer { lock.unlock() }
        return counts.winners
    }
}
