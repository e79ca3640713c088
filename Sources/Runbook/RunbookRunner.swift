import DriverCore
import Foundation
import Journal
import SessMigrate
import SessionModel

/// How a run ended.
public enum RunOutcome: Sendable, Equatable {
    /// Every step is done.
    case finished
    /// Waiting at a gate for `sessmigrate continue --journal J` (the run was told not to wait).
    case waitingAtGate(String)
}

/// Runs a runbook against its journal: asks the ``JournalStateMachine`` what comes next, runs it,
/// and records each event durably before moving on. Interrupted at any point, a `resume` picks up
/// at the step that did not finish, from its last checkpoint: at most one batch is repeated, and
/// repeating it is harmless because every write is idempotent.
public struct RunbookRunner {
    public var journalPath: String
    public var document: RunbookDocument
    public var variables: RunbookVariables
    /// Poll the journal while a gate waits (true), or return ``RunOutcome/waitingAtGate(_:)``.
    public var waitAtGates = true
    public var progress: (String) -> Void = { _ in }
    public var crashHooks = CrashHooks.fromEnvironment()
    /// Retries of a step after transient faults in a row (see ``RetryPolicy``); each failure and
    /// retry is recorded in the journal, and the step resumes from its last checkpoint.
    public var retry = RetryPolicy()
    /// Waits before a retry; injected by tests.
    public var sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    public var environment = JournalEnvironment.live(toolVersion: SessMigrateVersion.current)

    public init(journalPath: String, document: RunbookDocument, variables: RunbookVariables) {
        self.journalPath = journalPath
        self.document = document
        self.variables = variables
    }

    /// Creates the journal and runs. An existing journal is refused: use ``resume(_:)``.
    public func start(runbookText: String) throws -> RunOutcome {
        let journal = try JournalFile.create(
            path: journalPath, runbookName: document.name, runbookText: runbookText, variables: variables.redacted(),
            environment: environment)
        defer { journal.close() }
        return try drive(journal)
    }

    /// Continues the run recorded in an existing journal.
    public func resume(_ journal: JournalFile) throws -> RunOutcome {
        let recorded = journal.variables.map { "\($0.name)=\($0.value)" }
        let now = variables.redacted().map { "\($0.name)=\($0.value)" }
        guard recorded == now else {
            throw RunbookError("the variables differ from the journal's (journal: \(recorded.joined(separator: ", ")); now: \(now.joined(separator: ", "))): pass the same --var and --env-file as the first run")
        }
        return try drive(journal)
    }

