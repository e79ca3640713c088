import DriverCore
import SessionModel

// Fenced writes (docs/DESIGN.md "Fencing"): a session's version is the SHA-1 of its blob's bytes as
// read (the blob is the whole session). Each blob is written by a compare-and-set script that
// touches only the blob key, so it runs on the blob's own node on a cluster; the app and user
// hashes and the community index set are written after it, outside the script, for the sessions
// it wrote (each of those commands is idempotent).
extension RedisSessionStore {
    /// The compare-and-set: `KEYS[1]` the blob key, `ARGV[1]` the expected SHA-1 (empty: the key
    /// must not exist), `ARGV[2]` the new blob, `ARGV[3]` the absolute expiry in milliseconds
    /// (empty: persistent). Returns 1 when it wrote, 0 when the stored blob is not the expected one.
    static let fenceScript = """
        local current = redis.call('GET', KEYS[1])
        if ARGV[1] == '' then
          if current then return 0 end
        elseif not current or redis.sha1hex(current) ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[2])
        if ARGV[3] == '' then
          redis.call('PERSIST', KEYS[1])
        else
          redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        end
        return 1
        """

    /// The script's SHA-1, as `SCRIPT LOAD` returns it and `EVALSHA` takes it.
    static let fenceScriptSHA = RedisSHA1.hex(of: Array(fenceScript.utf8))

    /// How many keys this store's scans listed (a community `app::{app}:{user}` member, a `SCAN`
    /// result, a given session id) whose blob was gone when it was loaded: expired or deleted
    /// meanwhile. Such keys are passed over, never an error.
    public var listedSessionsMissing: Int { missingKeys.count }

    /// The sessions among `keys` that exist, each with the SHA-1 of its blob as read.
    public func fetchVersionedSessions(_ keys: [SessionKey]) throws -> [SessionKey: VersionedSession] {
        guard case .known(let layout) = layoutState else { return [:] }
        let loader = RedisSessionLoader(keyspace: keyspace, layout: layout, computesVersions: true)
        let wanted = Set(keys)
        var result: [SessionKey: VersionedSession] = [:]
        var seen = Set<ExactString>()
        let storageKeys = keys.map { layout.sessionKey($0) }.filter { seen.insert(ExactString($0)).inserted }
        for start in stride(from: 0, to: storageKeys.count, by: 500) {
            let chunk = storageKeys[start..<min(start + 500, storageKeys.count)].map { Array($0.utf8) }
            for entry in try loader.loadEntries(chunk, skipBad: false) {
                guard let session = entry.session, let version = entry.version, wanted.contains(session.key) else { continue }
                result[session.key] = VersionedSession(session: session, version: StoredVersion(version))
            }
        }
        return result
    }

    /// Writes each session whose blob is still the one its version was read from (or, for `nil`,
    /// whose key does not exist), with one compare-and-set script per session, pipelined; then,
    /// for the sessions written, the app and user hashes (`HSET`, a merge) and for community the
    /// index set (`SADD` and its expiry, as ``writeSessions(_:)``). Returns the refused keys.
    ///
    /// A community key holding another app's or user's session with the same id counts as
    /// existing: it is refused, never overwritten. A session too large for the server is rejected
    /// (``SessionRejectedError``) before anything of the batch is sent. Of several writes of one
    /// key, the last is the one made.
    public func writeSessions(fenced writes: [FencedWrite]) throws -> Set<SessionKey> {
        guard case .known(let layout) = layoutState else {
            throw RedisError(
                code: .unsupported,
                message:
                    "the Redis database holds no sessions, so its layout cannot be detected; add ?layout=community (or community-set1, adk-redis, adk-redis-014) to the address",
                context: "write")
        }
        let writes = Self.lastWrites(writes)
        guard !writes.isEmpty else { return [] }
        if layout.sharesKeys { return try writeUserStrings(writes.map(\.session), expected: writes.map { .some($0.expected) }) }
        let sessions = writes.map(\.session)
        let now = RedisClock.nowMilliseconds()
        let expiries = sessions.map { expiryMilliseconds($0.expiry, now: now) }
        let groups = zip(sessions, expiries).map { sessionCommands($0, expiry: $1, layout: layout) }
        try checkWritable(sessions, groups: groups)
        // The blob was encoded once for the size check (the group's SET): the script sends those bytes.
        let scripts = writes.indices.map { index in
            Self.fenceArguments(
                key: Array(layout.sessionKey(writes[index].session.key).utf8), write: writes[index], blob: groups[index][0].arguments[2],
                expiry: expiries[index])
        }
        let wrote = try runFenceScripts(scripts)
        var written: [(session: Session, expiry: Int64?, group: [RedisCommand])] = []
        var refused: Set<SessionKey> = []
        for (index, write) in writes.enumerated() {
            if wrote[index] {
                written.append((write.session, expiries[index], groups[index]))
            } else {
                refused.insert(write.session.key)
            }
        }
        try writeAfterBlobs(written, layout: layout, now: now)
        if layout == .community { try rejectIdCollisions(writes.filter { $0.expected == nil && refused.contains($0.session.key) }) }
        return refused
    }

