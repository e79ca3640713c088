import DriverCore

extension RedisSessionStore {
    /// The server (`run_id`, and the replication id a primary shares with its replicas) and the
    /// database number, from `INFO`. `nil` when `INFO` is not allowed (an ACL user without
    /// `+info`): the engine then compares addresses only.
    public func fetchIdentity() throws -> StoreIdentity? {
        let info = [RedisCommand([Array("INFO".utf8), Array("server".utf8)], key: nil),
                    RedisCommand([Array("INFO".utf8), Array("replication".utf8)], key: nil)]
        var fields: [String: String] = [:]
        for reply in try keyspace.execute(info) {
            guard case .string(let bytes) = reply else { return nil }
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
            }
        }
        guard let runID = fields["run_id"], !runID.isEmpty else { return nil }
        var keys: Set<String> = ["redis-run:\(runID)/\(config.database)"]
        if let replication = fields["master_replid"], !replication.isEmpty, !replication.allSatisfy({ $0 == "0" }) {
            keys.insert("redis-replication:\(replication)/\(config.database)")
        }
        let port = fields["tcp_port"].map { " port \($0)" } ?? ""
        return StoreIdentity(keys: keys, description: "Redis server run_id \(runID)\(port), database \(config.database)")
    }

    /// hiredis 0.14 has no TLS: always plaintext (see docs/SECURITY.md for TLS tunnels).
    public var connectionSecurity: String? { "plaintext (no TLS in hiredis 0.14; use a TLS tunnel across networks)" }
}
