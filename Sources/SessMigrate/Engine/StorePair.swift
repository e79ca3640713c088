import DriverCore

/// The two stores a job reads and writes (or compares): opened together, the first closed again
/// when the second cannot be opened; reopened after a transient fault; closed together. The
/// opening closure decides how each store is opened (and any check between the two).
final class StorePair {
    private let openPair: () throws -> (any SessionStore, any SessionStore)
    private var stores: (any SessionStore, any SessionStore)?

    /// - Parameters:
    ///   - first: opens the first store.
    ///   - second: opens the second, given the first (for checks between them).
    init(first: @escaping () throws -> any SessionStore, second: @escaping (any SessionStore) throws -> any SessionStore) {
        openPair = {
            let one = try first()
            do {
                return (one, try second(one))
            } catch {
                try? one.close()
                throw error
            }
        }
    }

    deinit { close() }

    /// The open stores; with `reopen`, or when none are open, both are (closed and) opened anew.
    func stores(reopen: Bool = false) throws -> (any SessionStore, any SessionStore) {
        if reopen { close() }
        if let stores { return stores }
        let opened = try openPair()
        stores = opened
        return opened
    }

    /// Closes both stores. Idempotent.
    func close() {
        if let (one, two) = stores {
            try? one.close()
            try? two.close()
        }
        stores = nil
    }
}

@available(*, unavailable)
extension StorePair: Sendable {}
