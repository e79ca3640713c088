import DriverCore
import Foundation
import RedisDriver

/// What the first open of a store in one run learnt, for that run's later opens of the same store
/// (the probe, a worker pool's preparation, every worker, every retry): the Redis layout detected
/// or checked against the keys, and that a target's keys were checked for writing. Those samples
/// walk up to tens of thousands of keys of a large Redis; taken once per run instead of once per
/// connection, a copy of one session costs about the same on a store of 100 sessions as on one of
/// a million.
///
/// It also holds the stores an open handed back (``StoreOpener/release(_:_:forWriting:)``: the
/// probe's, the same-store check's) for the next open of the same address, so that a run connects to
/// each store once, not three times; a connection costs a TLS handshake and, with a password
/// command, a token fetch. The run closes what is left when it ends (``closeParked()``), and before
/// a retry, which must not reuse a connection that may have failed.
///
/// A run makes its own (``StoreOpener/remembering()``), so a new run, a runbook's next step or
/// converge pass, samples afresh: a store is not assumed unchanged for longer than one run.
public final class OpenMemo: @unchecked Sendable {
    // @unchecked: every field is read and written under `lock` (the workers open stores at once).
    private let lock = NSLock()
    private var layouts: [StoreAddress: RedisLayout] = [:]
    private var checkedForWriting: Set<StoreAddress> = []
    private var parked: [Parking: any SessionStore] = [:]

    private struct Parking: Hashable {
        var address: StoreAddress
        var forWriting: Bool
    }

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

    /// Keeps `store`, open, for the next open of `address` in the same mode; one replaced is closed.
    func park(_ store: any SessionStore, _ address: StoreAddress, forWriting: Bool) {
        let replaced = lock.withLock { parked.updateValue(store, forKey: Parking(address: address, forWriting: forWriting)) }
        if let replaced, replaced !== store { try? replaced.close() }
    }

    /// The store parked for `address` in that mode, now the caller's to close.
    func takeParked(_ address: StoreAddress, forWriting: Bool) -> (any SessionStore)? {
        lock.withLock { parked.removeValue(forKey: Parking(address: address, forWriting: forWriting)) }
    }

    /// A store parked for `address` in either mode (the read-only one first) and its mode, to be
    /// parked again when done (a same-store check asks over whatever is open).
    func takeAnyParked(_ address: StoreAddress) -> (store: any SessionStore, forWriting: Bool)? {
        lock.withLock {
            for forWriting in [false, true] {
                if let store = parked.removeValue(forKey: Parking(address: address, forWriting: forWriting)) { return (store, forWriting) }
            }
            return nil
        }
    }

    /// Closes every parked store.
    public func closeParked() {
        let stores = lock.withLock {
            defer { parked.removeAll() }
            return Array(parked.values)
        }
        for store in stores { try? store.close() }
    }
}
