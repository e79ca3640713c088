internal import CMariaDB

/// The rows of one query, read one at a time (a single-pass cursor over a `MYSQL_RES`).
///
/// Values arrive in the text protocol: every column is text or `NULL` (`DATETIME(6)` as
/// `YYYY-MM-DD HH:MM:SS.ffffff`, numbers as decimal text). The result is freed when it has
/// been read to the end, on ``close()``, or in `deinit`, whichever comes first.
public final class MySQLResult {
    /// Keeps the `MYSQL` handle alive while the result is attached to it.
    private let connection: MySQLConnection
    private var result: UnsafeMutablePointer<MYSQL_RES>?
    private var abandoned = false
    private let context: String
    /// True for `mysql_use_result` results, which keep the connection busy until freed.
    let isStreaming: Bool
    /// The column names (aliases where the query gives them), in order.
    public let columnNames: [String]

    init(connection: MySQLConnection, result: UnsafeMutablePointer<MYSQL_RES>?, streaming: Bool, context: String) {
        self.connection = connection
        self.result = result
        self.isStreaming = streaming
        self.context = context
        var names: [String] = []
        if let result, let fields = mysql_fetch_fields(result) {
            let count = Int(mysql_num_fields(result))
            names.reserveCapacity(count)
            for index in 0..<count {
                names.append(fields[index].name.map { String(cString: $0) } ?? "")
            }
        }
        self.columnNames = names
    }

    deinit {
        if let result { mysql_free_result(result) }
    }

    /// Frees the result (draining unread rows of a streaming result). Further `next` calls
    /// throw. Safe to call twice.
    public func close() {
        guard let result else { return }
        mysql_free_result(result)
        self.result = nil
        abandoned = true
    }

    /// The next row as strings (`nil` for SQL `NULL`; invalid UTF-8 is repaired with U+FFFD),
    /// or `nil` after the last row.
    public func next() throws -> [String?]? {
        try nextRaw { row in
            (0..<row.count).map { row.string(at: $0) }
        }
    }

    /// Calls `body` with the next row's raw bytes and returns its value, or returns `nil` after
    /// the last row. The row's buffers are only valid inside `body`.
    public func nextRaw<R>(_ body: (MySQLRawRow) throws -> R) throws -> R? {
        guard let result else {
            if abandoned {
                throw MySQLError(
                    code: .query, message: "the result was closed or replaced by a newer statement", context: context)
            }
            return nil
        }
        guard let row = mysql_fetch_row(result), let lengths = mysql_fetch_lengths(result) else {
            let error = connection.currentError(context: context)
            mysql_free_result(result)
            self.result = nil
            if let error { throw error }
            return nil
        }
        return try body(MySQLRawRow(row: row, lengths: lengths, count: columnNames.count))
    }

    /// Reads every remaining row (use only for results known to be small).
    public func collect() throws -> [[String?]] {
        var rows: [[String?]] = []
        while let row = try next() { rows.append(row) }
        return rows
    }
}

@available(*, unavailable)
extension MySQLResult: Sendable {}

/// One row of a ``MySQLResult`` as libmariadb holds it; valid only inside `nextRaw`'s body.
public struct MySQLRawRow {
    private let row: MYSQL_ROW
    private let lengths: UnsafeMutablePointer<UInt>
    /// Number of columns.
    public let count: Int

    init(row: MYSQL_ROW, lengths: UnsafeMutablePointer<UInt>, count: Int) {
        self.row = row
        self.lengths = lengths
        self.count = count
    }

    /// The column's bytes, or `nil` for SQL `NULL`.
    public func bytes(at index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < count, let pointer = row[index] else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: Int(lengths[index]))
    }

    /// The column as a string, or `nil` for SQL `NULL`.
    public func string(at index: Int) -> String? {
        bytes(at: index).map { String(decoding: $0, as: UTF8.self) }
    }

    /// True when the column is SQL `NULL`.
    public func isNull(at index: Int) -> Bool {
        guard index >= 0, index < count else { return true }
        return row[index] == nil
    }
}

@available(*, unavailable)
extension MySQLRawRow: Sendable {}
