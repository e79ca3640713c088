import DriverCore
import SessionModel

// google-adk-redis ≤ 0.1.4 keeps all sessions of a user in one JSON string, `app:{app}:{user}`
// (docs/DESIGN.md "Redis layouts"). Every write is a read-merge-compare-and-set of that whole string:
// GET it, put the sessions in (members of other ids kept byte for byte), and SET it with the fenced-write
// script only if it is still the string read (SHA-1), else read and merge again. Another session of the
// same user is never dropped, whoever wrote it meanwhile.
extension RedisSessionStore {
    /// Read-merge-CAS rounds per call before giving up (a transient error: the bot keeps writing).
    static let userStringRounds = 16

    /// Writes `sessions` into their users' strings and returns the refused keys. `expected`: `nil`
    /// writes unconditionally (merge); otherwise, per session, `.some(nil)` = only if the user's
    /// string holds no session of that id, `.some(version)` = only if the string is still the one
    /// whose SHA-1 is `version` (every session of a user shares the version of the user's string).
    /// The app and user hashes of the sessions written are merged after the strings.
    func writeUserStrings(_ sessions: [Session], expected: [StoredVersion??]?) throws -> Set<SessionKey> {
        let now = RedisClock.nowMilliseconds()
        let layout = RedisLayout.adkRedis014
        let groups = sessions.map { sessionCommands($0, expiry: nil, layout: layout) }
        try checkWritable(sessions, groups: groups)
        var byKey: [[UInt8]: [Int]] = [:]
        var pending: [[UInt8]] = []
        for (index, session) in sessions.enumerated() {
            let key = Array(layout.sessionKey(session.key).utf8)
            if byKey[key] == nil { pending.append(key) }
            byKey[key, default: []].append(index)
        }
        let limit = try maxBulkLength()
        var refused: Set<SessionKey> = []
        var written: [Int] = []
        for _ in 0..<Self.userStringRounds where !pending.isEmpty {
            let reads = try readUserStrings(pending)
            var scripts: [[[UInt8]]] = []
            var planned: [(key: [UInt8], sessions: [Int])] = []
            for (key, read) in zip(pending, reads) {
                let name = String(decoding: key, as: UTF8.self)
                let ids = Set(try read.bytes.map { try SessionBlobCodec.userStringMembers($0, storageKey: name).map(\.id) } ?? [])
                let sha = read.bytes.map { RedisSHA1.hex(of: $0) }
                var accepted: [Int] = []
                for index in byKey[key] ?? [] {
                    let isRefused: Bool
                    switch expected?[index] {
                    case .some(.none): isRefused = ids.contains(sessions[index].key.sessionId)
                    case .some(.some(let version)): isRefused = version.token != sha
                    case .none: isRefused = false
                    }
                    if isRefused { refused.insert(sessions[index].key) } else { accepted.append(index) }
                }
                guard !accepted.isEmpty else { continue }
                let merged = try SessionBlobCodec.mergedUserString(read.bytes, storageKey: name, sessions: accepted.map { sessions[$0] })
                if merged.count > limit, let first = accepted.first {
                    throw SessionRejectedError(
                        key: sessions[first].key,
                        error: SessionDataError(
                            store: "redis", location: name,
                            message: "the user's string would be \(merged.count) bytes; the server's proto-max-bulk-len is \(limit) bytes"))
                }
                let expiry = userStringExpiry(accepted.map { sessions[$0] }, read: read, now: now)
                scripts.append([key, Array((sha ?? "").utf8), merged, Array((expiry.map(String.init) ?? "").utf8)])
                planned.append((key, accepted))
            }
            let wrote = scripts.isEmpty ? [] : try runFenceScripts(scripts)
            pending = []
            for (plan, ok) in zip(planned, wrote) {
                if ok { written += plan.sessions } else { pending.append(plan.key) }
            }
        }
        if let key = pending.first {
            throw RedisError(
                code: .serverNotReady,
                message: "\(Printable.name(String(decoding: key, as: UTF8.self))) changed under each of \(Self.userStringRounds) read-merge-write attempts",
                context: "write")
        }
        written.sort()
        try writeAfterBlobs(written.map { (sessions[$0], nil, groups[$0]) }, layout: layout, now: now)
        return refused
    }

