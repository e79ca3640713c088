import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// The `slots` shard function in every store against the real servers: MySQL (judged on each row),
/// SQLite (`sessmigrate_slot` in SQL) and a standalone Redis (the key's slot, or the session) select
/// exactly the sessions the Swift function puts in a shard, for every key form, and sub-shards split
/// it exactly; `--shard-by` on the command line. Uses slots 50–54 (Redis databases 114–118).
@Suite(.serialized, .enabled(if: TestStores.serversAvailable, "needs SESSMIGRATE_MYSQL_URL and SESSMIGRATE_REDIS_URL"))
struct SlotShardServerTests {
    static let kinds: [TestStores.Kind] = [.mysql, .redisCommunity, .redisADK, .sqliteSSS, .sqliteDSS]

    /// Sessions with `:`, `{`, `}`, `{}` and non-ASCII in ids, apps and users (hash tags included).
    static func sessions() throws -> [Session] {
        var sessions = try ScaleData.sessions(240, seed: 2_024)
        for (index, (app, user, id)) in [("{}", "{}", "{}"), ("a{b}c", "", "x{y}"), ("{", "}", "{}{a}"), ("ü", "🦆{", "é:}")].enumerated() {
            var session = sessions[index]
            session.key = SessionKey(appName: app, userId: user, sessionId: id)
            sessions.append(session)
        }
        return sessions
    }

    @Test(arguments: kinds)
    func everyStoreSelectsASlotsShardAsTheSwiftFunctionDoes(kind: TestStores.Kind) throws {
        let slot = 50 + (Self.kinds.firstIndex(of: kind) ?? 0)
        defer { TestStores.dropMySQL(slots: slot..<(slot + 1)) }
        try withTemporaryDirectory { directory in
            let sessions = try Self.sessions()
            let address = try TestStores.make(kind, slot: slot, directory: directory)
            try write(sessions, to: address)
            let store = try StoreOpener().open(address, forWriting: false)
            defer { try? store.close() }
            for form in ShardKeyForm.allCases {
                for count in [3, 7] {
                    var seen = 0
                    for index in 0..<count {
                        let shard = try Shard(index: index, count: count, function: .slots(form))
                        seen += try ShardedCopyServerTests.expectSelection(store, shard, of: sessions, parts: 2, label: "\(kind)")
                    }
                    #expect(seen == sessions.count, "\(kind) \(form) \(count) shards")
                }
            }
        }
    }

    /// `--shard-by`: `slots` needs a Redis source; reports name their function, and `verify --combine`
    /// refuses reports of two functions while combining a whole `slots` split.
    @Test func shardByOnTheCommandLine() throws {
        defer { TestStores.dropMySQL(slots: 55..<56) }
        try withTemporaryDirectory { directory in
            let redis = try TestStores.make(.redisCommunity, slot: 55, directory: directory)
            try write(try Self.sessions(), to: redis)
            let source = ShardedCopyServerTests.argument(redis)
            let copy = directory + "/copy.db"
            #expect(try CLI.run(["copy", source, copy]).status == 0)
            let refused = try CLI.run(["copy", copy, directory + "/other.db", "--shard", "0/2", "--shard-by", "slots"])
            #expect(refused.status == 64 && refused.stderr.contains("--shard-by slots needs a Redis source"), "\(refused.stderr)")
            #expect(try CLI.run(["copy", source, copy, "--shard-by", "slots"]).status == 64, "shard_by without shard")
            func report(_ name: String, _ extra: [String]) throws -> String {
                let path = "\(directory)/\(name).json"
                let run = try CLI.run(["verify", source, copy, "--format", "json"] + extra)
                try run.stdout.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let slots = try (0..<3).map { try report("s\($0)", ["--shard", "\($0)/3", "--shard-by", "slots"]) }
            let text = try String(contentsOfFile: slots[0], encoding: .utf8)
            #expect(text.contains(#""shard": "0/3""#) && text.contains(#""shard_by": "slots:session:{id}""#), "\(text)")
            let ids = try (0..<3).map { try report("i\($0)", ["--shard", "\($0)/3"]) }
            #expect(!(try String(contentsOfFile: ids[0], encoding: .utf8)).contains("shard_by"), "auto on a standalone server is id")
            let combined = try CLI.run(["verify", "--combine"] + slots)
            #expect(combined.status == 0 && combined.stdout.hasPrefix("verify: IDENTICAL  (3 shards of"), "\(combined.stdout)\(combined.stderr)")
            #expect(try CLI.run(["verify", "--combine"] + ids).status == 0)
            let mixed = try CLI.run(["verify", "--combine", slots[0], ids[1], slots[2]])
            #expect(mixed.status == 2 && mixed.stderr.contains("different shard functions"), "\(mixed.stderr)")
        }
    }
}
