import Foundation
import RedisDriver

/// What the first open of a store in one run learnt, for that run's later opens of the same store
/// (the probe, a worker pool's preparation, every worker, every retry): the Redis layout detected
/// or checked against the keys, and that a target's keys were checked for writing. Those samples
/// walk up to tens of thousands of keys of a large Redis; taken once per run instead of once per
/// connection, a copy of one session costs about the same on a store of 100 sessions as on one of
/// a million.
///
/// A run makes its own (``StoreOpener/remembering()``), so a new run, a runbook's next step or
/// converge pass, samples afresh: a store is not assumed unchanged for longer than one run.
public final class OpenMemo: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock` (the workers open stores at once).
    private let lock = NSLock()
    private var layouts: [StoreAddress: RedisLayout] = [:]
    private var checkedForWriting: Set<StoreAddress> = []

    public init() {}

    /// The Redis layout an earlier open of `address` settled on.
    func redisLayout(_ address: StoreAddress) -> RedisLayout? {
        lock.withLock { layouts[address] }
    }

    func remember(redisLayout layout: RedisLayout, of address: StoreAddress) {
        lock.withLock { layouts[address] = layout }
    }

    /// True when an earlier open of `address` for writing checked its keys.
    func wasCheckedForWriting(_ address: StoreAddress) -> Bool {
        lock.withLock { checkedForWriting.contains(address) }
    }

    func rememberCheckedForWriting(_ address: StoreAddress) {
        _ = lock.withLock { checkedForWriting.insert(address) }
    }
}
