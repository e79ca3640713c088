/// `--shard-by` (runbook `shard_by`): which ``ShardFunction`` a shard uses, settled once the source
/// store (for `diff` and `verify`, store A) is open (``resolve(for:)``).
public enum ShardChoice: String, Sendable, Hashable, CaseIterable {
    /// CRC-32 of the session id (``ShardFunction/sessionId``).
    case id
    /// Hash slot ranges of the source's Redis keys (``ShardFunction/slots(_:)``): needs a Redis source.
    case slots
    /// `slots` when the source is a Redis Cluster, else `id`.
    case auto

    /// The function for a source store.
    ///
    /// - Throws: ``ShardError`` for `slots` when the source does not keep sessions under Redis keys
    ///   (or has no layout yet).
    public func resolve(for source: any SessionStore) throws(ShardError) -> ShardFunction {
        let keying = source.slotKeying
        switch self {
        case .id: return .sessionId
        case .auto: return keying.flatMap { $0.isCluster ? $0.form.map(ShardFunction.slots) : nil } ?? .sessionId
        case .slots:
            guard let keying else {
                throw ShardError("slots needs a Redis source (its layout gives the key hashed), not \(source.layout); shard by id instead")
            }
            guard let form = keying.form else {
                throw ShardError("slots needs the source's Redis layout, and \(source.layout) has none yet; give ?layout= or shard by id")
            }
            return .slots(form)
        }
    }
}

/// How a Redis store keys its sessions, for the `slots` shard function (``SessionStore/slotKeying``).
public struct SlotKeying: Sendable, Hashable {
    /// The key form of the store's layout; `nil` while the store has no layout (an empty database).
    public var form: ShardKeyForm?
    /// True for a Redis Cluster.
    public var isCluster: Bool

    public init(form: ShardKeyForm?, isCluster: Bool) {
        self.form = form
        self.isCluster = isCluster
    }
}
