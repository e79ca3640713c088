import DriverCore

extension RedisSessionStore {
    /// The run lock's key. One per Redis database.
    static let runLockKey = Array("sessmigrate:run-lock".utf8)
    /// A killed run's lock clears itself after this long without a refresh (every journal event refreshes it).
    static let runLockMilliseconds = 600_000

    /// `SET sessmigrate:run-lock OWNER NX PX 600000`; refused with the holder's line when taken.
    public func acquireRunLock(owner: String) throws {
        let key = Self.runLockKey
        let reply = try keyspace.execute([
            RedisCommand(
                [Array("SET".utf8), key, Array(owner.utf8), Array("NX".utf8), Array("PX".utf8), Array(String(Self.runLockMilliseconds).utf8)], key: key)
        ])
        if case .status = reply.first { return }
        if case .string(let value)? = reply.first, value == Array(owner.utf8) { return }
        let holder = try keyspace.execute([RedisCommand([Array("GET".utf8), key], key: key)])
        var text = "unknown holder"
        if case .string(let value)? = holder.first { text = String(decoding: value, as: UTF8.self) }
        if text == owner { return }
        throw RunLockError(
            store: "redis database \(config.database)", holder: RunLockHolder(text: text),
            clearing: "it expires by itself 10 minutes after its holder stops; to clear it now: redis-cli -n \(config.database) DEL sessmigrate:run-lock")
    }

    /// Extends the lock if `owner` still holds it.
    public func refreshRunLock(owner: String) throws {
        let key = Self.runLockKey
        let current = try keyspace.execute([RedisCommand([Array("GET".utf8), key], key: key)])
        guard case .string(let value)? = current.first, value == Array(owner.utf8) else { return }
        _ = try keyspace.execute([RedisCommand([Array("PEXPIRE".utf8), key, Array(String(Self.runLockMilliseconds).utf8)], key: key)])
    }

    /// Deletes the lock if `owner` holds it.
    public func releaseRunLock(owner: String) {
        let key = Self.runLockKey
        guard let current = try? keyspace.execute([RedisCommand([Array("GET".utf8), key], key: key)]),
            case .string(let value)? = current.first, value == Array(owner.utf8)
        else { return }
        _ = try? keyspace.execute([RedisCommand([Array("DEL".utf8), key], key: key)])
    }
}
