import DriverCore
import SessionModel

// App and user state of a write batch, merged in a transaction of their own that touches no other
// table (docs/DESIGN.md "Fencing": the lock order that cannot deadlock with ADK). It runs under READ
// COMMITTED, so a missing row locks no gap (two `--workers` creating rows in the same gaps deadlocked
// under REPEATABLE READ); a row created by someone else between the read and the INSERT makes the
// INSERT fail on the duplicate key, and the transaction runs again and merges into that row.
extension MySQLSessionStore {
    /// Merges the app and user state of `sessions` (keys to set, `dict.update`) into `app_states`
    /// and `user_states`, in one transaction: the app rows are locked first, then the user rows,
    /// each in key order, as ADK's `append_event` locks them (after its session row, which this
    /// transaction never touches).
    func mergeScopedStates(_ sessions: [Session]) throws {
        try runningAgainIfRowCreated {
            try mergeStates(
                table: "app_states", keyColumns: ["app_name"],
                updates: sessions.map { ([$0.key.appName], $0.appState, $0.key) })
            try mergeStates(
                table: "user_states", keyColumns: ["app_name", "user_id"],
                updates: sessions.map { ([$0.key.appName, $0.key.userId], $0.userState, $0.key) })
        }
    }

    /// Merges each update into the stored state row of its key, in order, as ADK's
    /// `dict.update`; rows are created (as ADK's `create_session` does) even for an empty state.
    /// A merged state too large for a packet rejects the first session (`owner`) that updates it.
    private func mergeStates(table: String, keyColumns: [String], updates: [([String], JSONObject, SessionKey)]) throws {
        var keys: [[String]] = []
        // Keys by their bytes (``ExactString``): apps or users equal only to Swift's `==` are two rows.
        var seen: Set<[ExactString]> = []
        var owners: [[ExactString]: SessionKey] = [:]
        for (key, _, owner) in updates where seen.insert(exact(key)).inserted {
            keys.append(key)
            owners[exact(key)] = owner
        }
        keys.sort { $0.lexicographicallyPrecedes($1) { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
        let stored = try readStates(table: table, keyColumns: keyColumns, keys: keys, forUpdate: true)
        try afterStateRowsLocked?(table)
        var merged = stored
        for (key, delta, _) in updates { merged[exact(key), default: [:]].update(with: delta) }
        func checkSize(_ sql: MySQLStatementBuilder, from start: Int, key: [String]) throws {
            guard let owner = owners[exact(key)] else { return }
            try checkRowSize(sql.count - start, owner: owner, location: RowName.row(table, key))
        }

        let columns = keyColumns.joined(separator: ", ")
        let missing = keys.filter { stored[exact($0)] == nil }
        func rowOwner(_ key: [String]) -> RowOwner {
            // Every key of `keys` has an owner: both come from `updates`.
            RowOwner.row(table, key, for: owners[exact(key)] ?? updates[0].2)
        }
        try executeChunked(
            missing, context: "INSERT INTO \(table)",
            prefix: "INSERT INTO \(table) (\(columns), state, update_time) VALUES ", separator: ", ", suffix: "",
            owner: rowOwner, explain: { key, error in try explainDuplicate(table: table, keyColumns: keyColumns, key: key, error) }
        ) { sql, key in
            let start = sql.count
            sql.append("(")
            for value in key {
                try sql.appendLiteral(value)
                sql.append(", ")
            }
            try sql.appendLiteral(DatabaseV1Codec.stateText(merged[exact(key)] ?? [:]))
            sql.append(", UTC_TIMESTAMP(6))")
            try checkSize(sql, from: start, key: key)
        }
        for key in keys {
            guard let old = stored[exact(key)], let new = merged[exact(key)], old != new else { continue }
            var sql = MySQLStatementBuilder(connection, context: "UPDATE \(table)")
            sql.append("UPDATE \(table) SET state = ")
            try sql.appendLiteral(DatabaseV1Codec.stateText(new))
            sql.append(", update_time = UTC_TIMESTAMP(6) WHERE ")
            try sql.appendEquals(keyColumns, key)
            try checkSize(sql, from: 0, key: key)
            try attributingRowErrors([rowOwner(key)]) { _ in _ = try sql.execute() }
        }
    }

    /// Called for a state row the server refused (alone): a duplicate key of a row with exactly
    /// this key is one created by someone else since the read (``RowCreatedMeanwhile``: the
    /// transaction runs again); one equal only under the collation keeps the rejection.
    private func explainDuplicate(table: String, keyColumns: [String], key: [String], _ error: MySQLError) throws {
        guard error.errorNumber == 1062, try readStates(table: table, keyColumns: keyColumns, keys: [key])[exact(key)] != nil else { return }
        throw RowCreatedMeanwhile(table: table, location: RowName.row(table, key))
    }
}

/// A state row's key columns as a dictionary key compared by bytes.
func exact(_ key: [String]) -> [ExactString] { key.map(ExactString.init) }