    func drive(_ journal: JournalFile) throws -> RunOutcome {
        let gateIDs = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        // A finished run is reported as such and nothing is written, not even run_started.
        let recorded = try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gateIDs, events: try journal.events())
        if recorded.isFinished, recorded.isRunFinishedRecorded {
            progress("the run in \(journalPath) is already finished; nothing to do")
            return .finished
        }
        let runId = Self.newRunId(environment)
        try acquireLock(journal, runId: runId)
        defer { journal.releaseLock() }
        // The target lock belongs to the journal (not the pid), so a resumed run takes its own lock back
        // while any other run is refused; the journal's own lock keeps two processes off one journal.
        let absolute = URL(fileURLWithPath: journalPath).standardizedFileURL.path
        let owner = "the run of journal \(absolute) on host \(environment.host())"
        var targetLocks = try lockTargets(owner: owner)
        func releaseTargetLocks() {
            for store in targetLocks {
                store.releaseRunLock(owner: owner)
                try? store.close()
            }
            targetLocks = []
        }
        defer { releaseTargetLocks() }
        // After a transient fault the lock connections may be gone with the server: take the locks
        // again (refused if another run took one meanwhile) before the step is retried.
        var relockBeforeNextStep = false
        var checkpoints = 0
        var retries = StepRetryCounter(policy: retry)
        let steps = Dictionary(uniqueKeysWithValues: document.steps.map { ($0.id, $0) })
        let gates = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        var appended = 0
        func record(_ step: String?, _ kind: JournalEventKind, _ detail: JSONObject = [:], refreshLocks: Bool = true) throws {
            _ = try journal.append(runId: runId, step: step, kind: kind, detail: detail)
            if refreshLocks { for store in targetLocks { try store.refreshRunLock(owner: owner) } }
            appended += 1
            crashHooks.afterJournalEvent(appended)
        }
        try record(nil, .runStarted, ["runbook": .string(document.name)])
        while true {
            let machine = try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gates, events: try journal.events())
            switch machine.nextAction() {
            case .start:
                // run_started was recorded above; the machine only asks when it sees none.
                throw RunbookError("the journal \(journalPath) did not record this run's start")
            case .finished:
                try record(nil, .runFinished)
                return .finished
            case .waitAtGate(let id):
                progress("gate '\(id)': waiting; run `sessmigrate continue --journal \(journalPath)` to pass it")
                guard waitAtGates else { return .waitingAtGate(id) }
                Thread.sleep(forTimeInterval: 1)
            case .passGate(let id):
                try record(id, .gatePassed)
                try record(id, .stepDone, ["gate": .string("passed")])
            case .runStep(let id, let resumeFrom):
                guard let spec = steps[id] else { throw RunbookError("the journal's next step '\(id)' is not in the runbook") }
                if gates.contains(id), try isManualGate(spec, outputs: machine.outputs()) {
                    try record(id, .gateWaiting)
                    continue
                }
                var started = false  // step_failed only follows a step_started of this attempt
                do {
                    // After a fault the old lock connections may be dead: no refresh before the relock.
                    try record(id, .stepStarted, resumeFrom.map { ["resume_from": .object($0)] } ?? [:], refreshLocks: !relockBeforeNextStep)
                    started = true
                    if relockBeforeNextStep {
                        releaseTargetLocks()
                        targetLocks = try lockTargets(owner: owner)
                        relockBeforeNextStep = false
                    }
                    var context = StepContext(
                        id: id, spec: spec, variables: variables, outputs: machine.outputs(), resumeFrom: resumeFrom, dryRun: false,
                        checkpoint: { point in
                            try record(id, .checkpoint, point)
                            checkpoints += 1
                        },
                        afterBatchWritten: { crashHooks.afterBatchWritten() }, progress: progress)
                    // This attempt's number: earlier attempts were interrupted or failed.
                    context.attempt = (machine.status(ofStep: id)?.attempts ?? 0) + 1
                    let detail = try StepRunner.run(context)
                    try record(id, .stepDone, detail)
                    progress("step '\(id)' (\(spec.kind.rawValue)) done")
                    retries.stepSucceeded()
                } catch {
                    var detail: JSONObject = ["error": .string(String(describing: error))]
                    switch retries.decide(after: error, checkpoints: checkpoints) {
                    case .retry(let notice):
                        detail["transient"] = .bool(true)
                        detail["retry"] = .number(JSONNumber(notice.retry))
                        detail["retry_in_seconds"] = .string(PythonFloat.repr(notice.delay))
                        if started { try record(id, .stepFailed, detail, refreshLocks: false) }
                        progress("step '\(id)': \(notice)")
                        sleep(notice.delay)
                        relockBeforeNextStep = true
                        continue
                    case .exhausted(let count):
                        detail["transient"] = .bool(true)
                        detail["retries_exhausted"] = .number(JSONNumber(count))
                    case .fatal:
                        break
                    }
                    if started { try record(id, .stepFailed, detail, refreshLocks: false) }
                    throw RunbookStepError(step: id, underlying: error, journalPath: journalPath)
                }
            }
        }
    }

    /// Takes the journal's lock. A lock left by a process that died on this host (a killed run) is
    /// taken over, recorded as `lock_broken`; a live holder, or one on another host, is refused.
    func acquireLock(_ journal: JournalFile, runId: String) throws {
        if let holder = try journal.currentLockHolder(), journal.state(of: holder) == .stale {
            _ = try journal.breakLock(force: false)
            progress("took over the lock of \(holder.host) pid \(holder.pid), which is no longer running")
        }
        try journal.acquireLock(runId: runId)
    }

    /// Takes the advisory run lock of every store a step writes to (`target` of copy, converge and
    /// restore steps), so a second run against the same target is refused with its holder named.
    /// The stores stay open, holding their locks, until the run ends.
    func lockTargets(owner: String) throws -> [any SessionStore] {
        var addresses: [StoreAddress] = []
        for spec in document.steps where [.copy, .converge, .restore].contains(spec.kind) {
            guard let text = spec.values["target"], let resolved = try? variables.substitute(text, outputs: [:]),
                let address = try? StoreAddress.parse(resolved, environment: variables.environment)
            else { continue }
            if case .sqlite = address { continue }  // SQLite serializes its writers itself.
            if !addresses.contains(address) { addresses.append(address) }
        }
        var locked: [any SessionStore] = []
        do {
            for address in addresses {
                let store = try StoreOpener().open(address, forWriting: false)
                locked.append(store)
                try store.acquireRunLock(owner: owner)
            }
        } catch {
            for store in locked {
                store.releaseRunLock(owner: owner)
                try? store.close()
            }
            throw error
        }
        return locked
    }

    /// A gate whose `command` is absent or resolves to nothing waits for `sessmigrate continue`.
    func isManualGate(_ spec: StepSpec, outputs: [String: JSONObject]) throws -> Bool {
        try (spec.values["command"].map { try variables.substitute($0, outputs: outputs) } ?? "").isEmpty
    }

    static func newRunId(_ environment: JournalEnvironment) -> String {
        "\(environment.host())-\(environment.pid())-\(Int(environment.now() * 1000))"
    }
}

