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
///
/// A key whose blob is gone when it is loaded (expired or deleted since it was listed: a community
/// `app::{app}:{user}` member whose blob expired, a key `SCAN` returned a moment earlier) is passed
/// over, never an error, and counted in ``missing`` when given.
struct RedisSessionLoader {
    let keyspace: any RedisKeyspace
    let layout: RedisLayout
    /// Counts the keys passed over because their blob was gone (`nil`: not counted).
    var missing: RedisMissingKeyCounter? = nil
    /// Also give each entry the SHA-1 of its blob's bytes as read (its ``DriverCore/StoredVersion``).
    var computesVersions = false
    /// Carry events as their text in this style (``DriverCore/SessionQuery/eventStyle``).
    var eventStyle: JSONStyle? = nil

    /// The sessions stored under `storageKeys`, in that order; keys that vanished meanwhile
    /// (nil `GET`, `PTTL` -2) are skipped. Bad data throws.
    func load(_ storageKeys: [[UInt8]]) throws -> [Session] {
        try loadEntries(storageKeys, skipBad: false).compactMap(\.session)
    }

    /// One entry per key of `storageKeys` that still exists, in order, each with its position in
    /// `storageKeys`: the session, or with `skipBad` why it is bad. A bad app or user state hash
    /// makes every session of that app or user bad. Without `skipBad`, bad data throws.
    func loadEntries(_ storageKeys: [[UInt8]], skipBad: Bool) throws -> [RedisLoadedEntry] {
        guard !storageKeys.isEmpty else { return [] }
        var commands: [RedisCommand] = []
        commands.reserveCapacity(storageKeys.count * 2)
        for key in storageKeys {
            commands.append(RedisCommand([Array("GET".utf8), key], key: key))
            commands.append(RedisCommand([Array("PTTL".utf8), key], key: key))
        }
        let replies = try keyspace.execute(commands)
        let foundTypes = try Self.typesOfWrongTypeReplies(
            storageKeys, replies: stride(from: 0, to: replies.count, by: 2).map { replies[$0] }, keyspace: keyspace)
        let nowMilliseconds = RedisClock.nowMilliseconds()
        var entries: [RedisLoadedEntry] = []
        var blobs: [(entry: Int, blob: SessionBlob, expiry: SessionExpiry)] = []
        blobs.reserveCapacity(storageKeys.count)
        for (index, key) in storageKeys.enumerated() {
            let name = String(decoding: key, as: UTF8.self)
            do {
                guard let bytes = try Self.blobBytes(replies[2 * index], storageKey: name, foundType: foundTypes[index], layout: layout),
                    let ttl = replies[2 * index + 1].integer, ttl != -2
                else {
                    missing?.count += 1
                    continue
                }
                guard String(validating: key, as: UTF8.self) != nil else {
                    throw SessionDataError(store: "redis", location: Printable.name(name), message: "the key name is not valid UTF-8")
                }
                let expiry: SessionExpiry = ttl < 0 ? .never : .at(Double(nowMilliseconds + ttl) / 1000)
                let version = computesVersions ? RedisSHA1.hex(of: bytes) : nil
                if layout.sharesKeys {
                    for member in try SessionBlobCodec.userStringMembers(bytes, storageKey: name) {
                        do {
                            let blob = try SessionBlobCodec.decodeUserStringMember(member, storageKey: name, layout: layout)
                            blobs.append((entries.count, blob, expiry))
                            entries.append(RedisLoadedEntry(index: index, session: nil, skipped: nil, version: version))
                        } catch let error as SessionDataError where skipBad {
                            let key = try? SessionBlobCodec.key(of: member.object, storageKey: name)
                            entries.append(RedisLoadedEntry(index: index, session: nil, skipped: SkippedSession(error, key: key)))
                        }
                    }
                    continue
                }
                let blob = try SessionBlobCodec.decode(bytes, storageKey: name, layout: layout, eventStyle: eventStyle)
                try checkLayout(storageKey: name, key: blob.key)
                blobs.append((entries.count, blob, expiry))
                entries.append(RedisLoadedEntry(index: index, session: nil, skipped: nil, version: version))
            } catch let error as SessionDataError where skipBad {
                let key = layout.sharesKeys ? nil : try? SessionBlobCodec.decodeKey(replies[2 * index].bytes ?? [], storageKey: name)
                entries.append(RedisLoadedEntry(index: index, session: nil, skipped: SkippedSession(error, key: key)))
            }
        }
        let (hashes, badHashes) = try loadStateHashes(for: blobs.map(\.blob.key), skipBad: skipBad)
        for (entry, blob, expiry) in blobs {
            let hashNames = [RedisKeys.appHash(blob.key.appName), RedisKeys.userHash(blob.key.appName, blob.key.userId)]
            if let error = hashNames.lazy.compactMap({ badHashes[ExactString($0)] }).first {
                entries[entry].skipped = SkippedSession(error, key: blob.key)
            } else {
                entries[entry].session = makeSession(blob, expiry: expiry, hashes: hashes)
            }
        }
        return entries
    }

