import DriverCore
import SessionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a scoped Redis read finds its keys.
enum RedisKeySource {
    /// These blob keys, read directly (`GET`), in byte order: given session ids, or the members
    /// of community index sets.
    case keys([[UInt8]])
    /// `SCAN MATCH` each pattern over every node in turn (never `KEYS`).
    case scan(patterns: [String])
}

/// How a Redis store reads the sessions of a ``SessionScope``, compiled for its layout:
///
/// | scope | community (`session:{id}`) | adk-redis (`session:{app}:{user}:{id}`) |
/// |---|---|---|
/// | session ids | `GET session:{id}` | with apps and users: `GET` each key; else a scan filtered by the key's id |
/// | apps and users | `SMEMBERS app::{app}:{user}`, then `GET` | `SCAN MATCH session:{app}:{user}:*` |
/// | apps only | scan (the app is only in the blob) | `SCAN MATCH session:{app}:*` |
/// | shard by id | the id in the key, before any `GET` | the id in the key when the key splits unambiguously |
/// | shard by slots (this layout's key form) | the key's hash slot, before any `GET` (on a cluster, only the shard's slots are read: `RedisSlotScan`) | the same |
/// | updated since/before | `GETRANGE` of each blob's last 64 bytes (`"last_update_time": …}` ends both layouts' blobs), before any full `GET` | the same |
///
/// Each step only narrows: a key it cannot judge (a name with `:` in it, a tail that does not
/// parse) is loaded, and every loaded session is checked against the scope exactly.
struct RedisScopePlan {
    let source: RedisKeySource
    let filter: RedisKeyFilter

    /// More patterns than this scan the keyspace once with a client-side key check instead (each
    /// pattern is a walk over the whole keyspace on the server).
    static let maxPatterns = 16
    /// More (app, user) pairs than this are not expanded into keys, sets or patterns.
    static let maxPairs = 10_000

    init(scope: SessionScope, layout: RedisLayout, keyspace: any RedisKeyspace) throws {
        filter = RedisKeyFilter(scope: scope, layout: layout)
        let pairs = scope.apps.count * scope.users.count
        switch layout {
        case .community, .communitySet1:
            if !scope.sessionIds.isEmpty {
                source = .keys(Self.sorted(scope.sessionIds.filter(scope.mayMatch(sessionId:)).map { "session:\($0)" }))
            } else if pairs > 0, pairs <= Self.maxPairs {
                source = .keys(try Self.setMembers(scope: scope, layout: layout, keyspace: keyspace))
            } else {
                source = .scan(patterns: [RedisKeys.sessionPattern])
            }
        case .adkRedis014:
            // One string per user: the pairs' keys directly, else a scan of `app:*` (state hashes
            // are told apart by TYPE before any GET, see RedisKeyFilter).
            if pairs > 0, pairs <= Self.maxPairs {
                var keys: [String] = []
                for app in scope.apps {
                    for user in scope.users { keys.append(layout.sessionKey(SessionKey(appName: app, userId: user, sessionId: ""))) }
                }
                source = .keys(Self.sorted(keys))
            } else if !scope.apps.isEmpty, scope.apps.count <= Self.maxPatterns {
                source = .scan(patterns: scope.apps.sorted().map { "app:\(Self.globEscaped($0)):*" })
            } else {
                source = .scan(patterns: [layout.dataPattern])
            }
        case .adkRedis:
            if !scope.sessionIds.isEmpty, pairs > 0, pairs * scope.sessionIds.count <= Self.maxPairs {
                var keys: [String] = []
                for app in scope.apps {
                    for user in scope.users {
                        for id in scope.sessionIds where scope.mayMatch(sessionId: id) {
                            keys.append(RedisLayout.adkRedis.sessionKey(SessionKey(appName: app, userId: user, sessionId: id)))
                        }
                    }
                }
                source = .keys(Self.sorted(keys))
            } else if pairs > 0, pairs <= Self.maxPatterns {
                source = .scan(
                    patterns: scope.apps.sorted().flatMap { app in
                        scope.users.sorted().map { "session:\(Self.globEscaped(app)):\(Self.globEscaped($0)):*" }
                    })
            } else if !scope.apps.isEmpty, scope.apps.count <= Self.maxPatterns {
                source = .scan(patterns: scope.apps.sorted().map { "session:\(Self.globEscaped($0)):*" })
            } else {
                source = .scan(patterns: [RedisKeys.sessionPattern])
            }
        }
    }

