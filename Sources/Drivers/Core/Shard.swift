import SessionModel

/// Shard `index` of `count`: the sessions the shard ``function`` puts there.
///
/// - ``ShardFunction/sessionId`` (the default): the CRC-32 of the id's UTF-8 bytes, modulo
///   `count`. It depends on the session id alone because google-adk-community's Redis keys
///   (`session:{id}`) hold nothing else. Sessions of different apps or users with the same id share
///   a shard, which is harmless.
/// - ``ShardFunction/slots(_:)``: the Redis Cluster hash slot of the key a Redis layout keeps the
///   session under (``ShardKeyForm``), scaled to `count` contiguous slot ranges:
///   `floor(slot × count / 16384)`. Shard `i` is exactly the slots
///   `ceil(i × 16384 / count) ..< ceil((i + 1) × 16384 / count)` (``slotRange``), so on a cluster
///   of that layout a shard reads only its slots; with more than 16,384 shards some are empty.
///
/// Either is the same function in every store, computed where the data is: MySQL `CRC32(id) % count`
/// (slots: on each `sessions` row in the client), functions registered on each SQLite connection,
/// the key of a Redis session.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// 0-based.
    public let index: Int
    public let count: Int
    /// Which sessions go to which shard.
    public let function: ShardFunction

    /// - Throws: ``ShardError`` unless `0 <= index < count` and `1 <= count <= 1_000_000`.
    public init(index: Int, count: Int, function: ShardFunction = .sessionId) throws(ShardError) {
        guard count >= 1, count <= 1_000_000 else { throw ShardError("the shard count must be between 1 and 1000000, not \(count)") }
        guard index >= 0, index < count else { throw ShardError("shard index \(index) is not in 0..<\(count)") }
        self.index = index
        self.count = count
        self.function = function
    }

    /// Parses `i/N` (0-based index `i`).
    public init(parsing text: String, function: ShardFunction = .sessionId) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ShardError("'\(text)' is not a shard i/N (0-based index i of N shards, e.g. 0/4)")
        }
        try self.init(index: index, count: count, function: function)
    }

    /// The same shard under another function.
    public func with(function: ShardFunction) -> Shard {
        // Index and count were checked when this shard was made.
        Shard(checkedIndex: index, count: count, function: function)
    }

    private init(checkedIndex: Int, count: Int, function: ShardFunction) {
        self.index = checkedIndex
        self.count = count
        self.function = function
    }

    /// True when the session with this key belongs to the shard.
    public func contains(_ key: SessionKey) -> Bool {
        switch function {
        case .sessionId: containsId(key.sessionId)
        case .slots(let form): contains(slot: RedisHashSlot.slot(of: form.key(key)))
        }
    }

    /// Whether the session with this id belongs to the shard, knowing only its id: `nil` when the
    /// function needs app and user too (``ShardKeyForm/needsAppAndUser``); the session decides then.
    public func contains(sessionId: String) -> Bool? {
        switch function {
        case .sessionId: containsId(sessionId)
        case .slots(let form): form.needsAppAndUser ? nil : contains(SessionKey(appName: "", userId: "", sessionId: sessionId))
        }
    }

    private func containsId(_ id: String) -> Bool {
        Int(CRC32.checksum(id.utf8) % UInt32(count)) == index
    }

    /// True when hash slot `slot` is in this shard (``ShardFunction/slots(_:)``): `floor(slot × count / 16384)`
    /// is `index`.
    public func contains(slot: Int) -> Bool { slot * count / RedisHashSlot.count == index }

    /// The hash slots of this shard under ``ShardFunction/slots(_:)``:
    /// `ceil(index × 16384 / count) ..< ceil((index + 1) × 16384 / count)` (empty for some shards when
    /// `count` exceeds 16,384). A slot `s` is in it exactly when `index ≤ s × count / 16384 < index + 1`,
    /// that is `index × 16384 / count ≤ s < (index + 1) × 16384 / count`.
    public var slotRange: Range<Int> {
        func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
        return ceilDiv(index * RedisHashSlot.count, count)..<ceilDiv((index + 1) * RedisHashSlot.count, count)
    }

    /// `i/N`.
    public var description: String { "\(index)/\(count)" }
}

/// A shard specification that cannot be used.
public struct ShardError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How sessions are dealt out to shards (see ``Shard``).
public enum ShardFunction: Sendable, Hashable, CustomStringConvertible {
    /// CRC-32 of the session id, modulo the shard count.
    case sessionId
    /// The hash slot of the session's key in this form, scaled to contiguous slot ranges.
    case slots(ShardKeyForm)

    /// `id`, or `slots:` and the key form (`slots:session:{app}:{user}:{id}`).
    public var description: String {
        switch self {
        case .sessionId: "id"
        case .slots(let form): "slots:\(form.rawValue)"
        }
    }

    /// Parses ``description``.
    public init(parsing text: String) throws(ShardError) {
        if text == "id" {
            self = .sessionId
            return
        }
        guard text.hasPrefix("slots:"), let form = ShardKeyForm(rawValue: String(text.dropFirst("slots:".count))) else {
            let forms = ShardKeyForm.allCases.map { "slots:\($0.rawValue)" }.joined(separator: ", ")
            throw ShardError("'\(text)' is not a shard function (id, \(forms))")
        }
        self = .slots(form)
    }
}

/// The key a Redis layout keeps a session's data under, which the `slots` shard function hashes:
/// google-adk-community's `session:{id}`, google-adk-redis ≥ 0.1.5's `session:{app}:{user}:{id}`,
/// and ≤ 0.1.4's per-user string `app:{app}:{user}`.
public enum ShardKeyForm: String, Sendable, Hashable, CaseIterable {
    case sessionId = "session:{id}"
    case appUserSessionId = "session:{app}:{user}:{id}"
    case appUser = "app:{app}:{user}"

    /// A piece of the key: literal text or a name of the session.
    public enum Part: Sendable, Hashable {
        case text(String)
        case app, user, id
    }

    /// The key, piece by piece (for stores that build it in SQL).
    public var parts: [Part] {
        switch self {
        case .sessionId: [.text("session:"), .id]
        case .appUserSessionId: [.text("session:"), .app, .text(":"), .user, .text(":"), .id]
        case .appUser: [.text("app:"), .app, .text(":"), .user]
        }
    }

    /// The key of `key`'s session.
    public func key(_ key: SessionKey) -> String {
        switch self {
        case .sessionId: "session:\(key.sessionId)"
        case .appUserSessionId: "session:\(key.appName):\(key.userId):\(key.sessionId)"
        case .appUser: "app:\(key.appName):\(key.userId)"
        }
    }

    /// True when the key holds more than the session id.
    public var needsAppAndUser: Bool { self != .sessionId }
}
