#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which physical store a connection reached, as the server or file system reports it, so that two
/// addresses that look different (`127.0.0.1` and `localhost`, another user, a relative path, a
/// symlink) can be recognised as the same store before anything is written.
///
/// Two identities name the same store when they share any of their ``keys``:
/// - MySQL/MariaDB: `@@server_uuid` (MySQL, CloudSQL) or, where the server has none (MariaDB),
///   `@@hostname`, `@@port`, `@@server_id` and `@@datadir`; each with the database name.
/// - Redis: the server's `run_id`, and its replication id (shared by a primary and its replicas);
///   each with the database number.
/// - SQLite: the file's device and inode.
public struct StoreIdentity: Sendable, Hashable, CustomStringConvertible {
    /// Opaque keys; equal keys mean the same store.
    public var keys: Set<String>
    /// A short human-readable name of the store (no secrets), e.g. `MariaDB vm:3307 database app`.
    public var description: String

    public init(keys: Set<String>, description: String) {
        self.keys = keys
        self.description = description
    }

    /// True when both identities name the same store.
    public func isSameStore(as other: StoreIdentity) -> Bool {
        !keys.isDisjoint(with: other.keys)
    }

    /// The identity of the file at `path` (device and inode, symlinks followed); `nil` when there
    /// is no file there yet.
    public static func file(atPath path: String) -> StoreIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return StoreIdentity(
            keys: ["file:\(info.st_dev):\(info.st_ino)"], description: "the file \(path) (device \(info.st_dev), inode \(info.st_ino))")
    }
}

extension SessionStore {
    /// No identity known (stores that cannot tell; the engine then compares addresses only).
    public func fetchIdentity() throws -> StoreIdentity? { nil }

    /// Nothing to say (local files).
    public var connectionSecurity: String? { nil }
}
