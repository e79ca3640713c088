import DriverCore
import Foundation
import MySQLDriver
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// copy, restore and snapshot refuse a target that is the source store under another name: a path
/// through `..` or a symlink, `localhost` for `127.0.0.1` with another user, another host name for
/// the same Redis server. Nothing is written into the refused target.
@Suite struct SameStoreTests {
    func sqlite(_ path: String) -> StoreAddress { .sqlite(SQLiteAddress(path: path, newFileLayout: .database)) }

    func expectSameStoreRefusal(_ body: () throws -> Void) {
        let error = #expect(throws: AddressError.self) { try body() }
        #expect(error?.message.contains("same store") == true || error?.message.contains("itself") == true, "\(String(describing: error))")
    }

    @Test func sqliteFileUnderAnotherPath() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/a.db"
            try write(try sampleSessions(), to: sqlite(path))
            try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: directory + "/link.db", withDestinationPath: path)
            let before = try Data(contentsOf: URL(fileURLWithPath: path))
            for other in [directory + "/./a.db", directory + "/sub/../a.db", directory + "//a.db", directory + "/link.db"] {
                expectSameStoreRefusal { _ = try CopyJob(source: sqlite(path), target: sqlite(other), options: CopyRequest()).run() }
                expectSameStoreRefusal { _ = try CopyJob(source: sqlite(other), target: sqlite(path), options: CopyRequest()).run() }
                var dryRun = CopyRequest()
                dryRun.dryRun = true
                expectSameStoreRefusal { _ = try CopyJob(source: sqlite(path), target: sqlite(other), options: dryRun).run() }
                expectSameStoreRefusal { _ = try SnapshotJob(source: sqlite(other), path: path, force: true).run() }
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
            // A different file is fine.
            _ = try CopyJob(source: sqlite(path), target: sqlite(directory + "/b.db"), options: CopyRequest()).run()
        }
    }

    @Test func restoreIntoItsOwnSnapshotUnderAnotherPath() throws {
        try withTemporaryDirectory { directory in
            try write(try sampleSessions(), to: sqlite(directory + "/src.db"))
            let snapshot = directory + "/snap.db"
            _ = try SnapshotJob(source: sqlite(directory + "/src.db"), path: snapshot, force: false).run()
            try FileManager.default.createSymbolicLink(atPath: directory + "/alias.db", withDestinationPath: snapshot)
            let before = try Data(contentsOf: URL(fileURLWithPath: snapshot))
            for other in [directory + "/alias.db", directory + "/./snap.db"] {
                expectSameStoreRefusal { _ = try RestoreJob(path: snapshot, target: sqlite(other), options: CopyRequest()).run() }
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: snapshot)) == before)
        }
    }
}

/// The same checks against the servers: MySQL over TCP and over the socket as another user,
/// Redis by another host name. Redis database 41 belongs to these tests.
@Suite(
    .serialized,
    .enabled(
        if: TestStores.serversAvailable && TestStores.environment["SESSMIGRATE_MYSQL_ROOT_SOCKET"] != nil,
        "needs SESSMIGRATE_MYSQL_URL, SESSMIGRATE_REDIS_URL and SESSMIGRATE_MYSQL_ROOT_SOCKET"))
struct SameServerStoreTests {
    /// `dump`: the same store by an address `TestStores.rawDump` can reach (TCP).
    func expectSameStoreRefusal(_ source: StoreAddress, _ target: StoreAddress, dump: StoreAddress? = nil) throws {
        let before = try TestStores.rawDump(dump ?? target)
        let error = #expect(throws: AddressError.self) { _ = try CopyJob(source: source, target: target, options: CopyRequest()).run() }
        #expect(error?.message.contains("are the same store") == true, "\(String(describing: error))")
        #expect(try TestStores.rawDump(dump ?? target) == before)
    }

    @Test func mysqlOverTheSocketAsAnotherUser() throws {
        defer { TestStores.dropMySQL(slots: 40..<42) }
        try withTemporaryDirectory { directory in
            guard case .mysql(let tcp) = try TestStores.make(.mysql, slot: 40, directory: directory) else { return }
            try write(try sampleSessions(), to: .mysql(tcp))
            let socket = try #require(TestStores.environment["SESSMIGRATE_MYSQL_ROOT_SOCKET"])
            let viaSocket = MySQLAddress(host: "localhost", port: 3306, user: "root", password: nil, database: tcp.database, socket: socket)
            try expectSameStoreRefusal(.mysql(tcp), .mysql(viaSocket), dump: .mysql(tcp))
            try expectSameStoreRefusal(.mysql(viaSocket), .mysql(tcp))
            // Another database on the same server is another store.
            guard case .mysql(let other) = try TestStores.make(.mysql, slot: 41, directory: directory) else { return }
            let summary = try CopyJob(source: .mysql(viaSocket), target: .mysql(other), options: CopyRequest()).run()
            #expect(summary.total.written == (try sampleSessions()).count)
        }
    }

    @Test func redisByAnotherHostName() throws {
        guard
            case .redis(var address) = try StoreAddress.parse(
                try #require(TestStores.environment["SESSMIGRATE_REDIS_URL"]), environment: BotEnvironment(variables: [:]))
        else { return }
        (address.database, address.layout) = (41, .community)
        let admin = try RedisConnection.open(host: address.host, port: address.port, options: RedisConnectionOptions(database: 41))
        defer { admin.close() }
        _ = try admin.command(["FLUSHDB"])
        defer { _ = try? admin.command(["FLUSHDB"]) }
        var sessions = try sampleSessions()
        for index in sessions.indices { sessions[index].expiry = .never }
        try write(sessions, to: .redis(address))
        var alias = address
        alias.host = address.host == "127.0.0.1" ? "localhost" : "127.0.0.1"
        alias.ttlSeconds = 60  // another spelling of the address, not another store
        try expectSameStoreRefusal(.redis(address), .redis(alias))
        #expect(try StoreOpener().identify(.redis(alias)) == (try StoreOpener().identify(.redis(address))))
    }
}
