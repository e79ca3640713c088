import DriverCore
import SessionModel

extension RedisSessionStore {
    /// Writes each session in one `MULTI`/`EXEC`, all sessions in one pipeline.
    ///
    /// Per session: `SET` the blob, then `PEXPIREAT` (``SessionModel/SessionExpiry/at(_:)``, or
    /// now + ``RedisStoreConfig/defaultTTLSeconds`` when the session has no expiry) or `PERSIST`
    /// (``SessionModel/SessionExpiry/never``); `HSET` the app and user state into their hashes
    /// (a merge, never `HDEL`). Community also `SADD`s the id to `app::{app}:{user}` and keeps
    /// that set alive at least as long as every member written (see `setExpiryCommand`).
    /// Blobs and hash values are deterministic, so writing twice leaves identical bytes; only
    /// default TTLs move forward.
    public func writeSessions(_ sessions: [Session]) throws {
        guard case .known(let layout) = layoutState else {
            throw RedisError(
                code: .unsupported,
                message:
                    "the Redis database holds no sessions, so its layout cannot be detected; add ?layout=community (or community-set1, adk-redis, adk-redis-014) to the address",
                context: "write")
        }
        guard !sessions.isEmpty else { return }
        if layout.sharesKeys {
            _ = try writeUserStrings(sessions, expected: nil)
            return
        }
        let now = RedisClock.nowMilliseconds()
        let expiries = sessions.map { expiryMilliseconds($0.expiry, now: now) }
        let hasSets = layout.userSessionSet("", "") != nil
        let setPlans = hasSets ? try planUserSessionSets(sessions, expiries: expiries, now: now, layout: layout) : [:]
        var groups: [[RedisCommand]] = []
        groups.reserveCapacity(sessions.count)
        for (session, expiry) in zip(sessions, expiries) {
            var group = sessionCommands(session, expiry: expiry, layout: layout)
            if let setName = layout.userSessionSet(session.key.appName, session.key.userId) {
                let set = Array(setName.utf8)
                group.append(RedisCommand([Array("SADD".utf8), set, Array(session.key.sessionId.utf8)], key: set))
                if let command = setPlans[set] { group.append(command) }
            }
            groups.append(group)
        }
        try checkWritable(sessions, groups: groups)
        let results = try keyspace.executeTransactions(groups)
        for (group, replies) in zip(groups, results) {
            for (command, reply) in zip(group, replies) {
                if case .error(let message) = reply {
                    throw RedisError.server(message, context: RedisConnection.commandName(command.arguments), secret: nil)
                }
            }
        }
    }

    /// Absolute expiry in milliseconds; `nil` means persistent. A non-finite time falls back to
    /// the default TTL; times are clamped to 1 … 9·10¹⁵ ms (a past time deletes the key, as
    /// the session has expired).
    func expiryMilliseconds(_ expiry: SessionExpiry?, now: Int64) -> Int64? {
        let fallback = now + Int64(config.defaultTTLSeconds) * 1000
        switch expiry {
        case .never:
            return nil
        case .at(let seconds):
            let milliseconds = (seconds * 1000).rounded()
            return milliseconds.isFinite ? Int64(min(max(milliseconds, 1), 9e15)) : fallback
        case nil:
            return fallback
        }
    }

    func sessionCommands(_ session: Session, expiry: Int64?, layout: RedisLayout) -> [RedisCommand] {
        let key = Array(layout.sessionKey(session.key).utf8)
        var commands = [RedisCommand([Array("SET".utf8), key, SessionBlobCodec.encode(session, layout: layout)], key: key)]
        if let expiry {
            commands.append(RedisCommand([Array("PEXPIREAT".utf8), key, Array(String(expiry).utf8)], key: key))
        } else {
            commands.append(RedisCommand([Array("PERSIST".utf8), key], key: key))
        }
        for (hash, state) in [
            (RedisKeys.appHash(session.key.appName), session.appState),
            (RedisKeys.userHash(session.key.appName, session.key.userId), session.userState),
        ] where !state.isEmpty {
            let hashKey = Array(hash.utf8)
            var arguments = [Array("HSET".utf8), hashKey]
            for (field, value) in state {
                arguments.append(Array(field.utf8))
                arguments.append(SessionBlobCodec.encodeStateValue(value, layout: layout))
            }
            commands.append(RedisCommand(arguments, key: hashKey))
        }
        return commands
    }

    /// The expiry command for each community `app::{app}:{user}` set touched by this batch (if
    /// any): the set must never expire before a member written now. One pipelined `PTTL` of the
    /// sets first; see ``setExpiryCommand(set:ttl:latest:supportsGT:now:)``.
    func planUserSessionSets(_ sessions: [Session], expiries: [Int64?], now: Int64, layout: RedisLayout) throws -> [[UInt8]: RedisCommand] {
        var latest: [[UInt8]: Int64?] = [:]
        var order: [[UInt8]] = []
        for (session, expiry) in zip(sessions, expiries) {
            let set = Array((layout.userSessionSet(session.key.appName, session.key.userId) ?? "").utf8)
            if let previous = latest[set] {
                latest[set] = previous.flatMap { old in expiry.map { max(old, $0) } }  // nil = persistent wins
            } else {
                latest[set] = expiry
                order.append(set)
            }
        }
        let ttls = try keyspace.execute(order.map { RedisCommand([Array("PTTL".utf8), $0], key: $0) })
        let supportsGT = try fetchCachedServerVersion() >= RedisServerVersion(major: 7, minor: 0, patch: 0)
        var plans: [[UInt8]: RedisCommand] = [:]
        for (set, reply) in zip(order, ttls) {
            guard let ttl = reply.integer else {
                throw RedisError(code: .query, message: "unexpected PTTL reply \(reply.kind)", context: "PTTL")
            }
            let target = latest[set] ?? nil
            plans[set] = Self.setExpiryCommand(set: set, ttl: ttl, latest: target, supportsGT: supportsGT, now: now)
        }
        return plans
    }

    /// With `latest` the latest member expiry of the batch (`nil`: a member is persistent):
    /// a persistent member → `PERSIST`; a set that does not exist yet (`ttl` -2; `SADD` creates
    /// it without TTL) → `PEXPIREAT latest`; a persistent set (-1) → nothing; a set with a TTL →
    /// `PEXPIREAT latest GT` on Redis ≥ 7.0, else a plain `PEXPIREAT latest` only if the set
    /// would expire earlier.
    static func setExpiryCommand(set: [UInt8], ttl: Int64, latest: Int64?, supportsGT: Bool, now: Int64) -> RedisCommand? {
        guard let latest else { return RedisCommand([Array("PERSIST".utf8), set], key: set) }
        let expireAt = [Array("PEXPIREAT".utf8), set, Array(String(latest).utf8)]
        if ttl == -2 { return RedisCommand(expireAt, key: set) }
        if ttl < 0 { return nil }
        if supportsGT { return RedisCommand(expireAt + [Array("GT".utf8)], key: set) }
        return now + ttl < latest ? RedisCommand(expireAt, key: set) : nil
    }

    func fetchCachedServerVersion() throws -> RedisServerVersion {
        if let serverVersion { return serverVersion }
        let version = try keyspace.fetchServerVersion()
        serverVersion = version
        return version
    }
}
