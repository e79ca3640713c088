import DriverCore
import SessionModel

// What a MySQL target accepts: every row must fit in one packet (`max_allowed_packet`, read from
// the server when the store opened) and ids in their VARCHAR columns. A session that does not fit
// is rejected with ``SessionRejectedError`` inside the batch's transaction, before its statement is
// sent, so the batch rolls back whole: a too-large session is never half-written, and the engine
// can stop or write the batch again without it (`--skip-bad`).
extension MySQLSessionStore {
    /// Column lengths of the v1 DDL, in characters.
    private static let keyLength = 128
    private static let invocationIdLength = 256
    /// Room for the statement text around one row (prefix, suffix, separators).
    static let statementOverhead = 2048

    /// The largest row (escaped values and separators) that fits in a packet with its statement.
    var rowLimit: Int { max(0, maxPacket - Self.statementOverhead) }

    /// Throws ``SessionRejectedError`` for the first session whose ids do not fit their columns
    /// (cheap checks done before anything is written; sizes are checked as rows are built).
    func checkWritable(_ sessions: [Session]) throws {
        for session in sessions {
            let key = session.key
            for (name, value) in [("app_name", key.appName), ("user_id", key.userId), ("id", key.sessionId)]
            where value.unicodeScalars.count > Self.keyLength {
                throw reject(key, RowName.session(key), "\(name) has \(value.unicodeScalars.count) characters; the column holds \(Self.keyLength)")
            }
            for event in session.events {
                let location = { RowName.event(event.id, of: key) }  // built only for an error
                if event.id.unicodeScalars.count > Self.keyLength {
                    throw reject(key, location(), "id has \(event.id.unicodeScalars.count) characters; the column holds \(Self.keyLength)")
                }
                if event.invocationId.unicodeScalars.count > Self.invocationIdLength {
                    throw reject(
                        key, location(),
                        "invocation_id has \(event.invocationId.unicodeScalars.count) characters; the column holds \(Self.invocationIdLength)")
                }
            }
        }
    }

    /// Throws ``SessionRejectedError`` for `owner` when a row of `size` bytes cannot be sent.
    func checkRowSize(_ size: Int, owner: SessionKey, location: @autoclosure () -> String) throws {
        guard size > rowLimit else { return }
        throw reject(
            owner, location(),
            "the row needs \(size) bytes in a statement; the server's max_allowed_packet is \(maxPacket) bytes")
    }

    private func reject(_ key: SessionKey, _ location: String, _ message: String) -> SessionRejectedError {
        SessionRejectedError(key: key, error: SessionDataError(store: Self.storeName, location: location, message: message))
    }
}
