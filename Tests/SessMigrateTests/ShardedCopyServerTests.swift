import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// Shards across processes against the real servers: N tasks (each its own `sessmigrate copy
/// --shard i/N` process, one after another) give the same target as one unsharded copy; every
/// store's pushed-down shard selection agrees with the Swift function on random keys; a shard
/// killed mid-copy and run again with the same index resumes from its checkpoint file.
/// Uses slots 5–9 (Redis databases 69–73, MySQL databases `smt_pairs_5…9_PID`).
@Suite(.serialized, .enabled(if: TestStores.serversAvailable && CLI.binary != nil, "needs the servers and the built binary"))
struct ShardedCopyServerTests {
    static let targets: [TestStores.Kind] = [.mysql, .redisCommunity, .redisADK, .sqliteSSS, .sqliteDSS]

    /// The address as a command-line argument (with its password, which `description` redacts).
    static func argument(_ address: StoreAddress) -> String {
        switch address {
        case .mysql(let m): "mysql://\(m.user):\(m.password ?? "")@\(m.host):\(m.port)/\(m.database)"
        case .redis(let r): "redis://\(r.host):\(r.port)/\(r.database)?layout=\(r.layout?.rawValue ?? "community")"
        case .sqlite(let s): "sqlite:///\(s.path)" + (s.newFileLayout == .database ? "?layout=database" : "")
        }
    }

    static func copy(_ source: String, _ target: StoreAddress, _ extra: [String] = [], environment: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["copy", source, argument(target), "--ttl-from", "now", "--batch-size", "4"] + extra, environment: environment)
    }

    @Test(arguments: targets)
    func shardedCopiesGiveTheSameTargetAsOneCopy(kind: TestStores.Kind) throws {
        let slot = 5 + (Self.targets.firstIndex(of: kind) ?? 0)
        defer { TestStores.dropMySQL(slots: slot..<(slot + 1)) }
        try withTemporaryDirectory { directory in
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(try ScaleData.sessions(45), to: source)
            let sourcePath = directory + "/source.db"
            try FileManager.default.createDirectory(atPath: directory + "/whole", withIntermediateDirectories: true)
            let whole = try TestStores.make(kind, slot: slot, directory: directory + "/whole")
            let single = try Self.copy(sourcePath, whole, ["--workers", "1"])
            #expect(single.status == 0, "\(single.stderr)")
            let expected = try ScaleData.dump(whole)
            #expect(expected.count > 45)
            for count in [1, 3, 7] {
                try FileManager.default.createDirectory(atPath: directory + "/n\(count)", withIntermediateDirectories: true)
                let target = try TestStores.make(kind, slot: slot, directory: directory + "/n\(count)")
                for index in 0..<count {
                    let task = try Self.copy(sourcePath, target, ["--shard", "\(index)/\(count)", "--workers", "3"])
                    #expect(task.status == 0, "\(kind) shard \(index)/\(count): \(task.stderr)")
                }
                #expect(try ScaleData.dump(target) == expected, "\(kind): \(count) shards")
            }
        }
    }

    /// Each store selects a shard where the data is (MySQL `CRC32`, SQLite's registered function, the
    /// id in a Redis key): on random ids with `:`, `{`, `}` and non-ASCII it returns exactly the
    /// sessions the Swift function puts in the shard, and a pool's sub-shards split it exactly.
    @Test(arguments: [TestStores.Kind.mysql, .redisCommunity, .redisADK, .sqliteSSS, .sqliteDSS])
    func everyStoreSelectsAShardAsTheSwiftFunctionDoes(kind: TestStores.Kind) throws {
        let slot = 5 + (Self.targets.firstIndex(of: kind) ?? 0)
        defer { TestStores.dropMySQL(slots: slot..<(slot + 1)) }
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(300, seed: 1_515)
            let address = try TestStores.make(kind, slot: slot, directory: directory)
            try write(sessions, to: address)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            for count in [2, 3, 7] {
                var seen = 0
                for index in 0..<count {
                    seen += try Self.expectSelection(store, try Shard(index: index, count: count), of: sessions, parts: 3, label: "\(kind)")
                }
                #expect(seen == sessions.count)
            }
        }
    }

    /// Expects `store` to return exactly the sessions of `shard` among `sessions`, and its split into
    /// `parts` sub-shards to return them too, each once; returns how many the shard holds.
    static func expectSelection(_ store: any SessionStore, _ shard: Shard, of sessions: [Session], parts: Int, label: String) throws -> Int {
        let keys = Set(try ScopePushdownTests.scan(store, SessionScope(shard: shard), batchSize: 16).keys)
        #expect(keys == Set(sessions.filter { shard.contains($0.key) }.map(\.key)), "\(label) \(shard.function) \(shard)")
        var union = Set<SessionKey>()
        for sub in try shard.split(into: parts) {
            let subKeys = Set(try ScopePushdownTests.scan(store, SessionScope(shard: sub), batchSize: 5).keys)
            #expect(union.isDisjoint(with: subKeys), "\(label) \(sub) overlaps")
            union.formUnion(subKeys)
        }
        #expect(union == keys, "\(label) sub-shards of \(shard.function) \(shard)")
        return keys.count
    }

    /// A shard killed after some batches and run again with the same command (same index, same
    /// `--checkpoint ${shard}` file) resumes from its checkpoint and ends identical to the source's
    /// shard; then the other shards complete the target.
    @Test(arguments: [TestStores.Kind.mysql, .redisCommunity])
    func aKilledShardResumesFromItsCheckpoint(kind: TestStores.Kind) throws {
        let slot = kind == .mysql ? 8 : 9
        defer { TestStores.dropMySQL(slots: slot..<(slot + 1)) }
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(60)
            try write(sessions, to: WorkerPoolTests.sqlite(directory, "source"))
            let source = directory + "/source.db"
            let target = try TestStores.make(kind, slot: slot, directory: directory)
            let task = ["JOB_COMPLETION_INDEX": "1"]
            let arguments = ["--shard", "auto/3", "--workers", "2", "--checkpoint", directory + "/copy-${shard}.json"]
            let killed = try Self.copy(source, target, arguments, environment: task.merging(["SESSMIGRATE_TEST_KILL_AFTER_BATCHES": "3"]) { $1 })
            #expect(killed.status == SIGKILL, "\(killed.stderr)")
            #expect(FileManager.default.fileExists(atPath: directory + "/copy-1.json"))
            let again = try Self.copy(source, target, arguments + ["--format", "json"], environment: task)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("resuming from the checkpoint in \(directory)/copy-1.json"), "\(again.stderr)")
            let shard = try Shard(index: 1, count: 3)
            let inShard = sessions.filter { shard.contains($0.key) }
            #expect(again.stdout.contains("\"sessions_read\": \(inShard.count)"), "the counts go on from the checkpoint: \(again.stdout)")
            #expect(Set(try readAll(target).keys) == Set(inShard.map(\.key)), "only shard 1/3, all of it")
            let verify = try CLI.run(["verify", source, Self.argument(target), "--shard", "1/3"])
            #expect(verify.status == 0, "\(verify.stdout)")
            for index in [0, 2] { #expect(try Self.copy(source, target, ["--shard", "\(index)/3"]).status == 0) }
            #expect(try CLI.run(["verify", source, Self.argument(target)]).status == 0)
        }
    }
}
