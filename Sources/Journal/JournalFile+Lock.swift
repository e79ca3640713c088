import DriverCore
import Foundation
import SQLiteDriver
import SessionModel

/// Whether a lock's holder is still running, as far as this process can tell.
public enum LockHolderState: Sendable, Hashable {
    /// On this host and its pid is alive (`kill(pid, 0)` succeeds or is denied).
    case alive
    /// On this host and its pid is gone: the lock is stale.
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
        let holder = LockHolder(host: environment.host(), pid: environment.pid(), startedAt: environment.now(), runId: runId)
        try connection.withTransaction {
            if let current = try readLockHolder(connection) { throw lockedError(current) }
            try connection.prepare("INSERT INTO journal_lock (id, host, pid, started_at, run_id) VALUES (1, ?, ?, ?, ?)")
                .run([.text(holder.host), .integer(Int64(holder.pid)), .float(holder.startedAt), .text(holder.runId)])
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
        return kill(holder.pid, 0) == 0 || errno == EPERM ? .alive : .stale
    }

    /// Removes the lock (`sessmigrate unlock`) and records a `lock_broken` event naming the holder,
    /// in one transaction.
    ///
    /// - Parameter force: also remove a lock whose holder is alive on this host (its pid may have been
    ///   reused by another program). A holder on another host is removed without `force`: the
    ///   operator asserts it is gone.
    /// - Returns: the holder removed, or `nil` when the journal was not locked.
    /// - Throws: ``JournalError`` when the holder is alive on this host and `force` is false.
    @discardableResult
    public func breakLock(force: Bool) throws -> LockHolder? {
        let connection = try openConnection()
        let broken: LockHolder? = try connection.withTransaction {
            guard let holder = try readLockHolder(connection) else { return nil }
            let holderState = state(of: holder)
            if holderState == .alive && !force {
                throw JournalError(
                    code: .constraint,
                    message: "journal \(path) is locked by \(holder.description), which is still running; stop it first, "
                        + "or if pid \(holder.pid) is not sessmigrate (a reused pid) run "
                        + "`sessmigrate unlock --journal \(JournalError.shellQuoted(path)) --force`",
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
        let statement = try connection.prepare("SELECT host, pid, started_at, run_id FROM journal_lock WHERE id = 1")
        guard try statement.step() else { return nil }
        return LockHolder(
            host: statement.text(at: 0), pid: Int32(truncatingIfNeeded: statement.int64(at: 1)),
            startedAt: statement.double(at: 2), runId: statement.text(at: 3))
    }

    private func lockedError(_ holder: LockHolder) -> JournalError {
        let unlock = "`sessmigrate unlock --journal \(JournalError.shellQuoted(path))`"
        let message: String
        switch state(of: holder) {
        case .alive:
            message = "journal \(path) is locked by \(holder.description), which is still running; wait for it or "
                + "stop it. A stale lock (the holder is gone) is cleared with \(unlock)"
        case .stale:
            message = "journal \(path) has a stale lock: \(holder.description) is no longer running (it was killed "
                + "or crashed); clear it with \(unlock), then resume"
        case .unknown:
            message = "journal \(path) is locked by \(holder.description) on another host, so this host cannot tell "
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
