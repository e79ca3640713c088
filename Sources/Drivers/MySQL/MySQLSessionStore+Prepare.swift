import DriverCore
import SessionModel

/// A session of a write batch with its `sessions` and `events` rows built before any transaction
/// starts, so that a row too large for a packet rejects its session before anything of the batch
/// is written (the app and user state transaction commits before the sessions transaction).
struct MySQLPreparedSession {
    var write: MySQLSessionWrite
    /// `('app', 'user', 'id', 'state', 'create_time', 'update_time')`, escaped.
    var sessionRow: [UInt8]
    var stateText: String
    var createTimeText: String
    var updateTimeText: String
    /// Schema v1: the bulk-protocol values of each event row.
    var eventRows: [[String]] = []
    /// Schema v0: each event row as an escaped `(…)` literal, with its event id (for errors).
    var v0EventRows: [(id: String, row: [UInt8])] = []

    /// The bytes a v1 event row takes in a bulk round trip (values and per-value overhead).
    static func bulkRowBytes(_ row: [String]) -> Int { row.reduce(16) { $0 + $1.utf8.count } }

    /// True when `stored` holds exactly this session's row content (a state text that differs
    /// only in key order or spacing counts as the same), so the row need not be written.
    func isStored(_ stored: MySQLStoredSessionRow) -> Bool {
        guard stored.createTime == createTimeText, stored.updateTime == updateTimeText, let state = stored.state else { return false }
        if state == stateText { return true }
        guard let parsed = try? DatabaseV1Codec.state(fromText: state, store: MySQLSessionStore.storeName, location: "sessions")
        else { return false }
        return parsed.isEquivalent(to: write.session.state)
    }
}

extension MySQLSessionStore {
    /// Builds the rows of every session and checks each against the packet limit
    /// (``SessionRejectedError`` for the first session with a row that cannot be sent).
    func prepareRows(_ writes: [MySQLSessionWrite]) throws -> [MySQLPreparedSession] {
        try writes.map { write in
            let session = write.session
            let key = session.key
            let stateText = DatabaseV1Codec.stateText(session.state)
            let createText = DatabaseV1Codec.datetimeText(DatabaseV1Codec.createTime(of: session))
            let updateText = DatabaseV1Codec.datetimeText(session.lastUpdateTime)
            var row = MySQLStatementBuilder(connection, context: "INSERT INTO sessions")
            try row.appendTuple([key.appName, key.userId, key.sessionId, stateText, createText, updateText])
            try checkRowSize(row.count, owner: key, location: RowName.session(key))
            var prepared = MySQLPreparedSession(
                write: write, sessionRow: row.bytes, stateText: stateText, createTimeText: createText, updateTimeText: updateText)
            for event in session.events {
                // Named only for an error: built for every row, the name cost more than the row's checks.
                func location() -> String { "events row id='\(event.id)' of \(key)" }
                if let v0 {
                    prepared.v0EventRows.append((event.id, try v0EventRow(event, of: key, codec: v0, location: location())))
                } else {
                    let values = [
                        event.id, key.appName, key.userId, key.sessionId, event.invocationId,
                        DatabaseV1Codec.datetimeText(event.timestamp), DatabaseV1Codec.eventDataText(event),
                    ]
                    try checkRowSize(MySQLPreparedSession.bulkRowBytes(values), owner: key, location: location())
                    prepared.eventRows.append(values)
                }
            }
            return prepared
        }
    }
}
