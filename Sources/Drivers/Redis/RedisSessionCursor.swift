import DriverCore
import SessionModel

/// Streams sessions: one `SCAN` step, then its keys (de-duplicated within the step) loaded
/// `batchSize` at a time.
///
/// `SCAN` may return a key twice. Duplicates within one step are dropped here; a duplicate in
/// a later step yields the session again, which is harmless because writes are idempotent.
/// De-duplicating across the whole scan would need memory proportional to the store.
///
/// **Resume token** (``RedisResumePoint``): once a `SCAN` step is fully returned, the position
/// after it (the end position after the last); while it is partly returned, the position the
/// step started from plus how many of its keys are covered and a digest of those keys. A resumed
/// scan reads that step again and skips the covered keys only when the step starts with exactly
/// the same keys (same digest); otherwise it returns the whole step again. Either way no session
/// is skipped (`SCAN` returns every key that stays present to a scan continued from a cursor),
/// and a copy that is interrupted after every batch still moves forward.
///
/// **Scope**: each `SCAN` step's keys go through the scope's ``RedisKeyFilter`` before any is loaded
/// (the key itself, then the blobs' tails for time bounds, one pipelined round trip per step); the
/// step is then the keys worth loading, and every loaded session is checked against the scope. A
/// resumed step is filtered again: when the same keys pass, the covered prefix is skipped, else the
/// step is read again whole.
final class RedisSessionCursor: SessionCursor {
    private let scan: (any RedisKeySteps)?
    private let loader: RedisSessionLoader?
    private let filter: RedisKeyFilter?
    private let batchSize: Int
    private let nodeCount: Int
    private let start: RedisResumePoint?
    private let startToken: String?
    /// The server epoch tokens carry (``RedisResumePoint/epoch``).
    private let epoch: String?
    /// On a cluster, each node's epoch (``RedisResumePoint/nodeEpoch``); `nil` for a standalone server.
    private let nodeEpochs: [String?]?
    /// The de-duplicated keys of the current step, and how many of them were loaded.
    private var stepKeys: [[UInt8]] = []
    private var loaded = 0
    private var buffer: [RedisLoadedEntry] = []
    /// For each buffered entry: how many step keys are covered once it is returned (or skipped).
    private var covers: [Int] = []
    private let skipBad: Bool
    private var skipped: [SkippedSession] = []
    private var position = 0
    private var covered = 0
    private var hasReturned = false
    private var isFirstStep = true
    /// Tokens are slot positions (``RedisSlotScan``, `k1:…`), not `SCAN` positions.
    private let slotTokens: Bool

    init(
        scan: (any RedisKeySteps)?, loader: RedisSessionLoader?, batchSize: Int, nodeCount: Int, start: RedisResumePoint?, startToken: String?,
        epoch: String? = nil, nodeEpochs: [String?]? = nil, skipBad: Bool = false, filter: RedisKeyFilter? = nil, slotTokens: Bool = false
    ) {
        self.slotTokens = slotTokens
        self.nodeEpochs = nodeEpochs
        self.filter = filter
        self.epoch = epoch
        self.skipBad = skipBad
        self.scan = scan
        self.loader = loader
        self.batchSize = max(1, batchSize)
        self.nodeCount = nodeCount
        self.start = start
        self.startToken = startToken
    }

    var resumeToken: String? {
        guard hasReturned, let scan, let step = scan.stepPosition else { return startToken }
        var point: RedisResumePoint
        if loaded == stepKeys.count && position == buffer.count {
            let end = scan.position ?? .end(nodeCount: nodeCount)
            point = RedisResumePoint(position: end, epoch: epoch, nodeEpoch: nodeEpoch(of: end))
        } else {
            point = RedisResumePoint(position: step, covering: stepKeys.prefix(covered), epoch: epoch, nodeEpoch: nodeEpoch(of: step))
        }
        point.isSlotPosition = slotTokens
        return point.token
    }

    /// The epoch of the node a cluster position is on (`nil` on a standalone server).
    private func nodeEpoch(of position: RedisScanPosition) -> String? {
        guard let nodeEpochs, !nodeEpochs.isEmpty else { return nil }
        return nodeEpochs[position.node % nodeEpochs.count] ?? RedisResumePoint.unknownNodeEpoch
    }

    func takeSkipped() -> [SkippedSession] {
        defer { skipped.removeAll() }
        return skipped
    }

