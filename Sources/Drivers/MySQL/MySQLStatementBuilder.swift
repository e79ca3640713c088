import SessionModel

/// Builds one SQL statement as UTF-8 bytes, with string values inlined as escaped literals
/// (`mysql_real_escape_string`), for multi-row `INSERT`s and `IN (…)` lists.
///
/// The finished statement is run with ``MySQLConnection/execute(bytes:context:)`` or
/// ``MySQLConnection/query(bytes:buffered:context:)``; `context` (the statement kind and table) is
/// what errors show instead of the SQL.
struct MySQLStatementBuilder {
    private let connection: MySQLConnection
    /// The statement so far.
    private(set) var bytes: [UInt8] = []
    /// What errors name instead of the SQL, e.g. `INSERT INTO events`.
    let context: String

    init(_ connection: MySQLConnection, context: String) {
        self.connection = connection
        self.context = context
    }

    /// Size of the statement so far, in bytes.
    var count: Int { bytes.count }

    /// Appends SQL text as is.
    mutating func append(_ sql: String) {
        bytes.append(contentsOf: sql.utf8)
    }

    /// Appends raw statement bytes (a part cut from another statement).
    mutating func append(bytes more: [UInt8]) {
        bytes.append(contentsOf: more)
    }

    /// The bytes from `offset` to the end (the statement is unchanged).
    func removeBytes(from offset: Int) -> [UInt8] {
        Array(bytes[min(offset, bytes.count)...])
    }

    /// Drops everything after the first `count` bytes.
    mutating func truncate(to count: Int) {
        bytes.removeSubrange(min(count, bytes.count)...)
    }

    /// Appends `'value'`, escaped.
    mutating func appendLiteral(_ value: String) throws {
        bytes.append(UInt8(ascii: "'"))
        try connection.appendEscaped(value, to: &bytes)
        bytes.append(UInt8(ascii: "'"))
    }

    /// Appends `X'…'`: binary data as a hexadecimal literal (never subject to charset conversion).
    mutating func appendHexLiteral(_ data: [UInt8]) {
        let digits = Array("0123456789ABCDEF".utf8)
        bytes.reserveCapacity(bytes.count + data.count * 2 + 3)
        bytes.append(contentsOf: [UInt8(ascii: "X"), UInt8(ascii: "'")])
        for byte in data {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        bytes.append(UInt8(ascii: "'"))
    }

    /// Appends `('a', 'b', …)`.
    mutating func appendTuple(_ values: [String]) throws {
        append("(")
        for (index, value) in values.enumerated() {
            if index > 0 { append(", ") }
            try appendLiteral(value)
        }
        append(")")
    }

    /// Appends `('app', 'user', 'id'), …` for session keys: the list of a `(…) IN (…)` predicate.
    mutating func appendKeyList<Keys: Sequence>(_ keys: Keys) throws where Keys.Element == SessionKey {
        for (index, key) in keys.enumerated() {
            if index > 0 { append(", ") }
            try appendTuple([key.appName, key.userId, key.sessionId])
        }
    }

    /// Appends `(a = 'x' AND b = 'y' …)` for columns and values of the same length.
    mutating func appendEquals(_ columns: [String], _ values: [String]) throws {
        append("(")
        for (index, (column, value)) in zip(columns, values).enumerated() {
            if index > 0 { append(" AND ") }
            append(column + " = ")
            try appendLiteral(value)
        }
        append(")")
    }

    /// Runs the statement as a non-query.
    @discardableResult
    func execute() throws -> UInt64 {
        try connection.execute(bytes: bytes, context: context)
    }

    /// Runs the statement as a query.
    func query(buffered: Bool) throws -> MySQLResult {
        try connection.query(bytes: bytes, buffered: buffered, context: context)
    }
}

@available(*, unavailable)
extension MySQLStatementBuilder: Sendable {}
