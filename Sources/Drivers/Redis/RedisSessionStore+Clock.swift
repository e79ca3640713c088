import DriverCore
import SessionModel

extension RedisSessionStore {
    /// `TIME`: the server's clock (seconds and microseconds) in epoch seconds.
    public func serverTime() throws -> Double? {
        let reply = try keyspace.execute([RedisCommand([Array("TIME".utf8)], key: nil)]).first
        guard case .array(let parts)? = reply, parts.count == 2, let seconds = parts[0].text.flatMap(Double.init),
            let micros = parts[1].text.flatMap(Double.init)
        else { return nil }
        return seconds + micros / 1e6
    }
}

extension RedisSessionStore {
    /// The server's `run_id`: a new one after every restart, when writes not yet persisted are gone.
    /// On a cluster, a digest of every primary's `run_id` in shard order: a failover (a replica
    /// promoted, which may lack the last writes the old primary acknowledged) or a restart of any
    /// primary gives a new epoch.
    public func writeEpoch() throws -> String? {
        if keyspace.clusterTopology != nil {
            var ids: [String] = []
            for reply in try keyspace.executeOnEveryNode([Array("INFO".utf8), Array("server".utf8)]) {
                guard let text = reply.text,
                    let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("run_id:") })
                else { return nil }
                ids.append(String(line.dropFirst("run_id:".count)))
            }
            return "cluster-" + String(SHA256.hex(of: Array(ids.joined(separator: ",").utf8)).prefix(40))
        }
        return try fetchInfo(["server"])?["run_id"]
    }
}
