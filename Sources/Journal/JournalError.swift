import DriverCore
import Foundation
import SessionModel

/// The process holding (or last holding) a journal's lock, as its lock row records it.
public struct LockHolder: Sendable, Hashable, CustomStringConvertible {
    /// The holder's host name.
    public var host: String
    /// The holder's process id.
    public var pid: Int32
    /// When it took the lock, in seconds since the epoch.
    public var startedAt: Double
    /// The run it holds the lock for.
    public var runId: String
    /// The holder's process (boot and start time), when it could be read as the lock was taken.
    public var process: ProcessIdentity?

    /// Creates a holder description.
    public init(host: String, pid: Int32, startedAt: Double, runId: String, process: ProcessIdentity? = nil) {
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.runId = runId
        self.process = process
    }

    /// `host h pid p since YYYY-MM-DD HH:MM:SS UTC (run r)`.
    public var description: String {
        "host \(host) pid \(pid) since \(JournalError.utcText(startedAt)) (run \(runId))"
    }
}

/// Why a journal cannot be created, read, appended to or locked, or why its events cannot be replayed.
///
/// Messages name the journal path, steps and lock holders; they never hold variable values.
public struct JournalError: DriverError {
    /// The kind of failure: `.constraint` for an existing file or a held lock, `.corrupt` for a
    /// damaged or inconsistent journal, `.unsupported` for a newer format or a runbook that changed.
    public var code: DriverErrorCode
    /// What went wrong and what to do about it.
    public var message: String
    /// The lock's holder, when the error is a refused lock.
    public var lockHolder: LockHolder?
    /// True when the journal was never started (an empty file): `status` reports it as not started.
    public var notStarted = false

    /// Creates an error.
    public init(code: DriverErrorCode, message: String, lockHolder: LockHolder? = nil) {
        self.code = code
        self.message = message
        self.lockHolder = lockHolder
    }

    public var description: String { Printable.name(message, limit: 2 * Printable.messageLimit) }
    public var debugDescription: String { description }

    static func notStartedError(_ path: String) -> JournalError {
        var error = JournalError(
            code: .notFound,
            message: "journal \(path) was never started (the file is empty: a `run` was interrupted while creating it); "
                + "`sessmigrate run RUNBOOK --journal \(shellQuoted(path))` starts it")
        error.notStarted = true
        return error
    }

    static func previousFormat(_ path: String, _ version: Int, writtenBy: String?) -> JournalError {
        JournalError(
            code: .unsupported,
            message: "journal \(path) has format version \(version), written by sessmigrate \(writtenBy ?? "of an older version") "
                + "before journals were hash-chained (format \(JournalFile.currentFormatVersion)); this sessmigrate does not read it. "
                + "Use that version to see or resume it, or start the runbook again with a new journal (every step is idempotent)")
    }

    static func brokenChain(_ path: String, _ detail: String) -> JournalError {
        corrupt(path, "\(detail); the journal was damaged or edited and is not used")
    }

    static func lockLost(_ path: String, held: LockHolder, current: LockHolder?) -> JournalError {
        let now = current.map { "it is now held by \($0.description)" } ?? "it was cleared (`sessmigrate unlock`)"
        return JournalError(
            code: .constraint,
            message: "journal \(path): this run (\(held.description)) no longer holds the journal's lock; \(now). "
                + "Stopped without writing; `sessmigrate status --journal \(shellQuoted(path))` shows the journal",
            lockHolder: current)
    }

    static func corrupt(_ path: String, _ detail: String) -> JournalError {
        JournalError(code: .corrupt, message: "journal \(path) is damaged: \(detail)")
    }

    static func exists(_ path: String) -> JournalError {
        JournalError(
            code: .constraint,
            message: "journal \(path) already exists; resume it with `sessmigrate resume --journal \(shellQuoted(path))` "
                + "or choose another path")
    }

    static func newerFormat(_ path: String, _ version: Int) -> JournalError {
        JournalError(
            code: .unsupported,
            message: "journal \(path) has format version \(version); this sessmigrate reads up to "
                + "\(JournalFile.currentFormatVersion): use a newer sessmigrate")
    }

    static func unredacted(_ name: String) -> JournalError {
        JournalError(
            code: .constraint,
            message: "variable \(name) looks secret and is not redacted; a journal stores secrets only as ***")
    }

    static func outOfOrder(_ detail: String) -> JournalError {
        JournalError(code: .corrupt, message: "journal events are out of order: \(detail)")
    }

    static func drift(_ detail: String) -> JournalError {
        JournalError(
            code: .unsupported,
            message: "the runbook no longer matches its journal: \(detail); resume with the runbook the journal was started with")
    }

    /// `YYYY-MM-DD HH:MM:SS UTC` for an epoch time.
    static func utcText(_ seconds: Double) -> String {
        String(PythonTime.naiveUTC(fromEpoch: seconds).prefix(19)) + " UTC"
    }

    /// `path` as a shell word: unchanged when it is plain, single-quoted otherwise.
    public static func shellQuoted(_ path: String) -> String {
        let plain =
            !path.isEmpty
            && path.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/._-+:,=@".unicodeScalars.contains(scalar))
            }
        return plain ? path : "'" + path.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
