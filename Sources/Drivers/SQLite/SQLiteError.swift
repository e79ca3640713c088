internal import CSQLite
import DriverCore
import SessionModel

/// An error reported by SQLite, or by this driver while talking to SQLite.
///
/// `description` names the failing statement by its kind and table only (`INSERT events`);
/// bound values are never recorded, so no session payload can leak into a message.
///
/// Related SQLite documentation: <https://www.sqlite.org/rescode.html>
public struct SQLiteError: DriverError {
    /// The kind of failure, as the engine matches it.
    public var code: DriverErrorCode
    /// SQLite's extended result code (e.g. `1555` for `SQLITE_CONSTRAINT_PRIMARYKEY`); `0` when the
    /// error comes from the driver itself.
    public var extendedResultCode: Int32
    /// SQLite's message (`sqlite3_errmsg`) or the driver's.
    public var message: String
    /// The statement kind and table, e.g. `INSERT events`; `nil` outside a statement.
    public var statement: String?

    /// Builds an error; `statement` is reduced to its kind before it is stored.
    public init(code: DriverErrorCode, extendedResultCode: Int32 = 0, message: String, statement sql: String? = nil) {
        self.code = code
        self.extendedResultCode = extendedResultCode
        self.message = message
        self.statement = sql.map(Self.statementKind)
    }

    /// Builds an error from a SQLite result code, mapping it onto ``DriverErrorCode``.
    init(resultCode: Int32, message: String, statement sql: String?) {
        self.init(code: Self.driverCode(for: resultCode), extendedResultCode: resultCode, message: message, statement: sql)
    }

    public var description: String {
        var text = "sqlite: \(code): \(Printable.name(message, limit: Printable.messageLimit))"
        if extendedResultCode != 0 { text += " (code \(extendedResultCode))" }
        if let statement { text += " during \(statement)" }
        return text
    }

    public var debugDescription: String { description }

    /// Maps a (possibly extended) SQLite result code onto the shared codes.
    static func driverCode(for resultCode: Int32) -> DriverErrorCode {
        switch resultCode & 0xff {
        case SQLITE_CANTOPEN: .connectionFailed
        case SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_FORMAT: .corrupt
        case SQLITE_CONSTRAINT, SQLITE_MISMATCH: .constraint
        case SQLITE_BUSY, SQLITE_LOCKED: .timeout
        case SQLITE_IOERR, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM, SQLITE_NOLFS: .io
        case SQLITE_AUTH: .authentication
        default: .query
        }
    }

    /// The first keyword of `sql` and the table it acts on (`SELECT sessions`, `PRAGMA table_info`).
    static func statementKind(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "(" || $0 == "," })
        guard let verb = words.first?.uppercased() else { return "" }
        let markers: Set<String> = ["FROM", "INTO", "UPDATE", "TABLE", "INDEX", "EXISTS", "ON"]
        var target: Substring?
        for (index, word) in words.enumerated().dropLast() where markers.contains(word.uppercased()) {
            let next = words[index + 1]
            if !markers.contains(next.uppercased()), !["IF", "NOT"].contains(next.uppercased()) {
                target = next
                break
            }
        }
        if verb == "PRAGMA", words.count > 1 { target = words[1] }
        guard let target else { return verb }
        return verb + " " + target.filter { $0 != "\"" && $0 != ";" }
    }
}

extension SQLiteConnection {
    /// Throws ``SQLiteError`` unless `resultCode` is `SQLITE_OK`, `SQLITE_ROW` or `SQLITE_DONE`.
    ///
    /// The one place where this driver turns a SQLite status into an error.
    func check(_ resultCode: Int32, _ sql: String? = nil) throws(SQLiteError) {
        switch resultCode {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return
        default: throw SQLiteError(resultCode: resultCode, message: lastErrorMessage(resultCode), statement: sql)
        }
    }
}