    /// The bytes of a `GET` reply; `nil` when the key vanished. A key of another type is named
    /// with the type found (`foundType`, from `TYPE`) and the one `layout` keeps there.
    static func blobBytes(_ reply: RedisReply, storageKey: String, foundType: String? = nil, layout: RedisLayout? = nil) throws -> [UInt8]? {
        switch reply {
        case .string(let bytes): return bytes
        case .null: return nil
        case .error(let message):
            if let foundType {
                let expected = layout == .adkRedis014 ? "a string (a google-adk-redis 0.1.4 user's sessions)" : "a string (a session blob)"
                throw SessionDataError(
                    store: "redis", location: Printable.name(storageKey),
                    message: "wrong key type: expected \(expected), found a \(foundType)\(RedisKeyTypes.hint(found: foundType, name: storageKey))")
            }
            throw SessionDataError(
                store: "redis", location: Printable.name(storageKey), message: "cannot be read as a string (\(message.prefix { $0 != " " }))")
        default:
            throw SessionDataError(store: "redis", location: Printable.name(storageKey), message: "unexpected GET reply")
        }
    }

    /// `TYPE` of each key whose reply is a `WRONGTYPE` error (one pipeline; none when there is none).
    static func typesOfWrongTypeReplies(_ keys: [[UInt8]], replies: [RedisReply], keyspace: any RedisKeyspace) throws -> [String?] {
        let wrong = replies.indices.filter { if case .error(let message) = replies[$0] { message.hasPrefix("WRONGTYPE") } else { false } }
        var types = [String?](repeating: nil, count: keys.count)
        guard !wrong.isEmpty else { return types }
        let found = try keyspace.execute(wrong.map { RedisCommand([Array("TYPE".utf8), keys[$0]], key: keys[$0]) })
        for (index, reply) in zip(wrong, found) { types[index] = reply.text ?? "key of unknown type" }
        return types
    }

    /// Throws unless the blob's key is where this layout puts it.
    func checkLayout(storageKey: String, key: SessionKey) throws {
        if layout.holds(storageKey: storageKey, key: key) { return }
        let found = RedisLayout.matching(storageKey: storageKey, key: key)
        if let found {
            throw SessionDataError(
                store: "redis", location: Printable.name(storageKey),
                message: "key has the \(found.rawValue) layout but the store is read as \(layout.rawValue) (mixed layouts)")
        }
        throw SessionDataError(
            store: "redis", location: Printable.name(storageKey),
            message: "key matches neither layout for the blob's app_name/user_id/id (\(key))")
    }

    /// App and user state hashes keyed by hash name, and (with `skipBad`) the errors of those
    /// that cannot be read.
    private func loadStateHashes(
        for keys: [SessionKey], skipBad: Bool
    ) throws -> (hashes: [ExactString: JSONObject], bad: [ExactString: SessionDataError]) {
        var names: [String] = []
        var seen = Set<ExactString>()
        for key in keys {
            for name in [RedisKeys.appHash(key.appName), RedisKeys.userHash(key.appName, key.userId)] where seen.insert(ExactString(name)).inserted {
                names.append(name)
            }
        }
        guard !names.isEmpty else { return ([:], [:]) }
        let replies = try keyspace.execute(names.map { RedisCommand([Array("HGETALL".utf8), Array($0.utf8)], keyIndex: 1) })
        var hashes: [ExactString: JSONObject] = [:]
        var bad: [ExactString: SessionDataError] = [:]
        for (name, reply) in zip(names, replies) {
            do {
                hashes[ExactString(name)] = try SessionBlobCodec.decodeStateHash(reply, hashKey: name, layout: layout)
            } catch let error as SessionDataError where skipBad {
                bad[ExactString(name)] = error
            }
        }
        return (hashes, bad)
    }

    /// Community blobs hold the merged state: `app:k`/`user:k` copies of keys the hashes also
    /// hold are redundant (the hash wins in ADK's merge) and are dropped; prefixed keys the hashes
    /// lack stay in `state`, as ADK's `get_session` would return them.
    private func makeSession(_ blob: SessionBlob, expiry: SessionExpiry, hashes: [ExactString: JSONObject]) -> Session {
        let appState = hashes[ExactString(RedisKeys.appHash(blob.key.appName))] ?? [:]
        let userState = hashes[ExactString(RedisKeys.userHash(blob.key.appName, blob.key.userId))] ?? [:]
        var state = blob.state
        if layout.isCommunity {
            state = JSONObject(
                state.members.filter { member in
                    if member.key.hasPrefixExactly(StateScopes.appPrefix) {
                        return appState[member.key.droppingUTF8Prefix(StateScopes.appPrefix.utf8.count)] == nil
                    }
                    if member.key.hasPrefixExactly(StateScopes.userPrefix) {
                        return userState[member.key.droppingUTF8Prefix(StateScopes.userPrefix.utf8.count)] == nil
                    }
                    return true
                })
        }
        return Session(
            key: blob.key, state: state, appState: appState, userState: userState, events: blob.events,
            createTime: nil, lastUpdateTime: blob.lastUpdateTime, expiry: expiry)
    }
}

/// One existing key of a loaded batch: its session, or why it was skipped.
struct RedisLoadedEntry {
    /// Position of the key in the batch.
    var index: Int
    var session: Session?
    var skipped: SkippedSession?
    /// The SHA-1 of the blob as read, when the loader ``RedisSessionLoader/computesVersions``.
    var version: String? = nil
}

/// How many listed keys a store's reads passed over because their blob was gone.
final class RedisMissingKeyCounter {
    var count = 0
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
