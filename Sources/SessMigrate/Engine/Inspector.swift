import DriverCore

/// What `inspect` reports about one store.
public struct InspectReport: Sendable, Hashable {
    /// The address with the password redacted.
    public var address: String
    public var stats: StoreStats
    /// How the connection is protected (`TLS (…)`, `plaintext`); `nil` for files.
    public var connection: String?
}

/// Opens a store read-only and reports its layout and counts.
public struct Inspector {
    public var opener: StoreOpener

    public init(opener: StoreOpener) {
        self.opener = opener
    }

    /// Inspects the store at `address`.
    public func inspect(_ address: StoreAddress) throws -> InspectReport {
        let store = try opener.open(address, forWriting: false)
        defer { try? store.close() }
        return InspectReport(address: address.description, stats: try store.fetchStats(), connection: store.connectionSecurity)
    }
}
