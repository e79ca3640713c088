internal import CSQLite

/// `SQLITE_TRANSIENT`: SQLite copies bound buffers before the bind call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The storage class of a column value in the current row.
public enum SQLiteColumnType: Sendable, Hashable {
    /// `SQLITE_INTEGER`, `SQLITE_FLOAT`, `SQLITE_TEXT`, `SQLITE_BLOB`, `SQLITE_NULL`.
    case integer, float, text, blob, null
}

/// A value as SQLite stores it, for binding and comparing whole rows.
public enum SQLiteValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// An IEEE double (`REAL`).
    case float(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
}

/// One compiled statement: the single owner of a `sqlite3_stmt*`, finalized in `deinit`.
///
/// Parameters and columns are numbered as SQLite numbers them: parameters from 1, columns
/// from 0. Column getters are valid after ``step()`` returned `true`.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/stmt.html>
public final class SQLiteStatement {
    private let handle: OpaquePointer
    private let connection: SQLiteConnection
    /// The SQL text (with `?` placeholders; values are never part of it).
    public let sql: String

    init(connection: SQLiteConnection, sql: String) throws(SQLiteError) {
        let db = try connection.openHandle()
        var raw: OpaquePointer?
        let status = sqlite3_prepare_v2(db, sql, -1, &raw, nil)
        do {
            try connection.check(status, sql)
        } catch {
            sqlite3_finalize(raw)
            throw error
        }
        guard let raw else { throw SQLiteError(code: .query, message: "empty statement", statement: sql) }
        self.handle = raw
        self.connection = connection
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    // MARK: - Binding

    /// Binds UTF-8 text to parameter `index` (an empty string binds `''`, not NULL).
    public func bind(_ value: String, at index: Int32) throws(SQLiteError) {
        var value = value
        let status = value.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                return sqlite3_bind_text64(handle, index, "", 0, transient, UInt8(SQLITE_UTF8))
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(handle, index, $0, UInt64(bytes.count), transient, UInt8(SQLITE_UTF8))
            }
        }
        try connection.check(status, sql)
    }

    /// Binds a 64-bit integer.
    public func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        try connection.check(sqlite3_bind_int64(handle, index, value), sql)
    }

    /// Binds a double.
    public func bind(_ value: Double, at index: Int32) throws(SQLiteError) {
        try connection.check(sqlite3_bind_double(handle, index, value), sql)
    }

    /// Binds bytes (an empty array binds a zero-length blob, not NULL).
    public func bind(_ value: [UInt8], at index: Int32) throws(SQLiteError) {
        let status = value.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob64(handle, index, base, UInt64(bytes.count), transient)
        }
        try connection.check(status, sql)
    }

    /// Binds NULL.
    public func bindNull(at index: Int32) throws(SQLiteError) {
        try connection.check(sqlite3_bind_null(handle, index), sql)
    }

    /// Binds any ``SQLiteValue``.
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        switch value {
        case .null: try bindNull(at: index)
        case .integer(let value): try bind(value, at: index)
        case .float(let value): try bind(value, at: index)
        case .text(let value): try bind(value, at: index)
        case .blob(let value): try bind(value, at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, ….
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    // MARK: - Stepping

    /// Advances to the next row: `true` when a row is available, `false` when the statement is done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        // sqlite3_step's own status is the extended code (SQLITE_OPEN_EXRESCODE).
        let status = sqlite3_step(handle)
        try connection.check(status, sql)
        return status == SQLITE_ROW
    }

    /// Rewinds the statement and clears its bindings so it can run again.
    public func reset() throws(SQLiteError) {
        // sqlite3_reset repeats the error of a failed step; that error was already thrown by step().
        _ = sqlite3_reset(handle)
        try connection.check(sqlite3_clear_bindings(handle), sql)
    }

    /// Rewinds, binds `values` and steps until done, for statements that return no rows.
    public func run(_ values: [SQLiteValue]) throws(SQLiteError) {
        try reset()
        try bind(values)
        while try step() {}
    }

    // MARK: - Columns

    /// Number of columns in a result row.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// The storage class of column `index` in the current row.
    public func type(at index: Int32) -> SQLiteColumnType {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .float
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    /// True when column `index` is NULL.
    public func isNull(at index: Int32) -> Bool { type(at: index) == .null }

    /// Column `index` as text (NULL reads as `""`; invalid UTF-8 is repaired with U+FFFD).
    public func text(at index: Int32) -> String {
        withTextBytes(at: index) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of column `index`, valid only inside `body`.
    public func withTextBytes<R, E: Error>(at index: Int32, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        // sqlite3_column_text must come before sqlite3_column_bytes (SQLite's documented order).
        let pointer = sqlite3_column_text(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        return try body(UnsafeRawBufferPointer(start: pointer.map(UnsafeRawPointer.init), count: pointer == nil ? 0 : count))
    }

    /// Column `index` as a 64-bit integer.
    public func int64(at index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Column `index` as a double.
    public func double(at index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Column `index` as bytes.
    public func blob(at index: Int32) -> [UInt8] {
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Column `index` with its storage class.
    public func value(at index: Int32) -> SQLiteValue {
        switch type(at: index) {
        case .integer: .integer(int64(at: index))
        case .float: .float(double(at: index))
        case .text: .text(text(at: index))
        case .blob: .blob(blob(at: index))
        case .null: .null
        }
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}
