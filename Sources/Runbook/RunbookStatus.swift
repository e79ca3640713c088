import Foundation
import Journal
import SessMigrate
import SessionModel

/// What `sessmigrate status` shows: a table a person reads at a glance (step, kind, state,
/// attempts, sessions and events done with % and ETA, time), the lock holder and whether it is
/// alive, and one sentence saying what to do next with the journal's real path. Built from the
/// journal's events alone; `--format json` gives the same report, versioned, with raw checkpoints.
public struct RunbookStatusReport: Sendable {
    public struct Row: Sendable {
        public var id: String
        public var kind: String
        public var state: String
        public var attempts: Int
        /// Sessions done (read) so far, and the total when known.
        public var sessions: Int?
        public var totalSessions: Int?
        public var events: Int?
        /// Seconds spent in the step's attempts so far (from its checkpoints or result).
        public var seconds: Double?
        /// The step's last checkpoint and result, for `--format json`.
        public var checkpoint: JSONObject?
        public var result: JSONObject?
        /// The error of a failed attempt.
        public var error: String?
        /// Bad sessions passed over (`skip_bad`), as counted by the step.
        public var skipped: Int?
    }

    public var runbook: String
    public var journal: String
    public var rows: [Row]
    public var lock: String
    public var lockAlive: Bool?
    public var next: String
    /// Sessions pending converge at a gate, and the age of the oldest, when a step recorded them.
    public var pending: String?

    /// The version of the `--format json` document.
    public static let formatVersion = 1

    public static func make(journalPath: String) throws -> RunbookStatusReport {
        let absolute = URL(fileURLWithPath: journalPath).standardizedFileURL.path
        let journal = try JournalFile.open(path: journalPath, readOnly: true)
        defer { journal.close() }
        let document = try RunbookDocument.parse(journal.runbookText)
        let machine = try RunbookStatus.machine(journal)
        var lock = "not held"
        var alive: Bool?
        if let holder = try journal.currentLockHolder() {
            let state = journal.state(of: holder)
            alive = state == .alive ? true : state == .stale ? false : nil
            let how = state == .alive ? "alive" : state == .stale ? "gone: a stale lock, resume takes it over" : "on another host: cannot tell"
            lock = "held by \(holder.host) pid \(holder.pid) since \(PythonTime.naiveUTC(fromEpoch: holder.startedAt).prefix(19)) UTC (\(how))"
        }
        let kinds = Dictionary(uniqueKeysWithValues: document.steps.map { ($0.id, $0.kind.rawValue) })
        let rows = machine.steps.map { step -> Row in
            var row = Row(id: step.id, kind: kinds[step.id] ?? "?", state: step.state.label, attempts: step.attempts)
            row.checkpoint = step.lastCheckpoint
            if case .done(let detail) = step.state { row.result = detail }
            if case .failed(let error, _) = step.state { row.error = error }
            Self.fillCounts(&row)
            return row
        }
        var pending: String?
        for row in rows {
            if let count = row.result?["pending_converge"]?.doubleValue ?? row.checkpoint?["pending_converge"]?.doubleValue, count > 0 {
                pending = "\(Int(count)) session(s) pending converge"
                if let age = row.result?["oldest_pending_seconds"]?.doubleValue { pending! += String(format: ", the oldest changed %.0f s ago", age) }
            }
        }
        return RunbookStatusReport(
            runbook: journal.runbookName, journal: absolute, rows: rows, lock: lock, lockAlive: alive,
            next: machine.statusReport(journalPath: absolute).nextSentence, pending: pending)
    }

    /// Counts from a copy checkpoint (version 2 or 1, or a converge checkpoint's `copy`) or a result.
    static func fillCounts(_ row: inout Row) {
        func counters(_ object: JSONObject) -> (Int, Int, Double?, Int?)? {
            let apps = object["apps"]?.objectValue ?? object["summary"]?.objectValue?["apps"]?.objectValue
            guard let apps else { return nil }
            var read = 0
            var events = 0
            for case .object(let counts) in apps.members.map(\.value) {
                read += Int(counts["read"]?.doubleValue ?? 0)
                events += Int(counts["events_read"]?.doubleValue ?? 0)
            }
            let seconds = object["seconds"]?.doubleValue ?? object["summary"]?.objectValue?["seconds"]?.doubleValue
            let total = (object["expected_sessions"] ?? object["summary"]?.objectValue?["expected_sessions"])?.doubleValue.map { Int($0) }
            return (read, events, seconds, total)
        }
        let counted = row.result ?? row.checkpoint?["copy"]?.objectValue ?? row.checkpoint
        if let count = counted?["skipped_count"]?.doubleValue, count > 0 { row.skipped = Int(count) }
        if let result = row.result, let read = result["read"]?.doubleValue {
            row.sessions = Int(read)
            row.events = result["events_read"]?.doubleValue.map { Int($0) }
            row.seconds = result["seconds"]?.doubleValue
        } else if let checkpoint = row.checkpoint, let (read, events, seconds, total) = counters(checkpoint["copy"]?.objectValue ?? checkpoint) {
            row.sessions = read
            row.events = events
            row.seconds = seconds
            row.totalSessions = total
        }
    }