    func next() throws -> Session? {
        while true {
            while position == buffer.count {
                guard let loader else { return nil }
                if loaded == stepKeys.count {
                    guard let scan, let keys = try scan.next() else { return nil }
                    let unique = RedisKeyBytes.distinct(keys)
                    // The scope's filter runs on the whole step at once (one pipelined round trip of tail reads for
                    // time bounds); the step is then the keys worth loading, and a resume token covers those.
                    stepKeys = try filter.map { filter in try filter.select(unique, keyspace: loader.keyspace).map { unique[$0] } } ?? unique
                    loaded = 0
                    covered = 0
                    if isFirstStep, let start, start.skip > 0, scan.stepPosition == start.position, start.isCovering(stepKeys) {
                        loaded = start.skip
                        covered = start.skip
                    }
                    isFirstStep = false
                    continue
                }
                // State changes only once the load succeeded, so a failed load never moves the token.
                let batch = Array(stepKeys[loaded..<min(loaded + batchSize, stepKeys.count)])
                let entries = try loader.loadEntries(batch, skipBad: skipBad)
                // A key holding several sessions (a user string) is covered once its last one is returned.
                covers = entries.indices.map { position in
                    let index = entries[position].index
                    let more = position + 1 < entries.count && entries[position + 1].index == index
                    return loaded + index + (more ? 0 : 1)
                }
                buffer = entries
                loaded += batch.count
                position = 0
            }
            let entry = buffer[position]
            covered = max(covered, covers[position])
            position += 1
            hasReturned = true
            if let session = entry.session, filter?.scope.matches(session) ?? true { return session }
            if let bad = entry.skipped, bad.key.map({ filter?.scope.matches($0) ?? true }) ?? true { skipped.append(bad) }
        }
    }
}

@available(*, unavailable)
extension RedisSessionCursor: Sendable {}

/// A key's bytes in a set, hashed in one call (a `Set<[UInt8]>` hashes byte by byte: a tenth of a
/// scoped scan's time went there).
struct RedisKeyBytes: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// One word for the hasher: the bytes folded 8 at a time (multiply and rotate), so the hasher's
    /// SipHash runs once per key, not over every byte (a key is about 44 bytes).
    func hash(into hasher: inout Hasher) {
        let folded = bytes.withUnsafeBytes { raw -> UInt64 in
            var word: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
            var offset = 0
            while offset + 8 <= raw.count {
                word = (word ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                word = (word << 31) | (word >> 33)
                offset += 8
            }
            while offset < raw.count {
                word = (word ^ UInt64(raw[offset])) &* 0x94D0_49BB_1331_11EB
                offset += 1
            }
            return word
        }
        hasher.combine(folded)
    }

    /// `keys` without repeats, in order (`SCAN` may return a key twice).
    static func distinct(_ keys: [[UInt8]]) -> [[UInt8]] {
        var seen = Set<RedisKeyBytes>()
        return keys.filter { seen.insert(RedisKeyBytes($0)).inserted }
    }
}

extension RedisScanPosition {
    /// The position past the last of `nodeCount` nodes: the scan is complete.
    public static func end(nodeCount: Int) -> RedisScanPosition { RedisScanPosition(node: nodeCount, cursor: "0") }
}

/// Where a Redis session scan resumes, and its token (see ``ResumeToken``):
/// `s1:<node>:<cursor>` = start the step at that position; `s1:<node>:<cursor>:<skip>:<digest>`
/// = read that step again and skip its first `skip` keys if their digest (16 hex digits of the
/// SHA-256 of the length-prefixed keys) matches. A node index equal to the node count (cursor 0)
/// means the scan is complete. `s2:<epoch>:…` is the same with the server's epoch (16 hex digits
/// of its `run_id`) first: valid only on that server process.
///
/// On a cluster: `c1:<topology>:<node epoch>:<node>:<cursor>…`, with the slot map's digest as the
/// epoch and the run id prefix of the shard's primary as ``nodeEpoch`` (`0` × 16 when unknown).
public struct RedisResumePoint: Sendable, Hashable {
    static let tag = "s1"
    static let epochTag = "s2"
    static let clusterTag = "c1"
    static let unknownNodeEpoch = String(repeating: "0", count: 16)
    public var position: RedisScanPosition
    /// The server process the cursor belongs to; `nil` for `s1` tokens (no check). On a cluster:
    /// the slot map's digest.
    public var epoch: String?
    /// On a cluster, the process of the shard's primary the cursor belongs to; `nil` otherwise.
    public var nodeEpoch: String?
    /// Keys at the start of the step already returned (0: none).
    public var skip: Int
    /// Digest of those keys; empty when `skip` is 0.
    public var digest: String
    /// A slot position of a cluster's `slots` shard (``slotToken``), not a `SCAN` position.
    var isSlotPosition = false

