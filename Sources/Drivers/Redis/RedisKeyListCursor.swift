import DriverCore
import SessionModel

/// Streams the sessions stored under a known, sorted list of blob keys (given session ids, or the
/// members of community index sets), `batchSize` keys per pipelined load. Keys whose blob is gone
/// are passed over; the scope's filter is applied as in a scan.
///
/// **Resume token** `l1:<base64url of the last key covered>`: a resumed read takes the keys that
/// sort after it (byte order). The list is computed again from the same scope, so keys that
/// appeared meanwhile are read if they sort later, and keys present before are never skipped.
final class RedisKeyListCursor: SessionCursor {
    static let tag = "l1:"

    private let keys: [[UInt8]]
    private let loader: RedisSessionLoader
    private let filter: RedisKeyFilter
    private let batchSize: Int
    private let skipBad: Bool
    private var nextIndex = 0
    private var buffer: [(entry: RedisLoadedEntry, key: [UInt8])] = []
    private var position = 0
    private var lastCovered: [UInt8]?
    private let startToken: String?
    private var skipped: [SkippedSession] = []

    init(
        keys: [[UInt8]], loader: RedisSessionLoader, filter: RedisKeyFilter, batchSize: Int, resumeAfter token: String?,
        skipBad: Bool
    ) throws {
        self.loader = loader
        self.filter = filter
        self.batchSize = max(1, batchSize)
        self.skipBad = skipBad
        self.startToken = token
        if let token {
            let after = try Self.key(fromToken: token)
            self.keys = keys.filter { after.lexicographicallyPrecedes($0) }
        } else {
            self.keys = keys
        }
    }

    var resumeToken: String? {
        lastCovered.map { Self.tag + Base64.urlSafe($0, padded: false) } ?? startToken
    }

    func takeSkipped() -> [SkippedSession] {
        defer { skipped.removeAll() }
        return skipped
    }

    func next() throws -> Session? {
        while true {
            if position == buffer.count {
                guard nextIndex < keys.count else { return nil }
                let batch = Array(keys[nextIndex..<min(nextIndex + batchSize, keys.count)])
                let selected = try filter.select(batch, keyspace: loader.keyspace)
                let entries = try loader.loadEntries(selected.map { batch[$0] }, skipBad: skipBad)
                buffer = entries.map { ($0, batch[selected[$0.index]]) }
                position = 0
                nextIndex += batch.count
                if buffer.isEmpty {
                    lastCovered = batch.last  // nothing in this batch to return: all of it is covered
                    continue
                }
            }
            let (entry, key) = buffer[position]
            position += 1
            // Keys passed over before the next returned one are covered by it; a key holding several
            // sessions (a user string) only once its last one is returned.
            if position == buffer.count {
                lastCovered = keys[nextIndex - 1]
            } else if buffer[position].key != key {
                lastCovered = key
            }
            if let session = entry.session, filter.scope.matches(session) { return session }
            if let bad = entry.skipped, bad.key.map(filter.scope.matches) ?? true { skipped.append(bad) }
        }
    }

    /// The key a list token was made from.
    static func key(fromToken token: String) throws(ResumeTokenError) -> [UInt8] {
        guard token.hasPrefix(tag), let bytes = Base64.decode(String(token.dropFirst(tag.count)), strictURLSafeUnpadded: true) else {
            throw ResumeTokenError(store: "redis", token: token, message: "not a Redis key-list position (expected \(tag)…)")
        }
        return bytes
    }
}

@available(*, unavailable)
extension RedisKeyListCursor: Sendable {}
