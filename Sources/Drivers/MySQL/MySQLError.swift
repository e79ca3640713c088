import DriverCore
import SessionModel

/// An error reported by libmariadb or the MariaDB/MySQL server, or by this driver's use of them.
///
/// `description` names the statement kind and table (e.g. `INSERT INTO events`), never the
/// literal values of a statement, and never a password.
public struct MySQLError: DriverError {
    /// What kind of failure this is, for callers that do not care about MySQL.
    public var code: DriverErrorCode
    /// `mysql_errno`: a server error (1000–1999, 3000+) or a client error (2000–2999); 0 when
    /// the error comes from this driver.
    public var errorNumber: UInt32
    /// `mysql_sqlstate`, e.g. `28000` (`HY000` when the library has nothing better).
    public var sqlState: String
    /// The library's message, with SQL fragments redacted.
    public var message: String
    /// The statement kind and table, e.g. `SELECT … FROM sessions`, or `connect`.
    public var context: String?

    /// Creates an error; `message` must already be free of secrets and payloads.
    public init(
        code: DriverErrorCode, errorNumber: UInt32 = 0, sqlState: String = "HY000",
        message: String, context: String? = nil
    ) {
        self.code = code
        self.errorNumber = errorNumber
        self.sqlState = sqlState
        self.message = message
        self.context = context
    }

    /// True when running the same transaction again may succeed (deadlock, lock wait timeout,
    /// XA rollback after a deadlock).
    /// Lost or refused connections (`2006` gone away, `2013` lost during a query, `1927` killed,
    /// `1053` shutting down), lock wait timeouts (`1205`), deadlocks (`1213`, `1614`): the
    /// transaction was rolled back and may be run again.
    public var isTransient: Bool {
        code == .connectionFailed || code == .timeout || isServerNotReady || errorNumber == 1927
    }

    /// Too many connections (`1040`), shutting down (`1053`), a lock wait timeout (`1205`), a
    /// deadlock (`1213`, `1614`): the server is there and the work may be run again after a pause.
    public var isServerNotReady: Bool { code == .serverNotReady || [1040, 1053, 1205, 1213, 1614].contains(errorNumber) }

    public var description: String {
        var text = "mysql: \(code): \(Printable.name(message, limit: Printable.messageLimit))"
        if errorNumber != 0 { text += " (errno \(errorNumber), SQLSTATE \(sqlState))" }
        if let context { text += " during \(context)" }
        return text
    }

    public var debugDescription: String { description }

    /// Maps a MySQL/MariaDB error number onto the common codes.
    static func code(forErrorNumber number: UInt32) -> DriverErrorCode {
        switch number {
        case 1044, 1045, 1698, 1227, 1142, 1143, 1370, 1251, 2049, 2059, 2061:
            return .authentication
        case 1049:
            return .notFound
        case 1146:
            return .notFound
        case 1022, 1062, 1169, 1216, 1217, 1451, 1452, 1557, 1586, 1761, 1762, 4025:
            return .constraint
        case 1205, 1969, 3024:
            return .timeout
        case 1040, 1081, 1129, 1130, 1152, 1158, 1159, 1160, 1161, 2001...2013, 2026, 2047, 2055:
            return .connectionFailed
        default:
            return .query
        }
    }

    /// Removes SQL fragments and row values quoted by the server (`… near 'VALUES (…)' at line 1`,
    /// `Incorrect string value: '\xF0…'`) so no payload
    /// reaches a log, and replaces `secret` wherever it appears. (libmariadb never puts the password
    /// in a message; the replacement is a second line of defence, skipped for secrets shorter than
    /// 4 characters, which would only match by coincidence and garble the message.)
    static func redact(_ message: String, secret: String?) -> String {
        var text = message
        if let secret, secret.count >= 4 {
            text = text.replacing(secret, with: "***")
        }
        if let near = text.firstRange(of: " near '") {
            let tail = text[near.upperBound...]
            let rest = tail.firstRange(of: "' at line ").map { String(tail[$0.lowerBound...].dropFirst()) } ?? ""
            text = String(text[..<near.upperBound]) + "…'" + rest
        }
        // "Incorrect string value: '\xF0\x9F…' for column …" quotes bytes of a row's value.
        if let value = text.firstRange(of: "string value: '"), let end = text[value.upperBound...].firstRange(of: "' for column") {
            text = String(text[..<value.upperBound]) + "…" + String(text[end.lowerBound...])
        }
        return text
    }

    /// The statement kind and table of `sql`, without any literal: the text before the first
    /// quote, parenthesis or value clause, at most 80 characters.
    static func context(ofSQL sql: String) -> String {
        var words: [String] = []
        for word in sql.prefix(400).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            let upper = word.uppercased()
            if ["VALUES", "WHERE", "SET", "ON", "LIMIT", "ORDER"].contains(upper) { break }
            if word.contains(where: { $0 == "'" || $0 == "(" || $0 == "\"" }) { break }
            words.append(word.count > 40 ? word.prefix(40) + "…" : String(word))
        }
        let text = words.joined(separator: " ")
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