    /// A community key `session:{id}` that holds another app's or user's session with the same id
    /// refuses every write of this one, however often it is planned again: google-adk-community keys
    /// sessions by id alone, so the two cannot both be stored. That session is rejected
    /// (``SessionRejectedError``: skipped with `skip_bad`, else the copy stops naming both), after
    /// everything else of the batch is written.
    private func rejectIdCollisions(_ writes: [FencedWrite]) throws {
        guard !writes.isEmpty else { return }
        let keys = writes.map { Array(RedisLayout.community.sessionKey($0.session.key).utf8) }
        let replies = try keyspace.execute(keys.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
        for (write, reply) in zip(writes, replies) {
            guard let bytes = reply.bytes, let stored = try? SessionBlobCodec.decodeKey(bytes, storageKey: RedisLayout.community.sessionKey(write.session.key)),
                stored != write.session.key
            else { continue }
            throw SessionRejectedError(
                key: write.session.key,
                error: SessionDataError(
                    store: "redis", location: RedisLayout.community.sessionKey(write.session.key),
                    message: "holds the session \(stored) with the same id: google-adk-community keys sessions by id alone, so both cannot be stored"))
        }
    }

    /// Each key's last write, in the order of those last writes.
    private static func lastWrites(_ writes: [FencedWrite]) -> [FencedWrite] {
        var lastIndex: [SessionKey: Int] = [:]
        for (index, write) in writes.enumerated() { lastIndex[write.session.key] = index }
        return writes.enumerated().compactMap { lastIndex[$0.element.session.key] == $0.offset ? $0.element : nil }
    }

    /// `KEYS[1]` and the `ARGV` of ``fenceScript`` for one write.
    private static func fenceArguments(key: [UInt8], write: FencedWrite, blob: [UInt8], expiry: Int64?) -> [[UInt8]] {
        [
            key, Array((write.expected?.token ?? "").utf8), blob,
            Array((expiry.map(String.init) ?? "").utf8),
        ]
    }

    /// Runs the script once per argument list (`[key] + ARGV`), pipelined with `EVALSHA`; the
    /// scripts the server does not know (`NOSCRIPT`: a restart, `SCRIPT FLUSH`, a failover) run
    /// again with `EVAL`. Returns whether each one wrote.
    func runFenceScripts(_ scripts: [[[UInt8]]]) throws -> [Bool] {
        try loadFenceScript()
        let sha = Array(Self.fenceScriptSHA.utf8)
        var replies = try keyspace.execute(scripts.map { RedisCommand([Array("EVALSHA".utf8), sha, Array("1".utf8)] + $0, key: $0[0]) })
        let unknown = replies.indices.filter { replies[$0].isNoScript }
        if !unknown.isEmpty {
            let script = Array(Self.fenceScript.utf8)
            let again = try keyspace.execute(unknown.map { RedisCommand([Array("EVAL".utf8), script, Array("1".utf8)] + scripts[$0], key: scripts[$0][0]) })
            for (index, reply) in zip(unknown, again) { replies[index] = reply }
        }
        return try replies.map { reply in
            switch reply {
            case .integer(1): return true
            case .integer(0): return false
            case .error(let message): throw RedisError.server(message, context: "EVALSHA (fenced write)", secret: nil)
            default: throw RedisError(code: .query, message: "unexpected fenced-write script reply \(reply.kind)", context: "EVALSHA")
            }
        }
    }

    /// `SCRIPT LOAD`s the fenced-write script once per store (a server that forgets it later is
    /// handled by the `EVAL` fallback).
    private func loadFenceScript() throws {
        guard !fenceScriptLoaded else { return }
        // On a cluster, every primary (a script is loaded per node).
        for reply in try keyspace.executeOnEveryNode([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(Self.fenceScript.utf8)]) {
            if case .error(let message) = reply { throw RedisError.server(message, context: "SCRIPT LOAD", secret: nil) }
            guard reply.text == Self.fenceScriptSHA else {
                throw RedisError(code: .query, message: "SCRIPT LOAD returned another SHA-1 than the script's", context: "SCRIPT LOAD")
            }
        }
        fenceScriptLoaded = true
    }

    /// For the sessions whose blob was written: `HSET` of the app and user state (a merge), and
    /// for community `SADD` to `app::{app}:{user}` with the set's expiry kept at least as long as
    /// its members'. One pipeline; every command is idempotent.
    func writeAfterBlobs(_ written: [(session: Session, expiry: Int64?, group: [RedisCommand])], layout: RedisLayout, now: Int64) throws {
        guard !written.isEmpty else { return }
        var commands = written.flatMap { $0.group.filter { $0.arguments.first == Array("HSET".utf8) } }
        if layout.userSessionSet("", "") != nil {
            let plans = try planUserSessionSets(written.map(\.session), expiries: written.map(\.expiry), now: now, layout: layout)
            var planned = Set<[UInt8]>()
            for (session, _, _) in written {
                let set = Array((layout.userSessionSet(session.key.appName, session.key.userId) ?? "").utf8)
                commands.append(RedisCommand([Array("SADD".utf8), set, Array(session.key.sessionId.utf8)], key: set))
                if planned.insert(set).inserted, let plan = plans[set] { commands.append(plan) }
            }
        }
        for (command, reply) in zip(commands, try keyspace.execute(commands)) {
            if case .error(let message) = reply {
                throw RedisError.server(message, context: RedisConnection.commandName(command.arguments), secret: nil)
            }
        }
    }
}

extension RedisReply {
    /// A `NOSCRIPT` error: the server does not know the script of an `EVALSHA`.
    var isNoScript: Bool {
        if case .error(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}
