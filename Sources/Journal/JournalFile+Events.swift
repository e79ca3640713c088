import DriverCore
import SQLiteDriver
import SessionModel

extension JournalFile {
    /// Every event of the log, oldest first (by `seq`), after checking the hash chain.
    ///
    /// - Throws: ``JournalError`` (`.corrupt`) naming the event when a row has an unknown kind or a
    ///   detail that is not a JSON object, when the seqs are not 1, 2, 3, …, or when an event does not
    ///   match the hash chain (it, an earlier event, or the runbook was edited, inserted or removed).
    public func events() throws -> [JournalEvent] {
        let connection = try openConnection()
        // One read transaction: an event appended by another process (`continue` while a run waits at a
        // gate) between reading the events and `sqlite_sequence` would otherwise look like a removed one.
        return try connection.withReadTransaction { try events(connection) }
    }

    private func events(_ connection: SQLiteConnection) throws -> [JournalEvent] {
        let statement = try connection.prepare(
            "SELECT seq, run_id, time, host, pid, tool_version, step, kind, detail, hash FROM journal_events ORDER BY seq")
        var events: [JournalEvent] = []
        var previous = chainGenesis
        while try statement.step() {
            let seq = statement.int64(at: 0)
            guard seq == Int64(events.count + 1) else {
                throw JournalError.brokenChain(path, "event \(seq) follows event \(events.count): event \(events.count + 1) was removed")
            }
            let kindText = statement.text(at: 7)
            guard let kind = JournalEventKind(rawValue: kindText) else {
                throw JournalError.corrupt(path, "event \(seq) has an unknown kind \(Printable.name(kindText))")
            }
            let detailText = statement.text(at: 8)
            let detail: JSONObject
            do {
                detail = try JSONValue.parseObject(detailText)
            } catch {
                throw JournalError.corrupt(path, "event \(seq) has a detail that is not a JSON object (\(error))")
            }
            let event = JournalEvent(
                seq: seq, runId: statement.text(at: 1), time: statement.double(at: 2), host: statement.text(at: 3),
                pid: Int32(truncatingIfNeeded: statement.int64(at: 4)), toolVersion: statement.text(at: 5),
                step: statement.isNull(at: 6) ? nil : statement.text(at: 6), kind: kind, detail: detail)
            let link = Self.chainLink(previous: previous, event: event, detailText: detailText)
            guard statement.text(at: 9) == link else {
                throw JournalError.brokenChain(path, "event \(seq) (\(kind.rawValue)) does not match the hash chain: it or an earlier event was changed")
            }
            previous = link
            events.append(event)
        }
        try checkNothingRemoved(connection, lastSeq: Int64(events.count))
        return events
    }

    /// Appends one event in its own durable transaction and returns it as stored.
    ///
    /// Time, host, pid and tool version come from the journal's ``JournalEnvironment``. Events are
    /// never updated or deleted. Appending does not need the lock: `sessmigrate continue` appends
    /// `continue_requested` while a runner holds it. But an instance that took the lock checks, in the
    /// same transaction, that it still holds it: once the lock was cleared or taken by another run,
    /// every append of this instance is refused and writes nothing.
    ///
    /// - Parameters:
    ///   - step: the step id; required for step events, `nil` for run-level ones
    ///     (``JournalEventKind/isStepEvent``).
    /// - Throws: ``JournalError`` when `step` does not fit `kind`, or this instance lost its lock;
    ///   `SQLiteError` when the write fails.
    @discardableResult
    public func append(runId: String, step: String?, kind: JournalEventKind, detail: JSONObject = [:]) throws -> JournalEvent {
        guard kind.isStepEvent == (step != nil) else {
            let expectation = kind.isStepEvent ? "needs a step" : "takes no step"
            throw JournalError(code: .constraint, message: "a \(kind.rawValue) event \(expectation)")
        }
        let connection = try openConnection()
        return try connection.withTransaction {
            try checkStillHoldsLock(connection)
            return try insertEvent(connection, runId: runId, step: step, kind: kind, detail: detail)
        }
    }

    /// Inserts one event inside the caller's (immediate) transaction, chained to the last one.
    func insertEvent(
        _ connection: SQLiteConnection, runId: String, step: String?, kind: JournalEventKind, detail: JSONObject
    ) throws -> JournalEvent {
        let last = try lastLink(connection)
        if last.seq == 0 { try checkGenesisUnchanged(connection) }
        let detailText = detail.serialized(.compact)
        let event = JournalEvent(
            seq: last.seq + 1, runId: runId, time: environment.now(), host: environment.host(), pid: environment.pid(),
            toolVersion: environment.toolVersion(), step: step, kind: kind, detail: detail)
        let statement = try connection.prepare(
            "INSERT INTO journal_events (seq, run_id, time, host, pid, tool_version, step, kind, detail, hash) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try statement.run([
            .integer(event.seq), .text(event.runId), .float(event.time), .text(event.host), .integer(Int64(event.pid)),
            .text(event.toolVersion), step.map { .text($0) } ?? .null, .text(kind.rawValue), .text(detailText),
            .text(Self.chainLink(previous: last.hash, event: event, detailText: detailText)),
        ])
        return event
    }
}