/// A step failed; the journal records it and `resume` retries it from its last checkpoint.
public struct RunbookStepError: Error, CustomStringConvertible {
    public var step: String
    public var underlying: any Error
    public var journalPath: String
    public var description: String {
        "step '\(step)' failed: \(underlying). Fix the cause, then `sessmigrate resume --journal \(journalPath)` retries it from its last checkpoint"
    }
}

/// Test-only crash points, set through the environment by the kill-and-resume tests:
/// `SESSMIGRATE_TEST_KILL_AFTER_EVENTS=N` kills the process with SIGKILL right after its N-th
/// journal event; `SESSMIGRATE_TEST_KILL_AFTER_BATCHES=N` right after its N-th batch reached a
/// target, before that batch's checkpoint. Unset in normal use.
public struct CrashHooks: Sendable {
    public var afterEvents: Int?
    public var afterBatches: Int?
    private let batches = Counter()

    public static func fromEnvironment() -> CrashHooks {
        let env = ProcessInfo.processInfo.environment
        return CrashHooks(afterEvents: env["SESSMIGRATE_TEST_KILL_AFTER_EVENTS"].flatMap { Int($0) },
                          afterBatches: env["SESSMIGRATE_TEST_KILL_AFTER_BATCHES"].flatMap { Int($0) })
    }

    init(afterEvents: Int?, afterBatches: Int?) {
        self.afterEvents = afterEvents
        self.afterBatches = afterBatches
    }

    func afterJournalEvent(_ count: Int) {
        if count == afterEvents { kill(getpid(), SIGKILL) }
    }

    func afterBatchWritten() {
        if batches.increment() == afterBatches { kill(getpid(), SIGKILL) }
    }

    /// A counter shared by copies of the hooks (one process, one thread).
    final class Counter: @unchecked Sendable {
        // @unchecked: the runner is single-threaded; the counter is only touched on its thread.
        private var value = 0
        func increment() -> Int {
            value += 1
            return value
        }
    }
}