    /// The community index sets' members for every (app, user) pair of the scope, as blob keys.
    /// ADK refreshes a set's expiry whenever a session of its user is written, so the set outlives
    /// its members' blobs; a member whose blob is gone is passed over when loaded.
    static func setMembers(scope: SessionScope, layout: RedisLayout, keyspace: any RedisKeyspace) throws -> [[UInt8]] {
        var setNames: [String] = []
        for app in scope.apps.sorted() {
            for user in scope.users.sorted() { setNames.append(layout.userSessionSet(app, user) ?? "") }
        }
        var keys = Set<[UInt8]>()
        for start in stride(from: 0, to: setNames.count, by: 500) {
            let chunk = setNames[start..<min(start + 500, setNames.count)]
            let replies = try keyspace.execute(chunk.map { RedisCommand([Array("SMEMBERS".utf8), Array($0.utf8)], keyIndex: 1) })
            for (name, reply) in zip(chunk, replies) {
                guard case .array(let members) = reply else {
                    var found = if case .error(let message) = reply { String(message.prefix { $0 != " " }) } else { "not an array" }
                    if found == "WRONGTYPE", let type = try keyspace.execute([RedisCommand([Array("TYPE".utf8), Array(name.utf8)], keyIndex: 1)]).first?.text {
                        throw SessionDataError(
                            store: "redis", location: Printable.name(name),
                            message:
                                "wrong key type: expected a set (the \(layout.rawValue) index of a user's session ids), found a \(type)\(RedisKeyTypes.hint(found: type, name: name))"
                        )
                    }
                    found = Printable.name(found)
                    throw SessionDataError(store: "redis", location: name, message: "cannot be read as the set of a user's session ids (\(found))")
                }
                for member in members {
                    guard let id = member.bytes else { continue }
                    let text = String(decoding: id, as: UTF8.self)
                    if scope.mayMatch(sessionId: text) { keys.insert(Array("session:".utf8) + id) }
                }
            }
        }
        return keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func sorted(_ keys: [String]) -> [[UInt8]] {
        Set(keys.map { Array($0.utf8) }).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// `text` with Redis glob characters (`*?[]\`) escaped, so it matches only itself.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

/// The checks a scoped read applies to keys before loading them, and to sessions after.
struct RedisKeyFilter {
    let scope: SessionScope
    let layout: RedisLayout

    /// The bytes a blob's tail is read with to find its `last_update_time`.
    static let tailLength = 64

    /// False when the key alone shows the session is out of scope.
    func mayMatch(key: [UInt8]) -> Bool {
        // A `slots` shard of this layout's key form: the data key itself gives the slot (no GET).
        if let shard = scope.shard, shard.count > 1, shard.function == .slots(layout.shardKeyForm), key.starts(with: layout.dataPrefix),
            !shard.contains(slot: RedisHashSlot.slot(of: key))
        {
            return false
        }
        if layout == .adkRedis014 {
            // app:{app}:{user}: the pair when the key splits unambiguously.
            guard key.starts(with: Array("app:".utf8)) else { return false }
            let parts = key.dropFirst(4).split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard parts.count == 2 else { return true }
            let app = String(decoding: parts[0], as: UTF8.self)
            let user = String(decoding: parts[1], as: UTF8.self)
            return (scope.apps.isEmpty || scope.apps.containsExactly(app)) && (scope.users.isEmpty || scope.users.containsExactly(user))
        }
        let prefix = Array("session:".utf8)
        guard key.starts(with: prefix) else { return true }
        let rest = key.dropFirst(prefix.count)
        switch layout {
        case .community, .communitySet1:
            // No id to decode when the scope names no ids and no shard (a converge pass's time bounds).
            guard !scope.sessionIds.isEmpty || scope.shard != nil else { return true }
            return scope.mayMatch(sessionId: String(decoding: rest, as: UTF8.self))
        case .adkRedis014:
            return true
        case .adkRedis:
            let parts = rest.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard parts.count == 3 else { return true }  // a ':' in a name: the blob decides
            let key = SessionKey(
                appName: String(decoding: parts[0], as: UTF8.self), userId: String(decoding: parts[1], as: UTF8.self),
                sessionId: String(decoding: parts[2], as: UTF8.self))
            return scope.matches(key)
        }
    }

    /// The positions in `keys` worth loading: those the key check keeps and, when the scope has time
    /// bounds, whose blob tail shows a `last_update_time` in bounds or cannot be read as one (one
    /// pipelined `GETRANGE` per key, a few dozen bytes each).
    func select(_ keys: [[UInt8]], keyspace: any RedisKeyspace) throws -> [Int] {
        var candidates = keys.indices.filter { mayMatch(key: keys[$0]) }
        if layout == .adkRedis014 { candidates = try Self.userStrings(among: candidates, keys: keys, keyspace: keyspace) }
        guard !scope.isKeyOnly, !candidates.isEmpty, !layout.sharesKeys else { return candidates }
        let (name, from, to) = (Array("GETRANGE".utf8), Array("-\(Self.tailLength)".utf8), Array("-1".utf8))
        let replies = try keyspace.execute(candidates.map { RedisCommand([name, keys[$0], from, to], key: keys[$0]) })
        return zip(candidates, replies).compactMap { index, reply in
            guard let tail = reply.bytes, let time = Self.lastUpdateTime(inTail: tail) else { return index }
            return scope.matches(lastUpdateTime: time) ? index : nil
        }
    }

    /// The keys of `candidates` that are strings (an `adk-redis-014` user's sessions): state hashes
    /// (`app:{app}`) and vanished keys are passed over; any other type is named as bad data.
    static func userStrings(among candidates: [Int], keys: [[UInt8]], keyspace: any RedisKeyspace) throws -> [Int] {
        guard !candidates.isEmpty else { return [] }
        let types = try keyspace.execute(candidates.map { RedisCommand([Array("TYPE".utf8), keys[$0]], key: keys[$0]) })
        return try zip(candidates, types).compactMap { index, type in
            switch type.text {
            case "string": return index
            case "hash", "none": return nil
            default:
                let name = String(decoding: keys[index], as: UTF8.self)
                let found = type.text ?? type.kind
                throw SessionDataError(
                    store: "redis", location: Printable.name(name),
                    message:
                        "wrong key type: expected a string (a google-adk-redis 0.1.4 user's sessions) or a hash (app state), found a \(found)\(RedisKeyTypes.hint(found: found, name: name))"
                )
            }
        }
    }

    private static let lastUpdateTimeField = Array("\"last_update_time\":".utf8)

    /// The number after the last `"last_update_time":` in `tail` when the blob ends with it (`…}`).
    static func lastUpdateTime(inTail tail: [UInt8]) -> Double? {
        let field = lastUpdateTimeField
        guard tail.last == UInt8(ascii: "}"), tail.count > field.count else { return nil }
        var start: Int?
        var index = tail.count - field.count
        while index >= 0 {
            if tail[index..<index + field.count].elementsEqual(field) {
                start = index + field.count
                break
            }
            index -= 1
        }
        guard var position = start else { return nil }
        while position < tail.count, tail[position] == UInt8(ascii: " ") { position += 1 }
        let number = tail[position..<(tail.count - 1)]
        guard !number.isEmpty, number.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "+-.eE".utf8.contains($0) }) else {
            return nil
        }
        // strtod on a copy on the stack: what `Double(String)` runs, without a String for every key.
        let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: number.count + 1) { text -> Double? in
            for (offset, byte) in number.enumerated() { text[offset] = CChar(bitPattern: byte) }
            text[number.count] = 0
            guard let start = text.baseAddress else { return nil }
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            return end == start + number.count ? value : nil
        }
        return value.flatMap { $0.isFinite ? $0 : nil }
    }
}
