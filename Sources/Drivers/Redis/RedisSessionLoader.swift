import DriverCore
import SessionModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads whole sessions for a batch of blob keys in two pipelined round trips:
/// `GET` + `PTTL` of every blob, then `HGETALL` of the distinct app and user hashes of the batch
/// (cached for this batch only, so memory stays bounded by the batch).
struct RedisSessionLoader {
    let keyspace: any RedisKeyspace
    let layout: RedisLayout

    /// The sessions stored under `storageKeys`, in that order; keys that vanished meanwhile
    /// (nil `GET`, `PTTL` -2) are skipped.
    func load(_ storageKeys: [[UInt8]]) throws -> [Session] {
        guard !storageKeys.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(storageKeys.count * 2)
        for key in storageKeys {
            commands.append(RedisCommand([Array("GET".utf8), key], key: key))
            commands.append(RedisCommand([Array("PTTL".utf8), key], key: key))
        }
        let replies = try keyspace.execute(commands)
        let nowMilliseconds = RedisClock.nowMilliseconds()
        var blobs: [(blob: SessionBlob, expiry: SessionExpiry)] = []
        blobs.reserveCapacity(storageKeys.count)
        for (index, key) in storageKeys.enumerated() {
            let name = String(decoding: key, as: UTF8.self)
            guard let bytes = try Self.blobBytes(replies[2 * index], storageKey: name),
                let ttl = replies[2 * index + 1].integer, ttl != -2
            else { continue }
            let blob = try SessionBlobCodec.decode(bytes, storageKey: name, layout: layout)
            try checkLayout(storageKey: name, key: blob.key)
            let expiry: SessionExpiry = ttl < 0 ? .never : .at(Double(nowMilliseconds + ttl) / 1000)
            blobs.append((blob, expiry))
        }
        let hashes = try loadStateHashes(for: blobs.map(\.blob.key))
        return blobs.map { makeSession($0.blob, expiry: $0.expiry, hashes: hashes) }
    }

    /// The bytes of a `GET` reply; `nil` when the key vanished.
    static func blobBytes(_ reply: RedisReply, storageKey: String) throws -> [UInt8]? {
        switch reply {
        case .string(let bytes): return bytes
        case .null: return nil
        case .error(let message):
            throw SessionDataError(store: "redis", location: storageKey, message: "cannot be read as a string (\(message.prefix { $0 != " " }))")
        default:
            throw SessionDataError(store: "redis", location: storageKey, message: "unexpected GET reply")
        }
    }

    /// Throws unless the blob's key is where this layout puts it.
    func checkLayout(storageKey: String, key: SessionKey) throws {
        let found = RedisLayout.matching(storageKey: storageKey, key: key)
        if found == layout { return }
        if let found {
            throw SessionDataError(
                store: "redis", location: storageKey,
                message: "key has the \(found.rawValue) layout but the store is read as \(layout.rawValue) (mixed layouts)")
        }
        throw SessionDataError(
            store: "redis", location: storageKey,
            message: "key matches neither layout for the blob's app_name/user_id/id (\(key))")
    }

    /// App and user state hashes keyed by hash name.
    private func loadStateHashes(for keys: [SessionKey]) throws -> [String: JSONObject] {
        var names: [String] = []
        var seen = Set<String>()
        for key in keys {
            for name in [RedisKeys.appHash(key.appName), RedisKeys.userHash(key.appName, key.userId)] where seen.insert(name).inserted {
                names.append(name)
            }
        }
        let replies = try keyspace.execute(names.map { RedisCommand([Array("HGETALL".utf8), Array($0.utf8)], keyIndex: 1) })
        var hashes: [String: JSONObject] = [:]
        for (name, reply) in zip(names, replies) {
            hashes[name] = try SessionBlobCodec.decodeStateHash(reply, hashKey: name, layout: layout)
        }
        return hashes
    }

    /// Community blobs hold the merged state: `app:k`/`user:k` copies of keys the hashes also
    /// hold are redundant (the hash wins in ADK's merge) and are dropped; prefixed keys the hashes
    /// lack stay in `state`, as ADK's `get_session` would return them.
    private func makeSession(_ blob: SessionBlob, expiry: SessionExpiry, hashes: [String: JSONObject]) -> Session {
        let appState = hashes[RedisKeys.appHash(blob.key.appName)] ?? [:]
        let userState = hashes[RedisKeys.userHash(blob.key.appName, blob.key.userId)] ?? [:]
        var state = blob.state
        if layout == .community {
            state = JSONObject(state.members.filter { member in
                if member.key.hasPrefix(StateScopes.appPrefix) {
                    return appState[String(member.key.dropFirst(StateScopes.appPrefix.count))] == nil
                }
                if member.key.hasPrefix(StateScopes.userPrefix) {
                    return userState[String(member.key.dropFirst(StateScopes.userPrefix.count))] == nil
                }
                return true
            })
        }
        return Session(
            key: blob.key, state: state, appState: appState, userState: userState, events: blob.events,
            createTime: nil, lastUpdateTime: blob.lastUpdateTime, expiry: expiry)
    }
}

/// Wall-clock time for expiries.
enum RedisClock {
    /// Milliseconds since the Unix epoch.
    static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
