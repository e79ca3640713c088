import DriverCore
import SessionModel

/// The session a row of a write statement belongs to, and the row's name in messages (built only
/// for a message: a batch makes one owner per row).
struct RowOwner {
    var key: SessionKey
    private var row: Row

    private enum Row {
        case session
        case event(id: String)
        case other(table: String, key: [String])
    }

    /// The session's `sessions` row.
    static func session(_ key: SessionKey) -> RowOwner { RowOwner(key: key, row: .session) }
    /// The `events` row `id` of the session.
    static func event(_ id: String, of key: SessionKey) -> RowOwner { RowOwner(key: key, row: .event(id: id)) }
    /// The row of `table` with primary key `rowKey`, written for the session.
    static func row(_ table: String, _ rowKey: [String], for key: SessionKey) -> RowOwner {
        RowOwner(key: key, row: .other(table: table, key: rowKey))
    }

    /// The row's name (``RowName``).
    var location: String {
        switch row {
        case .session: RowName.session(key)
        case .event(let id): RowName.event(id, of: key)
        case .other(let table, let rowKey): RowName.row(table, rowKey)
        }
    }
}

// A batch is written in multi-row statements (and bulk `INSERT`s), so an error the server raises
// about one row ("Incorrect datetime value … at row 164", "Incorrect string value … at row 2") would
// name no session. Every write statement runs through `attributingRowErrors`, which maps the row back
// to its session and throws ``SessionRejectedError`` instead: the batch's transaction rolls back, the
// copy stops naming the session, and with `--skip-bad` the engine writes the batch again without it.
extension MySQLSessionStore {
    /// Runs a statement whose rows belong to `owners`, in order: `run(nil)` runs all of them,
    /// `run(i)` row `i` alone. An error about one row becomes a ``SessionRejectedError`` naming that
    /// row's session: the row the message names (`at row N`); the only row of a one-row statement;
    /// else the row that fails when each is run alone (inside the same transaction, which the
    /// rejection then rolls back). Errors that are not about a row's data are rethrown unchanged.
    /// `explain` sees the row's index and error first and may throw another error instead (a
    /// duplicate key that is not the row's fault, MySQLSessionStore+Insert.swift).
    func attributingRowErrors(
        _ owners: [RowOwner], explain: (Int, MySQLError) throws -> Void = { _, _ in }, run: (Int?) throws -> Void
    ) throws {
        func reject(_ index: Int, _ error: MySQLError) throws -> Never {
            try explain(index, error)
            throw rejection(owners[index], error)
        }
        do {
            try run(nil)
        } catch let error as MySQLError where error.isRowDataError {
            if let row = error.rowNumber, owners.indices.contains(row - 1) { try reject(row - 1, error) }
            if owners.count == 1 { try reject(0, error) }
            for index in owners.indices {
                do {
                    try run(index)
                } catch let alone as MySQLError where alone.isRowDataError {
                    try reject(index, alone)
                }
            }
            throw error
        }
    }

    private func rejection(_ owner: RowOwner, _ error: MySQLError) -> SessionRejectedError {
        SessionRejectedError(
            key: owner.key,
            error: SessionDataError(
                store: Self.storeName, location: owner.location,
                message: "the server refused the row: \(error.message) (errno \(error.errorNumber), SQLSTATE \(error.sqlState))"))
    }
}

extension MySQLError {
    /// Server errors about the values of one row: a value its column cannot hold (1264, 1265,
    /// 1292, 1366, 1367, 1406, 1411, 1690, 3140), a NULL, a duplicate or dangling key (1048, 1062,
    /// 1452), a failed CHECK (4025, 3819), or any error whose message says `at row N`.
    var isRowDataError: Bool {
        guard !isTransient, code != .connectionFailed, code != .authentication else { return false }
        return [1048, 1062, 1264, 1265, 1292, 1366, 1367, 1406, 1411, 1452, 1690, 3140, 3819, 4025].contains(errorNumber)
            || rowNumber != nil
    }

    /// The `N` of a message ending in `at row N` (1-based, in the statement's rows or bulk array).
    var rowNumber: Int? {
        guard let marker = message.ranges(of: " at row ").last else { return nil }
        let digits = message[marker.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return Int(digits)
    }
}
