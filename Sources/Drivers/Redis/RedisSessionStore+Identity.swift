import DriverCore

extension RedisSessionStore {
    /// The server (`run_id`, and the replication id a primary shares with its replicas) and the
    /// database number, from `INFO`. `nil` when `INFO` is not allowed (an ACL user without
    /// `+info`): the engine then compares addresses only.
    public func fetchIdentity() throws -> StoreIdentity? {
        guard let fields = try fetchInfo(["server", "replication"]) else { return nil }
        guard let runID = fields["run_id"], !runID.isEmpty else { return nil }
        var keys: Set<String> = ["redis-run:\(runID)/\(config.database)"]
        if let replication = fields["master_replid"], !replication.isEmpty, !replication.allSatisfy({ $0 == "0" }) {
            keys.insert("redis-replication:\(replication)/\(config.database)")
        }
        let port = fields["tcp_port"].map { " port \($0)" } ?? ""
        return StoreIdentity(keys: keys, description: "Redis server run_id \(runID)\(port), database \(config.database)")
    }

    /// The first 16 hex digits of the server's `run_id` (new at every start): the epoch of `SCAN`
    /// resume tokens. `nil` when `INFO` is not allowed; tokens then carry no epoch and a restart
    /// between runs is not detected.
    func fetchScanEpoch() throws -> String? {
        guard let id = try fetchInfo(["server"])?["run_id"]?.prefix(16) else { return nil }
        return id.count == 16 && id.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) ? String(id) : nil
    }

    /// The `field:value` lines of these `INFO` sections, in one round trip; `nil` when a section
    /// is refused (an ACL user without `+info`).
    func fetchInfo(_ sections: [String]) throws -> [String: String]? {
        let commands = sections.map { RedisCommand([Array("INFO".utf8), Array($0.utf8)], key: nil) }
        var fields: [String: String] = [:]
        for reply in try keyspace.execute(commands) {
            guard case .string(let bytes) = reply else { return nil }
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
        }
        return fields
    }

    /// hiredis 0.14 has no TLS: always plaintext (see docs/SECURITY.md for TLS tunnels).
    public var connectionSecurity: String? { "plaintext (no TLS in hiredis 0.14; use a TLS tunnel across networks)" }
}