    /// One user string as read: its bytes (`nil`: absent) and its `PTTL`.
    struct UserStringRead {
        var bytes: [UInt8]?
        var ttl: Int64
    }

    /// `GET` and `PTTL` of each key, pipelined; a key of another type is named with its type.
    func readUserStrings(_ keys: [[UInt8]]) throws -> [UserStringRead] {
        var commands: [RedisCommand] = []
        for key in keys {
            commands.append(RedisCommand([Array("GET".utf8), key], key: key))
            commands.append(RedisCommand([Array("PTTL".utf8), key], key: key))
        }
        let replies = try keyspace.execute(commands)
        let gets = stride(from: 0, to: replies.count, by: 2).map { replies[$0] }
        let types = try RedisSessionLoader.typesOfWrongTypeReplies(keys, replies: gets, keyspace: keyspace)
        return try keys.indices.map { index in
            let name = String(decoding: keys[index], as: UTF8.self)
            let bytes = try RedisSessionLoader.blobBytes(gets[index], storageKey: name, foundType: types[index], layout: .adkRedis014)
            return UserStringRead(bytes: bytes, ttl: replies[2 * index + 1].integer ?? -2)
        }
    }

    /// The string's new absolute expiry (`nil`: persistent): never earlier than a session written
    /// now nor than the string had (google-adk-redis 0.1.4 sets `EXPIRE expire` on every write).
    func userStringExpiry(_ sessions: [Session], read: UserStringRead, now: Int64) -> Int64? {
        let expiries = sessions.map { expiryMilliseconds($0.expiry, now: now) }
        if expiries.contains(where: { $0 == nil }) { return nil }
        if read.bytes != nil, read.ttl == -1 { return nil }
        let latest = expiries.compactMap { $0 }.max() ?? now
        return read.bytes != nil && read.ttl >= 0 ? max(latest, now + read.ttl) : latest
    }

    /// Deletes sessions from their users' strings (the string stays, as 0.1.4's `delete_session`
    /// leaves it, possibly `{}`), with the same read-merge-CAS rounds.
    func deleteFromUserStrings(_ keys: [SessionKey]) throws {
        var byKey: [[UInt8]: Set<String>] = [:]
        for key in keys { byKey[Array(RedisLayout.adkRedis014.sessionKey(key).utf8), default: []].insert(key.sessionId) }
        var pending = byKey.keys.sorted { $0.lexicographicallyPrecedes($1) }
        for _ in 0..<Self.userStringRounds where !pending.isEmpty {
            let reads = try readUserStrings(pending)
            var scripts: [[[UInt8]]] = []
            var planned: [[UInt8]] = []
            for (key, read) in zip(pending, reads) {
                guard let bytes = read.bytes else { continue }
                let name = String(decoding: key, as: UTF8.self)
                let removing = byKey[key] ?? []
                guard try SessionBlobCodec.userStringMembers(bytes, storageKey: name).contains(where: { removing.containsExactly($0.id) }) else { continue }
                let merged = try SessionBlobCodec.mergedUserString(bytes, storageKey: name, sessions: [], removing: removing)
                let expiry = read.ttl >= 0 ? RedisClock.nowMilliseconds() + max(read.ttl, 1) : nil
                scripts.append([key, Array(RedisSHA1.hex(of: bytes).utf8), merged, Array((expiry.map(String.init) ?? "").utf8)])
                planned.append(key)
            }
            let wrote = scripts.isEmpty ? [] : try runFenceScripts(scripts)
            pending = zip(planned, wrote).compactMap { $1 ? nil : $0 }
        }
        if let key = pending.first {
            throw RedisError(
                code: .serverNotReady,
                message: "\(Printable.name(String(decoding: key, as: UTF8.self))) changed under each of \(Self.userStringRounds) read-merge-write attempts",
                context: "delete")
        }
    }
}