    public init(position: RedisScanPosition, epoch: String? = nil, nodeEpoch: String? = nil) {
        self.position = position
        self.epoch = epoch
        self.nodeEpoch = nodeEpoch
        self.skip = 0
        self.digest = ""
    }

    init(position: RedisScanPosition, covering keys: ArraySlice<[UInt8]>, epoch: String? = nil, nodeEpoch: String? = nil) {
        self.position = position
        self.epoch = epoch
        self.nodeEpoch = nodeEpoch
        self.skip = keys.count
        self.digest = keys.isEmpty ? "" : Self.digest(of: keys)
    }

    /// The token text.
    public var token: String {
        if isSlotPosition { return slotToken }
        let head: String
        if let nodeEpoch {
            head = "\(Self.clusterTag):\(epoch ?? Self.unknownNodeEpoch):\(nodeEpoch)"
        } else {
            head = epoch.map { "\(Self.epochTag):\($0)" } ?? Self.tag
        }
        let base = "\(head):\(position.node):\(position.cursor)"
        return skip > 0 ? "\(base):\(skip):\(digest)" : base
    }

    /// True when `stepKeys` starts with the keys this point covers.
    func isCovering(_ stepKeys: [[UInt8]]) -> Bool {
        stepKeys.count >= skip && Self.digest(of: stepKeys.prefix(skip)) == digest
    }

    static func digest(of keys: ArraySlice<[UInt8]>) -> String {
        var hash = SHA256()
        for key in keys {
            let count = UInt32(truncatingIfNeeded: key.count)
            hash.update([UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
            hash.update(key)
        }
        return SHA256.hexString(Array(hash.finalize().prefix(8)))
    }

    /// Parses a ``token`` of a keyspace with `nodeCount` nodes.
    ///
    /// - Throws: ``ResumeTokenError`` (code `.unsupported`) for anything else: another tag, a
    ///   node index outside `0...nodeCount`, a cursor that is not a decimal 64-bit number, a bad
    ///   skip count or digest.
    public init(token: String, nodeCount: Int) throws(ResumeTokenError) {
        func fail(_ message: String) -> ResumeTokenError { ResumeTokenError(store: "redis", token: token, message: message) }
        var parts = token.split(separator: ":", omittingEmptySubsequences: false)
        var epoch: String?
        var nodeEpoch: String?
        func isEpoch(_ text: Substring) -> Bool { text.count == 16 && text.allSatisfy({ $0.isHexDigit && !$0.isUppercase && $0.isASCII }) }
        if parts.first == Substring(Self.epochTag), parts.count >= 2 {
            guard isEpoch(parts[1]) else { throw fail("the server epoch is damaged") }
            epoch = String(parts[1])
            parts = [Substring(Self.tag)] + parts.dropFirst(2)
        } else if parts.first == Substring(Self.clusterTag), parts.count >= 3 {
            guard isEpoch(parts[1]), isEpoch(parts[2]) else { throw fail("the cluster topology or node epoch is damaged") }
            epoch = String(parts[1])
            nodeEpoch = String(parts[2])
            parts = [Substring(Self.tag)] + parts.dropFirst(3)
        }
        guard parts.count == 3 || parts.count == 5, parts[0] == Self.tag else {
            throw fail("not a Redis SCAN position (expected s1:<node>:<cursor>)")
        }
        guard parts[1].allSatisfy(\.isASCIIDigit), parts[1].count <= 6, let node = Int(parts[1]), node <= nodeCount else {
            throw fail("node index is not one of this keyspace's \(nodeCount) nodes")
        }
        guard parts[2].allSatisfy(\.isASCIIDigit), let cursor = UInt64(parts[2]), node < nodeCount || cursor == 0 else {
            throw fail("SCAN cursor is not an unsigned 64-bit decimal number")
        }
        self.init(position: RedisScanPosition(node: node, cursor: String(cursor)), epoch: epoch, nodeEpoch: nodeEpoch)
        guard parts.count == 5 else { return }
        guard parts[3].allSatisfy(\.isASCIIDigit), parts[3].count <= 9, let skip = Int(parts[3]), skip > 0, node < nodeCount,
            parts[4].count == 16, parts[4].allSatisfy({ $0.isHexDigit && !$0.isUppercase && $0.isASCII })
        else { throw fail("the position within the SCAN step is damaged") }
        self.skip = skip
        self.digest = String(parts[4])
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
