import DriverCore

/// Turns an address into an open store, through its kind (``StoreKind``): the table that knows which
/// driver serves which address.
public struct StoreOpener: Sendable {
    /// What earlier opens of this run learnt (``OpenMemo``); `nil` samples every store at every open.
    public var memo: OpenMemo?

    public init() {}

    /// This opener with a new ``OpenMemo``: the opens through it and its copies (one run's workers
    /// and retries) sample each store once.
    public func remembering() -> StoreOpener {
        var opener = self
        opener.memo = OpenMemo()
        return opener
    }

    /// Opens the store. Reading never creates anything; writing creates the schema or file only
    /// where it is empty, in the layout the address asks for. A store opened for writing must hold
    /// a schema or key layout this tool recognises (MySQL and SQLite check at open, Redis samples
    /// its `session:*`, `app:*` and `user:*` keys); anything else is refused before any write.
    /// A store handed back by ``release(_:_:forWriting:)`` is reused (a Redis store opened for
    /// reading serves an open for writing after the target check).
    public func open(_ address: StoreAddress, forWriting: Bool) throws -> any SessionStore {
        if let parked = memo?.takeParked(address, forWriting: forWriting) { return parked }
        do {
            return try address.kind.open(address, forWriting: forWriting, memo: memo)
        } catch let error as any DriverError {
            throw StoreError(address: address.description, underlying: error)
        }
    }
}

extension StoreOpener {
    /// Done with `store` for now: kept open for this run's next open of `address` in the same mode
    /// (see ``OpenMemo``), or closed when the opener keeps no memo.
    public func release(_ store: any SessionStore, _ address: StoreAddress, forWriting: Bool) {
        if let memo { memo.park(store, address, forWriting: forWriting) } else { try? store.close() }
    }
}

/// A driver error with the (redacted) address of the store it came from.
public struct StoreError: Error, CustomStringConvertible {
    public var address: String
    public var underlying: any DriverError

    public var code: DriverErrorCode { underlying.code }
    public var description: String { "\(address): \(underlying.description)" }
}
