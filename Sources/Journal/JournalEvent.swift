import Foundation
import SessionModel

/// What a journal event records.
///
/// The raw values are what the journal file stores in `journal_events.kind`; they never change.
public enum JournalEventKind: String, Sendable, Hashable, CaseIterable {
    /// A runner started (or resumed) the run. Run-level: no step.
    case runStarted = "run_started"
    /// A step's attempt began.
    case stepStarted = "step_started"
    /// A step committed a batch to its target; `detail` holds its resume position (cursor, counts, digest).
    case checkpoint
    /// Sessions a copy step kept because the target's version is newer: `detail` holds `sessions`
    /// (`[[app, user, id]]`, at most a capped number per step) and `count` (all of this batch).
    case sessionsKept = "sessions_kept"
    /// Bad sessions a copy step passed over (`skip_bad`): `detail` holds `sessions` (names and
    /// reasons, capped per step) and `count`.
    case sessionsSkipped = "sessions_skipped"
    /// Sessions a copy step left as the target has them because an event id holds different content
    /// on each side: `detail` holds `sessions` (`{"session": [app, user, id], "events": [ids]}`, capped
    /// per step) and `count`.
    case sessionsConflicted = "sessions_conflicted"
    /// A step finished and its postcondition held; `detail` holds its result (e.g. a `watermark`).
    case stepDone = "step_done"
    /// A finished step must run again: the store it wrote restarted since and may have lost its writes
    /// (`detail["reason"]`). Recorded for it and every later step that is not a gate, last step first.
    case stepReopened = "step_reopened"
    /// A step's attempt failed; `detail["error"]` holds the error text.
    case stepFailed = "step_failed"
    /// A step was skipped (its precondition said there was nothing to do, or the operator chose to).
    case stepSkipped = "step_skipped"
    /// A gate step is waiting for the operator (`sessmigrate continue`).
    case gateWaiting = "gate_waiting"
    /// A gate step was passed (its command ran, or the operator continued and the runner went on).
    case gatePassed = "gate_passed"
    /// The operator asked a waiting gate to continue.
    case continueRequested = "continue_requested"
    /// Every step is complete. Run-level: no step.
    case runFinished = "run_finished"
    /// A lock on the journal was removed by `unlock`; `detail` names the holder. Run-level: no step.
    case lockBroken = "lock_broken"
    /// A runbook hook (`hooks:` in the runbook) failed: exited non-zero, was killed, timed out or could
    /// not start. `detail` holds `hook` (e.g. `on_step_done`), `step` when the moment belongs to one,
    /// `status` (the moment's), `required`, `error` and `exit_status`/`signal`/`timed_out`. Run-level
    /// (the step is in `detail`), so it is accepted at any point, even after `run_finished`.
    case hookFailed = "hook_failed"

    /// True for kinds that belong to one step (`step` is set); false for run-level kinds.
    public var isStepEvent: Bool {
        switch self {
        case .runStarted, .runFinished, .lockBroken, .hookFailed: false
        default: true
        }
    }

    /// True for kinds that only a gate step records.
    public var isGateEvent: Bool {
        switch self {
        case .gateWaiting, .gatePassed, .continueRequested: true
        default: false
        }
    }
}

/// One entry of a journal's append-only event log.
public struct JournalEvent: Sendable, Hashable {
    /// Position in the log: strictly increasing, assigned by the journal file.
    public var seq: Int64
    /// The run this event belongs to.
    public var runId: String
    /// When it was recorded, in seconds since the epoch.
    public var time: Double
    /// The host name of the process that recorded it.
    public var host: String
    /// The process id that recorded it.
    public var pid: Int32
    /// The sessmigrate version that recorded it.
    public var toolVersion: String
    /// The step it belongs to; `nil` for run-level events.
    public var step: String?
    /// What happened.
    public var kind: JournalEventKind
    /// Kind-specific data: a checkpoint's cursor and counts, a step's result, an error text.
    public var detail: JSONObject

    /// Creates an event; ``JournalFile/append(runId:step:kind:detail:)`` fills most fields itself.
    public init(
        seq: Int64, runId: String, time: Double, host: String, pid: Int32, toolVersion: String, step: String?,
        kind: JournalEventKind, detail: JSONObject = [:]
    ) {
        self.seq = seq
        self.runId = runId
        self.time = time
        self.host = host
        self.pid = pid
        self.toolVersion = toolVersion
        self.step = step
        self.kind = kind
        self.detail = detail
    }
}

/// Where a journal gets the time, host, process id and tool version it records.
///
/// A struct of closures (not a protocol) so tests pass fixed values and production passes the real ones.
public struct JournalEnvironment: Sendable {
    /// The tool version recorded when none is given; pass the real one (`SessMigrateVersion.current`).
    public static let unknownToolVersion = "unknown"

    /// The current time in seconds since the epoch.
    public var now: @Sendable () -> Double
    /// This machine's host name.
    public var host: @Sendable () -> String
    /// This process's id.
    public var pid: @Sendable () -> Int32
    /// The sessmigrate version.
    public var toolVersion: @Sendable () -> String

    /// An environment; each value defaults to the real one (the tool version to ``unknownToolVersion``,
    /// since this module cannot see the executable's version).
    public init(
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        host: @escaping @Sendable () -> String = JournalEnvironment.currentHost,
        pid: @escaping @Sendable () -> Int32 = { getpid() },
        toolVersion: @escaping @Sendable () -> String = { JournalEnvironment.unknownToolVersion }
    ) {
        self.now = now
        self.host = host
        self.pid = pid
        self.toolVersion = toolVersion
    }

    /// The real clock, host and pid, with this tool version.
    public static func live(toolVersion: String) -> JournalEnvironment {
        JournalEnvironment(toolVersion: { toolVersion })
    }

    /// `gethostname(2)`, or `localhost` when it fails.
    @Sendable public static func currentHost() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
