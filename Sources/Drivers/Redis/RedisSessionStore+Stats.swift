import DriverCore
import SessionModel

extension RedisSessionStore {
    /// One `SCAN` pass over `session:*` (each blob parsed and dropped in turn), then over
    /// `app:*` and `user:*` counting only hashes (the community `app::{app}:{user}` sets also
    /// match `app:*` and are left out by `TYPE`).
    public func fetchStats() throws -> StoreStats {
        var sessions = 0
        var events = 0
        var oldest: Double?
        var newest: Double?
        if case .known(let layout) = layoutState {
            let scan = keyspace.scanKeys(match: layout.dataPattern, count: 200)
            while let batch = try scan.next() {
                var keys = RedisKeyBytes.distinct(batch)
                if layout.sharesKeys { keys = try RedisKeyFilter.userStrings(among: Array(keys.indices), keys: keys, keyspace: keyspace).map { keys[$0] } }
                let replies = try keyspace.execute(keys.map { RedisCommand([Array("GET".utf8), $0], key: $0) })
                let types = try RedisSessionLoader.typesOfWrongTypeReplies(keys, replies: replies, keyspace: keyspace)
                for (index, key) in keys.enumerated() {
                    let name = String(decoding: key, as: UTF8.self)
                    guard let bytes = try RedisSessionLoader.blobBytes(replies[index], storageKey: name, foundType: types[index], layout: layout) else {
                        continue
                    }
                    let blobs =
                        layout.sharesKeys
                        ? try SessionBlobCodec.userStringMembers(bytes, storageKey: name).map {
                            try SessionBlobCodec.decodeUserStringMember($0, storageKey: name, layout: layout)
                        }
                        : [try SessionBlobCodec.decode(bytes, storageKey: name, layout: layout)]
                    for blob in blobs {
                        sessions += 1
                        events += blob.events.count
                        oldest = min(oldest ?? blob.lastUpdateTime, blob.lastUpdateTime)
                        newest = max(newest ?? blob.lastUpdateTime, blob.lastUpdateTime)
                    }
                }
            }
        }
        return StoreStats(
            layout: layout, sessions: sessions, events: events,
            appStates: try countHashes(matching: "app:*"), userStates: try countHashes(matching: "user:*"),
            oldestUpdateTime: oldest, newestUpdateTime: newest)
    }

    private func countHashes(matching pattern: String) throws -> Int {
        var count = 0
        let scan = keyspace.scanKeys(match: pattern, count: 500)
        while let batch = try scan.next() {
            let keys = RedisKeyBytes.distinct(batch)
            let replies = try keyspace.execute(keys.map { RedisCommand([Array("TYPE".utf8), $0], key: $0) })
            count += replies.filter { $0 == .status("hash") }.count
        }
        return count
    }
}
