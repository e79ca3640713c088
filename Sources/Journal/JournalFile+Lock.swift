import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

/// Whether a lock's holder is still running, as far as this process can tell.
public enum LockHolderState: Sendable, Hashable {
    /// On this host and its pid is alive (`kill(pid, 0)` succeeds or is denied), run by the process
    /// the lock recorded (same boot and start time) or, when the lock recorded none, by some process.
    case alive
    /// On this host and its process is gone: its pid is free, or now runs another process (another
    /// start time or another boot). The lock is stale.
    case stale
    /// On another host: this process cannot tell.
    case unknown
}

extension JournalFile {
    /// Takes the journal's lock for `runId`, or refuses if anyone holds it.
    ///
    /// The lock row is checked and inserted in one `BEGIN IMMEDIATE` transaction, so of two processes
    /// racing for it exactly one wins. A lock whose holder is dead is refused too (never silently
    /// taken over); the message says it is stale and how to clear it. Calling it again while this
    /// instance holds the lock does nothing. ``close()`` releases the lock.
    ///
    /// - Throws: ``JournalError`` with ``JournalError/lockHolder`` set, naming the holder's host, pid
    ///   and start time and how to clear a stale lock (`sessmigrate unlock --journal J`).
    public func acquireLock(runId: String) throws {
        guard heldLock == nil else { return }
        let connection = try openConnection()
        let pid = environment.pid()
        let holder = LockHolder(
            host: environment.host(), pid: pid, startedAt: environment.now(), runId: runId, process: ProcessIdentity.of(pid: pid))
        try connection.withTransaction {
            if let current = try readLockHolder(connection) { throw lockedError(current) }
            try connection.prepare(
                "INSERT INTO journal_lock (id, host, pid, started_at, run_id, boot_id, process_start) VALUES (1, ?, ?, ?, ?, ?, ?)"
            ).run([
                .text(holder.host), .integer(Int64(holder.pid)), .float(holder.startedAt), .text(holder.runId),
                holder.process.map { .text($0.bootId) } ?? .null, holder.process.map { .text($0.startTime) } ?? .null,
            ])
        }
        heldLock = holder
    }

    /// Releases the lock if this instance holds it; does nothing otherwise (a lock another process
    /// holds, or one broken by `unlock`, is left alone).
    ///
    /// Does not throw, so it fits a `defer`: should the delete fail, the row stays behind and the
    /// next runner reports it as a stale lock that `sessmigrate unlock` clears.
    public func releaseLock() {
        guard let held = heldLock, let connection = try? openConnection() else { return }
        heldLock = nil
        let statement = try? connection.prepare(
            "DELETE FROM journal_lock WHERE id = 1 AND host = ? AND pid = ? AND run_id = ? AND started_at = ?")
        try? statement?.run([.text(held.host), .integer(Int64(held.pid)), .text(held.runId), .float(held.startedAt)])
    }

    /// The current lock holder, if the journal is locked.
    public func currentLockHolder() throws -> LockHolder? {
        try readLockHolder(try openConnection())
    }

    /// Whether `holder` still runs: alive or stale on this host, unknown on another.
    public func state(of holder: LockHolder) -> LockHolderState {
        guard holder.host == environment.host() else { return .unknown }
        // pid 0 or negative would address a process group; no real holder has one.
        guard holder.pid > 0 else { return .unknown }
        // EPERM: the process exists but belongs to someone else.
        guard kill(holder.pid, 0) == 0 || errno == EPERM else { return .stale }
        guard let recorded = holder.process, let current = ProcessIdentity.of(pid: holder.pid) else { return .alive }
        return recorded == current ? .alive : .stale
    }

    /// True when `holder` is provably running on this host: its pid runs the very process that took
    /// the lock (same boot and start time). `unlock --force` never clears such a lock.
    public func isProvablyAlive(_ holder: LockHolder) -> Bool {
        guard state(of: holder) == .alive, let recorded = holder.process else { return false }
        return ProcessIdentity.of(pid: holder.pid) == recorded
    }

    /// Throws ``JournalError/lockLost(_:held:current:)`` when this instance took the lock and the lock
    /// row is no longer its own (cleared, or taken by another run). Runs inside an append's transaction.
    func checkStillHoldsLock(_ connection: SQLiteConnection) throws {
        guard let held = heldLock else { return }
        let current = try readLockHolder(connection)
        guard let current, current.host == held.host, current.pid == held.pid, current.runId == held.runId,
            current.startedAt == held.startedAt
        else { throw JournalError.lockLost(path, held: held, current: current) }
    }

