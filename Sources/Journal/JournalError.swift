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

    /// Creates a holder description.
    public init(host: String, pid: Int32, startedAt: Double, runId: String) {
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.runId = runId
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

    /// Creates an error.
    public init(code: DriverErrorCode, message: String, lockHolder: LockHolder? = nil) {
        self.code = code
        self.message = message
        self.lockHolder = lockHolder
    }

    public var description: String { message }
    public var debugDescription: String { message }

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
    static func shellQuoted(_ path: String) -> String {
        let plain = !path.isEmpty && path.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/._-+:,=@".unicodeScalars.contains(scalar))
        }
        return plain ? path : "'" + path.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
