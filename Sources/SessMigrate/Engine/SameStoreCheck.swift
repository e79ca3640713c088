import DriverCore
import Foundation

extension StoreOpener {
    /// The identity of the store at `address` (see ``StoreIdentity``): a SQLite file's device and
    /// inode (`nil` when the file does not exist yet), or what the server reports, asked over a
    /// connection the run keeps for it (see ``OpenMemo``), else over a new read-only one, which is
    /// released again (``release(_:_:forWriting:)``). `nil` when the store cannot tell.
    public func identify(_ address: StoreAddress) throws -> StoreIdentity? {
        if let path = address.filePath { return StoreIdentity.file(atPath: path) }
        if let memo, let (store, forWriting) = memo.takeAnyParked(address) {
            do {
                let identity = try identity(of: store, at: address)
                memo.park(store, address, forWriting: forWriting)
                return identity
            } catch {
                try? store.close()  // Never parked again: its connection may be what failed.
                throw error
            }
        }
        let store = try open(address, forWriting: false)
        defer { release(store, address, forWriting: false) }
        return try identity(of: store, at: address)
    }

    /// The identity of an open store.
    func identity(of store: any SessionStore, at address: StoreAddress) throws -> StoreIdentity? {
        if let path = address.filePath { return StoreIdentity.file(atPath: path) }
        do {
            return try store.fetchIdentity()
        } catch let error as any DriverError {
            throw StoreError(address: address.description, underlying: error)
        }
    }

    /// Refuses a copy (or restore) whose target is the store it reads from: the same addresses,
    /// or, asked of the servers and the file system, the same MySQL server and database, Redis
    /// server and database number, or SQLite file (another host name or user for the same server,
    /// a relative path, a symlink). Call it with the source open and before the target is opened
    /// for writing, so nothing is written into a refused target.
    ///
    /// - Throws: ``AddressError`` (a usage error) naming both addresses and the store they share.
    public func refuseSameStore(source: any SessionStore, at sourceAddress: StoreAddress, target: StoreAddress) throws {
        guard sourceAddress != target else { throw AddressError("source and target are the same store (\(target))") }
        guard let sourceIdentity = try identity(of: source, at: sourceAddress), let targetIdentity = try identify(target) else { return }
        if sourceIdentity.isSameStore(as: targetIdentity) {
            throw AddressError("source \(sourceAddress) and target \(target) are the same store (\(targetIdentity)); refusing to copy a store into itself")
        }
    }

    /// ``refuseSameStore(source:at:target:)`` for a source that is a file (a snapshot).
    public func refuseSameFile(_ path: String, target: StoreAddress) throws {
        guard let file = StoreIdentity.file(atPath: path), let targetIdentity = try identify(target) else { return }
        if file.isSameStore(as: targetIdentity) {
            throw AddressError("the target \(target) is the snapshot file \(path) itself")
        }
    }
}