    /// The table and the sentences.
    public var lines: [String] {
        var table: [[String]] = [["STEP", "KIND", "STATE", "TRIES", "SESSIONS", "EVENTS", "TIME"]]
        for row in rows {
            var sessions = row.sessions.map(String.init) ?? ""
            var time = row.seconds.map { String(format: "%.1f s", $0) } ?? ""
            if let done = row.sessions, let total = row.totalSessions, total > 0 {
                let fraction = min(1, Double(done) / Double(total))
                sessions = "\(done)/\(total) \(Int(fraction * 100))%"
                if let seconds = row.seconds, fraction > 0, fraction < 1 {
                    let left = seconds / fraction - seconds
                    time += String(format: ", ETA %d:%02d", Int(left) / 60, Int(left) % 60)
                }
            }
            table.append([row.id, row.kind, row.state, row.attempts > 0 ? String(row.attempts) : "", sessions, row.events.map(String.init) ?? "", time])
        }
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        var lines = ["runbook: \(runbook)", "journal: \(journal)", "lock:    \(lock)", ""]
        lines += table.map { cells in
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        for row in rows where row.error != nil { lines.append("error in \(row.id): \(row.error ?? "")") }
        for row in rows {
            guard let skipped = row.skipped else { continue }
            lines.append(
                "bad:     \(skipped) session(s) skipped in step \(row.id); `sessmigrate log --journal \(JournalError.shellQuoted(journal)) --step \(row.id)` names them"
            )
        }
        if let pending { lines.append("pending: \(pending)") }
        lines.append("")
        lines.append("next: \(next)")
        return lines
    }

    /// The `--format json` document.
    public var json: JSONObject {
        func number(_ value: Int?) -> JSONValue { value.map { .number(JSONNumber($0)) } ?? .null }
        return [
            "format": .number(JSONNumber(Self.formatVersion)), "runbook": .string(runbook), "journal": .string(journal),
            "lock": .string(lock), "lock_alive": lockAlive.map(JSONValue.bool) ?? .null,
            "steps": .array(
                rows.map { row in
                    .object([
                        "id": .string(row.id), "kind": .string(row.kind), "state": .string(row.state), "attempts": .number(JSONNumber(row.attempts)),
                        "sessions": number(row.sessions), "total_sessions": number(row.totalSessions), "events": number(row.events),
                        "seconds": row.seconds.map { .number(JSONNumber($0)) } ?? .null, "error": row.error.map(JSONValue.string) ?? .null,
                        "skipped_count": number(row.skipped),
                        "checkpoint": row.checkpoint.map(JSONValue.object) ?? .null, "result": row.result.map(JSONValue.object) ?? .null,
                    ])
                }),
            "pending": pending.map(JSONValue.string) ?? .null, "next": .string(next),
        ]
    }
}

/// Read-side helpers for `status`, `log`, `continue` and `unlock`.
public enum RunbookStatus {
    /// The state machine of the run in a journal.
    public static func machine(_ journal: JournalFile) throws -> JournalStateMachine {
        let document = try RunbookDocument.parse(journal.runbookText)
        let gates = Set(document.steps.filter { $0.kind == .gate }.map(\.id))
        return try JournalStateMachine(stepIDs: document.steps.map(\.id), gateStepIDs: gates, events: try journal.events())
    }

    /// Every event, oldest first; only those of `step` when given, only the last `tail` when given.
    public static func events(journalPath: String, step: String? = nil, tail: Int? = nil) throws -> [JournalEvent] {
        let journal = try JournalFile.open(path: journalPath, readOnly: true)
        defer { journal.close() }
        var events = try journal.events()
        if let step { events = events.filter { $0.step == step } }
        if let tail { events = Array(events.suffix(max(0, tail))) }
        return events
    }

    /// Records `continue_requested` for the gate the run waits at; returns the gate's id.
    public static func requestContinue(journalPath: String) throws -> String {
        let journal = try JournalFile.open(path: journalPath, environment: .live(toolVersion: SessMigrateVersion.current))
        defer { journal.close() }
        guard case .waitAtGate(let gate) = try machine(journal).nextAction() else {
            throw RunbookError("no gate is waiting in \(journalPath); `sessmigrate status --journal \(journalPath)` shows where the run is")
        }
        let environment = JournalEnvironment.live(toolVersion: SessMigrateVersion.current)
        _ = try journal.append(runId: "continue-\(environment.host())-\(environment.pid())", step: gate, kind: .continueRequested, detail: [:])
        return gate
    }
}
