import DriverCore
import Foundation
import Journal
import SessMigrate
import SessionModel

/// Progress of a run: a step's event (copy progress, a note, a retry), or the runner's own note
/// (`step` is `nil`).
public struct RunnerEvent: Sendable {
    public var step: String?
    public var event: ProgressEvent

    public init(step: String?, event: ProgressEvent) {
        self.step = step
        self.event = event
    }
}

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
    /// Progress for the operator (the command line draws it).
    public var events: (RunnerEvent) -> Void = { _ in }
    public var crashHooks = CrashHooks.fromEnvironment()
    /// Retries of a step after transient faults in a row (see ``RetryPolicy``); each failure and
    /// retry is recorded in the journal, and the step resumes from its last checkpoint.
    public var retry = RetryPolicy()
    /// The run's clock (the time steps record, and the waits before retries); injected by tests.
    public var clock = Clock.system
    /// How many kept or skipped sessions a step names in the journal (the counts go on).
    public static let journaledNamesLimit = 1000
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

    /// Continues the run recorded in an existing journal. Variables must have the values the run
    /// started with, except those the runbook lets change on resume (`may_change_on_resume`); a
    /// change to one of those is announced and recorded in the `run_started` event.
    public func resume(_ journal: JournalFile) throws -> RunOutcome {
        let recorded = Dictionary(journal.variables.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        let now = variables.redacted()
        let fixed = now.filter { !document.mutableVariables.contains($0.name) }
        let recordedFixed = journal.variables.filter { !document.mutableVariables.contains($0.name) }
        guard fixed.map({ "\($0.name)=\($0.value)" }) == recordedFixed.map({ "\($0.name)=\($0.value)" }) else {
            let differing = fixed.filter { recorded[$0.name] != $0.value }.map(\.name)
            throw RunbookError(
                "the variables differ from the journal's (\(differing.joined(separator: ", ")); journal: "
                    + recordedFixed.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
                    + "): pass the same --var and --env-file as the first run"
                    + (document.mutableVariables.isEmpty ? "" : " (only \(document.mutableVariables.sorted().joined(separator: ", ")) may change)"))
        }
        var changed = JSONObject()
        for (name, value) in now where document.mutableVariables.contains(name) && recorded[name] != value {
            changed[name] = .string(value)
            note("variable \(name) is now '\(value)' (was '\(recorded[name] ?? "")'); the runbook lets it change on resume")
        }
        return try drive(journal, changedVariables: changed)
    }

    func drive(_ journal: JournalFile, changedVariables: JSONObject = [:]) throws -> RunOutcome {
        let gateIDs = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        // A finished run is reported as such and nothing is written, not even run_started.
        let recorded = try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gateIDs, events: try journal.events())
        if recorded.isFinished, recorded.isRunFinishedRecorded {
            note("the run in \(journalPath) is already finished; nothing to do")
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
        var retries = RetryCounter(policy: retry)
        var named: [String: Int] = [:]  // kept and skipped sessions named in the journal, per step
        let steps = Dictionary(uniqueKeysWithValues: document.steps.map { ($0.id, $0) })
        let gates = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        var appended = 0
        var announcedGate: String?
        func record(_ step: String?, _ kind: JournalEventKind, _ detail: JSONObject = [:], refreshLocks: Bool = true) throws {
            _ = try journal.append(runId: runId, step: step, kind: kind, detail: detail)
            if refreshLocks { for store in targetLocks { try store.refreshRunLock(owner: owner) } }
            appended += 1
            crashHooks.afterJournalEvent(appended)
        }
        let hooks = HookRunner(runner: self, journal: journal, runId: runId) { try record(nil, $0, $1, refreshLocks: false) }
        var started: JSONObject = ["runbook": .string(document.name), "tool_version": .string(SessMigrateVersion.current)]
        if !changedVariables.isEmpty { started["variables_changed"] = .object(changedVariables) }
        try record(nil, .runStarted, started)
        try reopenStepsWhoseTargetRestarted(journal) { try record($0, $1, $2) }
        while true {
            let machine = try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gates, events: try journal.events())
            switch machine.nextAction() {
            case .start:
                // run_started was recorded above; the machine only asks when it sees none.
                throw RunbookError("the journal \(journalPath) did not record this run's start")
            case .finished:
                try record(nil, .runFinished)
                try hooks.fire(.onDone, .finished, step: nil, machine: machine)
                return .finished
            case .waitAtGate(let id):
                if announcedGate != id {
                    announcedGate = id
                    note(
                        "gate '\(id)': waiting\(Self.pendingNote(machine.outputs())); run `sessmigrate continue --journal \(journalPath)` to pass it", step: id)
                }
                guard waitAtGates else { return .waitingAtGate(id) }
                clock.sleep(1)
            case .passGate(let id):
                try record(id, .gatePassed)
                // The time the gate was passed: a later converge step's drain window starts there.
                try record(id, .stepDone, ["gate": .string("passed"), "time": .string(PythonFloat.repr(clock.now()))])
                try hooks.fire(.onStepDone, .done, step: steps[id], machine: machine)
            case .runStep(let id, let resumeFrom):
                guard let spec = steps[id] else { throw RunbookError("the journal's next step '\(id)' is not in the runbook") }
                if gates.contains(id), try isManualGate(spec, outputs: machine.outputs()) {
                    try record(id, .gateWaiting)
                    try hooks.fire(.onGate, .waiting, step: spec, machine: machine)
                    continue
                }
                var started = false  // step_failed only follows a step_started of this attempt
                do {
                    // After a fault the old lock connections may be dead: no refresh before the relock.
                    try record(id, .stepStarted, resumeFrom.map { ["resume_from": .object($0)] } ?? [:], refreshLocks: !relockBeforeNextStep)
                    started = true
                    try hooks.fire(.onStepStart, .started, step: spec, machine: machine)
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
                        afterBatchWritten: { crashHooks.afterBatchWritten() },
                        events: { event in
                            // Kept and skipped sessions are journaled as events of their own, their names capped per step.
                            if let (kind, detail) = Self.namesEvent(event, alreadyNamed: &named[id, default: 0]) {
                                try? record(id, kind, detail, refreshLocks: false)
                            }
                            events(RunnerEvent(step: id, event: event))
                        })
                    context.clock = clock
                    // This attempt's number: earlier attempts were interrupted or failed.
                    context.attempt = (machine.status(ofStep: id)?.attempts ?? 0) + 1
                    var detail = try StepRunner.run(context)
                    if [.copy, .converge, .restore].contains(spec.kind), let text = spec.values["target"],
                        let address = try? StoreAddress.parse(variables.substitute(text, outputs: machine.outputs()), environment: variables.environment),
                        let epoch = try? Self.writeEpoch(of: address)
                    {
                        detail["target_epoch"] = .string(epoch)  // a restart of this target later makes the step run again
                    }
                    try record(id, .stepDone, detail)
                    crashHooks.afterStepDone(id, journalPath: journalPath)
                    note("step '\(id)' (\(spec.kind.rawValue)) done", step: id)
                    retries.succeeded()
                } catch {
                    var detail: JSONObject = ["error": .string(String(describing: error))]
                    switch retries.decide(after: error, progress: checkpoints) {
                    case .retry(let notice):
                        detail["transient"] = .bool(true)
                        detail["retry"] = .number(JSONNumber(notice.retry))
                        detail["retry_in_seconds"] = .string(PythonFloat.repr(notice.delay))
                        if started { try record(id, .stepFailed, detail, refreshLocks: false) }
                        if started { try hooks.fire(.onFailure, .failed, step: spec, machine: machine) }
                        events(RunnerEvent(step: id, event: .retrying(notice)))
                        clock.sleep(notice.delay)
                        relockBeforeNextStep = true
                        continue
                    case .exhausted(let count):
                        detail["transient"] = .bool(true)
                        detail["retries_exhausted"] = .number(JSONNumber(count))
                    case .fatal:
                        break
                    }
                    if started { try record(id, .stepFailed, detail, refreshLocks: false) }
                    if started { _ = try? hooks.fire(.onFailure, .failed, step: spec, machine: machine) }  // the step's error is the one reported
                    // A verify that fails because a target restarted and lost writes: the steps that wrote it run again.
                    if spec.kind == .verify,
                        try reopenStepsWhoseTargetRestarted(journal, record: { try record($0, $1, $2, refreshLocks: false) })
                            || reopenAfterFailedVerify(spec, journal, record: { try record($0, $1, $2, refreshLocks: false) })
                    {
                        continue
                    }
                    throw RunbookStepError(step: id, underlying: error, journalPath: journalPath)
                }
                try hooks.fire(.onStepDone, .done, step: spec, machine: machine)
            }
        }
    }

    /// Takes the journal's lock. A lock left by a process that died on this host (a killed run) is
    /// taken over, recorded as `lock_broken`; a live holder, or one on another host, is refused.
    func acquireLock(_ journal: JournalFile, runId: String) throws {
        if let holder = try journal.currentLockHolder(), journal.state(of: holder) == .stale {
            _ = try journal.breakLock(force: false)
            note("took over the lock of \(holder.host) pid \(holder.pid), which is no longer running")
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
            if address.isFile { continue }  // SQLite serializes its writers itself.
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

    /// `; 3 session(s) pending converge, the oldest changed 12 s ago` from the latest step that counted them.
    static func pendingNote(_ outputs: [String: JSONObject]) -> String {
        guard let detail = outputs.values.first(where: { $0["pending_converge"] != nil }),
            let count = detail["pending_converge"]?.doubleValue
        else { return "" }
        var text = "; \(Int(count)) session(s) pending converge"
        if let age = detail["oldest_pending_seconds"]?.doubleValue { text += ", the oldest changed \(Int(age)) s ago" }
        return text + " (the converge after the flip carries them over)"
    }

    func note(_ text: String, step: String? = nil) {
        events(RunnerEvent(step: step, event: .note(text)))
    }

    /// The journal event that names the kept or skipped sessions of `event`, if it holds any: at
    /// most ``journaledNamesLimit`` names per step in all, and the batch's count.
    static func namesEvent(_ event: ProgressEvent, alreadyNamed: inout Int) -> (JournalEventKind, JSONObject)? {
        let room = max(0, journaledNamesLimit - alreadyNamed)
        switch event {
        case .kept(let keys):
            alreadyNamed += min(room, keys.count)
            let names = keys.prefix(room).map { JSONValue.array([.string($0.appName), .string($0.userId), .string($0.sessionId)]) }
            return (.sessionsKept, ["count": .number(JSONNumber(keys.count)), "sessions": .array(Array(names))])
        case .skipped(let items):
            alreadyNamed += min(room, items.count)
            return (.sessionsSkipped, ["count": .number(JSONNumber(items.count)), "sessions": .array(items.prefix(room).map { .object($0.json()) })])
        case .conflicted(let items):
            alreadyNamed += min(room, items.count)
            let names = items.prefix(room).map { item -> JSONValue in
                .object([
                    "session": .array([.string(item.key.appName), .string(item.key.userId), .string(item.key.sessionId)]),
                    "events": .array(item.eventIds.map(JSONValue.string)),
                ])
            }
            return (.sessionsConflicted, ["count": .number(JSONNumber(items.count)), "sessions": .array(Array(names))])
        default:
            return nil
        }
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
/// target, before that batch's checkpoint; `SESSMIGRATE_TEST_PAUSE_AFTER_STEP=ID` pauses right after step
/// ID is recorded done: it creates `JOURNAL.paused-after-ID` and waits until `JOURNAL.go-on` exists (so a
/// test can restart a server at that exact point). Unset in normal use.
public struct CrashHooks: Sendable {
    public var afterEvents: Int?
    public var afterBatches: Int?
    public var pauseAfterStep: String?
    private let batches = Counter()

    public static func fromEnvironment() -> CrashHooks {
        let env = ProcessInfo.processInfo.environment
        var hooks = CrashHooks(
            afterEvents: env["SESSMIGRATE_TEST_KILL_AFTER_EVENTS"].flatMap { Int($0) },
            afterBatches: env["SESSMIGRATE_TEST_KILL_AFTER_BATCHES"].flatMap { Int($0) })
        hooks.pauseAfterStep = env["SESSMIGRATE_TEST_PAUSE_AFTER_STEP"]
        return hooks
    }

    init(afterEvents: Int?, afterBatches: Int?) {
        self.afterEvents = afterEvents
        self.afterBatches = afterBatches
    }

    func afterJournalEvent(_ count: Int) {
        if count == afterEvents { kill(getpid(), SIGKILL) }
    }

    /// Pauses after step `id` is done when the hook names it (see the type's documentation).
    func afterStepDone(_ id: String, journalPath: String) {
        guard id == pauseAfterStep else { return }
        FileManager.default.createFile(atPath: "\(journalPath).paused-after-\(id)", contents: nil)
        while !FileManager.default.fileExists(atPath: "\(journalPath).go-on") { Thread.sleep(forTimeInterval: 0.05) }
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