    /// Removes the lock (`sessmigrate unlock`) and records a `lock_broken` event naming the holder,
    /// in one transaction.
    ///
    /// - Parameter force: also remove a lock whose holder's pid is alive on this host when the lock
    ///   does not record which process took it (the pid may run another program). A holder provably
    ///   alive on this host (``isProvablyAlive(_:)``) is never removed, with or without `force`: two
    ///   runners would then write one journal. A holder on another host is removed without `force`:
    ///   the operator asserts it is gone.
    /// - Returns: the holder removed, or `nil` when the journal was not locked.
    /// - Throws: ``JournalError`` when the holder is provably alive, or alive and `force` is false.
    @discardableResult
    public func breakLock(force: Bool) throws -> LockHolder? {
        let connection = try openConnection()
        let broken: LockHolder? = try connection.withTransaction {
            guard let holder = try readLockHolder(connection) else { return nil }
            let holderState = state(of: holder)
            if isProvablyAlive(holder) {
                throw JournalError(
                    code: .constraint,
                    message: "journal \(path) is locked by \(holder.description), which is running on this host (pid \(holder.pid) "
                        + "is the process that took the lock); a live run's lock is never cleared. Stop that run first; once "
                        + "it has exited, `sessmigrate resume --journal \(JournalError.shellQuoted(path))` takes the lock over",
                    lockHolder: holder)
            }
            if holderState == .alive && !force {
                throw JournalError(
                    code: .constraint,
                    message: "journal \(path) is locked by \(holder.description), and pid \(holder.pid) is running on this host; "
                        + "the lock does not record which process took it, so if pid \(holder.pid) is not that run (a reused pid) "
                        + "run `sessmigrate unlock --journal \(JournalError.shellQuoted(path)) --force`",
                    lockHolder: holder)
            }
            try connection.execute("DELETE FROM journal_lock WHERE id = 1")
            let detail: JSONObject = [
                "host": .string(holder.host), "pid": .number(JSONNumber(Int(holder.pid))),
                "started_at": .number(JSONNumber(holder.startedAt)), "run_id": .string(holder.runId),
                "holder_state": .string(Self.text(holderState)), "forced": .bool(force),
            ]
            _ = try insertEvent(connection, runId: holder.runId, step: nil, kind: .lockBroken, detail: detail)
            return holder
        }
        if broken != nil, broken == heldLock { heldLock = nil }
        return broken
    }

    private func readLockHolder(_ connection: SQLiteConnection) throws -> LockHolder? {
        let statement = try connection.prepare(
            "SELECT host, pid, started_at, run_id, boot_id, process_start FROM journal_lock WHERE id = 1")
        guard try statement.step() else { return nil }
        let process =
            statement.isNull(at: 4) || statement.isNull(at: 5)
            ? nil : ProcessIdentity(bootId: statement.text(at: 4), startTime: statement.text(at: 5))
        return LockHolder(
            host: statement.text(at: 0), pid: Int32(truncatingIfNeeded: statement.int64(at: 1)),
            startedAt: statement.double(at: 2), runId: statement.text(at: 3), process: process)
    }

    private func lockedError(_ holder: LockHolder) -> JournalError {
        let unlock = "`sessmigrate unlock --journal \(JournalError.shellQuoted(path))`"
        let message: String
        switch state(of: holder) {
        case .alive:
            message =
                "journal \(path) is locked by \(holder.description), which is still running; wait for it or "
                + "stop it. A stale lock (the holder is gone) is cleared with \(unlock)"
        case .stale:
            message =
                "journal \(path) has a stale lock: \(holder.description) is no longer running (it was killed "
                + "or crashed); clear it with \(unlock), then resume"
        case .unknown:
            message =
                "journal \(path) is locked by \(holder.description) on another host, so this host cannot tell "
                + "whether it still runs; check there, and if it is gone clear the stale lock with \(unlock)"
        }
        return JournalError(code: .constraint, message: message, lockHolder: holder)
    }

    private static func text(_ state: LockHolderState) -> String {
        switch state {
        case .alive: "alive"
        case .stale: "stale"
        case .unknown: "unknown"
        }
    }
}
