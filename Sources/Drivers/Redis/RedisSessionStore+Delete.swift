import DriverCore
import SessionModel

extension RedisSessionStore {
    /// Deletes each session as the layout's own `delete_session` does: the blob, and for the community
    /// layout the id's membership of `app::{app}:{user}`; app and user hashes stay. Community blobs are
    /// keyed by session id alone, so a blob is deleted only after it was read back and found to belong
    /// to the same app and user. Missing sessions are ignored.
    public func deleteSessions(_ keys: [SessionKey]) throws {
        guard !keys.isEmpty, case .known(let layout) = layoutState else { return }
        if layout.sharesKeys { return try deleteFromUserStrings(keys) }
        let existing = try fetchSessions(keys)
        var groups: [[RedisCommand]] = []
        for key in keys where existing[key] != nil {
            let sessionKey = Array(layout.sessionKey(key).utf8)
            var group = [RedisCommand([Array("DEL".utf8), sessionKey], key: sessionKey)]
            if let setName = layout.userSessionSet(key.appName, key.userId) {
                let set = Array(setName.utf8)
                group.append(RedisCommand([Array("SREM".utf8), set, Array(key.sessionId.utf8)], key: set))
            }
            groups.append(group)
        }
        guard !groups.isEmpty else { return }
        for (group, replies) in zip(groups, try keyspace.executeTransactions(groups)) {
            for (command, reply) in zip(group, replies) {
                if case .error(let message) = reply {
                    throw RedisError.server(message, context: RedisConnection.commandName(command.arguments), secret: nil)
                }
            }
        }
    }
}
