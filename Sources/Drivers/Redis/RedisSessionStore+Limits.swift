import DriverCore
import SessionModel

// What a Redis target accepts: no argument may be longer than `proto-max-bulk-len` (a longer one
// makes the server drop the connection mid-pipeline, after some transactions ran). Sessions are
// checked before anything of the batch is sent; one that does not fit is rejected with
// ``SessionRejectedError``, so it is never half-written and the engine can stop or skip it.
extension RedisSessionStore {
    /// Redis's default and hard maximum string length, used when `CONFIG GET` is not allowed
    /// (managed services often disable `CONFIG`).
    static let defaultMaxBulkLength = 512 << 20

    /// The server's `proto-max-bulk-len`, asked once per store.
    func maxBulkLength() throws -> Int {
        if let cachedMaxBulkLength { return cachedMaxBulkLength }
        let command = RedisCommand(["CONFIG", "GET", "proto-max-bulk-len"].map { Array($0.utf8) }, keyIndex: nil)
        var limit = Self.defaultMaxBulkLength
        if let reply = try? keyspace.execute([command]).first, let elements = reply.elements, elements.count == 2,
            let text = elements[1].bytes.flatMap({ String(validating: $0, as: UTF8.self) }), let value = Int(text), value > 0
        {
            limit = min(value, Self.defaultMaxBulkLength)
        }
        cachedMaxBulkLength = limit
        return limit
    }

    /// Throws ``SessionRejectedError`` for the first session one of whose commands (`groups`,
    /// one group per session) has an argument longer than the server accepts: its blob, or a
    /// state hash field or value. Checked on the encoded commands, so nothing is encoded twice.
    func checkWritable(_ sessions: [Session], groups: [[RedisCommand]]) throws {
        let limit = try maxBulkLength()
        for (session, group) in zip(sessions, groups) {
            for command in group {
                guard let longest = command.arguments.map(\.count).max(), longest > limit else { continue }
                let name = String(decoding: command.arguments.first ?? [], as: UTF8.self)
                let key = String(decoding: command.key ?? [], as: UTF8.self)
                let what = name == "SET" ? "the blob" : "a value written by \(name)"
                throw rejection(
                    session.key, key, "\(what) is \(longest) bytes; the server's proto-max-bulk-len is \(limit) bytes")
            }
        }
    }

    private func rejection(_ key: SessionKey, _ location: String, _ message: String) -> SessionRejectedError {
        SessionRejectedError(key: key, error: SessionDataError(store: "redis", location: location, message: message))
    }
}
