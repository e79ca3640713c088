import DriverCore
import SQLiteDriver
import SessionModel

extension JournalFile {
    /// Every event of the log, oldest first (by `seq`).
    ///
    /// - Throws: ``JournalError`` naming the event when a row has an unknown kind or a detail that
    ///   is not a JSON object.
    public func events() throws -> [JournalEvent] {
        let connection = try openConnection()
        let statement = try connection.prepare(
            "SELECT seq, run_id, time, host, pid, tool_version, step, kind, detail FROM journal_events ORDER BY seq")
        var events: [JournalEvent] = []
        while try statement.step() {
            let seq = statement.int64(at: 0)
            let kindText = statement.text(at: 7)
            guard let kind = JournalEventKind(rawValue: kindText) else {
                throw JournalError.corrupt(path, "event \(seq) has an unknown kind \(kindText)")
            }
            let detail: JSONObject
            do {
                detail = try JSONValue.parseObject(statement.text(at: 8))
            } catch {
                throw JournalError.corrupt(path, "event \(seq) has a detail that is not a JSON object (\(error))")
            }
            events.append(
                JournalEvent(
                    seq: seq, runId: statement.text(at: 1), time: statement.double(at: 2), host: statement.text(at: 3),
                    pid: Int32(truncatingIfNeeded: statement.int64(at: 4)), toolVersion: statement.text(at: 5),
                    step: statement.isNull(at: 6) ? nil : statement.text(at: 6), kind: kind, detail: detail))
        }
        return events
    }

    /// Appends one event in its own durable transaction and returns it as stored.
    ///
    /// Time, host, pid and tool version come from the journal's ``JournalEnvironment``. Events are
    /// never updated or deleted. Appending does not need the lock: `sessmigrate continue` appends
    /// `continue_requested` while a runner holds it.
    ///
    /// - Parameters:
    ///   - step: the step id; required for step events, `nil` for run-level ones
    ///     (``JournalEventKind/isStepEvent``).
    /// - Throws: ``JournalError`` when `step` does not fit `kind`; `SQLiteError` when the write fails.
    @discardableResult
    public func append(runId: String, step: String?, kind: JournalEventKind, detail: JSONObject = [:]) throws -> JournalEvent {
        guard kind.isStepEvent == (step != nil) else {
            let expectation = kind.isStepEvent ? "needs a step" : "takes no step"
            throw JournalError(code: .constraint, message: "a \(kind.rawValue) event \(expectation)")
        }
        let connection = try openConnection()
        return try connection.withTransaction {
            try insertEvent(connection, runId: runId, step: step, kind: kind, detail: detail)
        }
    }

    /// Inserts one event inside the caller's transaction.
    func insertEvent(
        _ connection: SQLiteConnection, runId: String, step: String?, kind: JournalEventKind, detail: JSONObject
    ) throws -> JournalEvent {
        var event = JournalEvent(
            seq: 0, runId: runId, time: environment.now(), host: environment.host(), pid: environment.pid(),
            toolVersion: environment.toolVersion(), step: step, kind: kind, detail: detail)
        let statement = try connection.prepare(
            "INSERT INTO journal_events (run_id, time, host, pid, tool_version, step, kind, detail) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq")
        try statement.bind([
            .text(event.runId), .float(event.time), .text(event.host), .integer(Int64(event.pid)),
            .text(event.toolVersion), step.map { .text($0) } ?? .null, .text(kind.rawValue),
            .text(detail.serialized(.compact)),
        ])
        guard try statement.step() else {
            throw JournalError(code: .query, message: "journal \(path): appending an event returned no seq")
        }
        event.seq = statement.int64(at: 0)
        while try statement.step() {}
        return event
    }
}
