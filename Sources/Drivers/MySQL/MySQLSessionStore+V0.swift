import DriverCore
import SessionModel

// Schema v0 `events` rows (ADK ≤ 1.21): the other tables are the same as in v1, so only reading
// and upserting events differ. Column values go through DatabaseV0Codec, shared with SQLite.
extension MySQLSessionStore {
    /// Streams the v0 events of all `sessions` in one query, ordered `(timestamp, id)` as ADK 2.13
    /// reads a v0 table.
    func attachV0Events(to sessions: inout [Session], codec: DatabaseV0Codec, bad: inout BadSessionLog) throws {
        let columns = codec.valueColumns
        try attachEvents(to: &sessions, valueColumns: columns, bad: &bad) { row, id, location in
            let values = try columns.indices.map {
                try Self.v0Value(row, at: 4 + $0, column: columns[$0], location: location())
            }
            return try codec.event(id: id, values: values, location: location())
        }
    }

    /// A column of the text protocol: `actions` as raw bytes, everything else as UTF-8 text.
    private static func v0Value(_ row: MySQLRawRow, at index: Int, column: String, location: String) throws -> DatabaseV0Value {
        guard let bytes = row.bytes(at: index) else { return .null }
        if column == "actions" { return .bytes(Array(bytes)) }
        return .text(try UTF8Text.decode(bytes, store: storeName, location: location, column: column))
    }

    /// The v0 row of `event` as an escaped `(…)` literal (only the table's columns, as ADK 1.21
    /// writes them); a row too large for a packet rejects the session.
    func v0EventRow(_ event: Event, of key: SessionKey, codec: DatabaseV0Codec, location: String) throws -> [UInt8] {
        var sql = MySQLStatementBuilder(connection, context: "INSERT INTO events")
        sql.append("(")
        for value in [event.id, key.appName, key.userId, key.sessionId] {
            try sql.appendLiteral(value)
            sql.append(", ")
        }
        for (index, value) in try codec.values(for: event, location: location).enumerated() {
            if index > 0 { sql.append(", ") }
            try sql.appendValue(value)
        }
        sql.append(")")
        try checkRowSize(sql.count, owner: key, location: location)
        return sql.bytes
    }

    /// Upserts the prepared v0 rows of every event.
    func upsertV0Events(_ sessions: [MySQLPreparedSession]) throws {
        guard let columns = v0?.valueColumns else { return }
        try executeChunked(
            sessions.flatMap { session in session.v0EventRows.map { (session.write.session.key, $0.id, $0.row) } }, context: "INSERT INTO events",
            prefix: "INSERT INTO events (id, app_name, user_id, session_id, \(columns.joined(separator: ", "))) VALUES ",
            separator: ", ",
            suffix: " ON DUPLICATE KEY UPDATE " + columns.map { "\($0) = VALUES(\($0))" }.joined(separator: ", "),
            owner: { key, id, _ in RowOwner.event(id, of: key) }
        ) { sql, row in
            sql.append(bytes: row.2)
        }
    }
}

extension MySQLStatementBuilder {
    /// Appends a v0 column value: `NULL`, a number, an escaped literal, or `X'…'` for bytes.
    mutating func appendValue(_ value: DatabaseV0Value) throws {
        switch value {
        case .null: append("NULL")
        case .integer(let number): append(String(number))
        case .text(let text): try appendLiteral(text)
        case .bytes(let bytes): appendHexLiteral(bytes)
        }
    }
}
