import DriverCore
import Foundation
import RedisDriver
import Testing

@testable import SessMigrate

/// One run samples each Redis store once (``OpenMemo``): its later opens of the same address skip the
/// layout check and the check for writing, and a new run samples afresh. Shown by changing the keys
/// between two opens: a remembering opener does not look again, a new one refuses. Redis database 43
/// belongs to this suite.
@Suite(.serialized) struct OpenMemoTests {
    /// A google-adk-redis session (the address says community).
    static let adkRedisSession = #"SET session:app:u:s1 {"app_name":"app","user_id":"u","id":"s1","state":{},"events":[],"last_update_time":1700000000.0}"#

    /// Database 43 holding only `commands` (each `SET key value` or `HSET key field value…`).
    func database(_ commands: [String]) throws -> StoreAddress {
        try TestStores.redis(43, layout: .community, commands: commands)
    }

    func refused(_ open: () throws -> any SessionStore) -> String? {
        do {
            try open().close()
            return nil
        } catch {
            return String(describing: error)
        }
    }

    @Test func aRunChecksTheLayoutOnce() throws {
        guard TestStores.serversAvailable else { return }
        let address = try database([])
        let opener = StoreOpener().remembering()
        try opener.open(address, forWriting: false).close()
        // Now the keys say google-adk-redis, and the address says community.
        _ = try database([Self.adkRedisSession])
        #expect(refused { try opener.open(address, forWriting: false) } == nil)
        let fresh = refused { try StoreOpener().open(address, forWriting: false) }
        #expect(fresh?.contains("layout") == true, "\(fresh ?? "not refused")")
        #expect(refused { try StoreOpener().remembering().open(address, forWriting: false) } != nil)
    }

    @Test func aRunChecksATargetForWritingOnce() throws {
        guard TestStores.serversAvailable else { return }
        let address = try database([])
        let opener = StoreOpener().remembering()
        try opener.open(address, forWriting: true).close()
        // Another program's hashes under ADK's names, after the run's first check.
        _ = try database(["HSET session:web-1 user 42 cart 3"])
        #expect(refused { try opener.open(address, forWriting: true) } == nil)
        let fresh = refused { try StoreOpener().open(address, forWriting: true) }
        #expect(fresh != nil, "a new run wrote into another program's keys")
    }

    @Test func theMemoKeepsStoresApart() throws {
        let memo = OpenMemo()
        let a = StoreAddress.sqlite(SQLiteAddress(path: "/tmp/a.db", newFileLayout: .database))
        let b = StoreAddress.sqlite(SQLiteAddress(path: "/tmp/b.db", newFileLayout: .database))
        memo.remember(redisLayout: .community, of: a)
        memo.rememberCheckedForWriting(a)
        #expect(memo.redisLayout(a) == .community && memo.redisLayout(b) == nil)
        #expect(memo.wasCheckedForWriting(a) && !memo.wasCheckedForWriting(b))
    }
}
