import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// `diff` and `verify` in passes (bounded memory) find exactly what one pass finds.
@Suite struct ComparisonPassesTests {
    @Test func passCountFollowsTheLargerSide() throws {
        #expect(ComparisonPasses(shard: nil, largestSide: nil, sessionsPerPass: 10).count == 1)
        #expect(ComparisonPasses(shard: nil, largestSide: 0, sessionsPerPass: 10).count == 1)
        #expect(ComparisonPasses(shard: nil, largestSide: 10, sessionsPerPass: 10).count == 1)
        #expect(ComparisonPasses(shard: nil, largestSide: 11, sessionsPerPass: 10).count == 2)
        #expect(ComparisonPasses(shard: nil, largestSide: 1_000_000, sessionsPerPass: 250_000).count == 4)
        // Never more sub-shards than the shard limit allows, and then no limit to trip.
        let capped = ComparisonPasses(shard: try Shard(index: 3, count: 500_000), largestSide: 1_000_000, sessionsPerPass: 1)
        #expect(capped.count == 2 && capped.tableLimit == nil)
        #expect(capped.more().count == 2)
        let passes = ComparisonPasses(shard: nil, largestSide: nil, sessionsPerPass: 7)
        #expect(passes.tableLimit == 14 && passes.more().count == 4 && passes.more().more().count == 16)
        // Tables start with room for their share when a store counted (no rehash near the end).
        #expect(passes.tableBounds == TableBounds(reserve: nil, limit: 14))
        #expect(ComparisonPasses(shard: nil, largestSide: 1000, sessionsPerPass: 250).tableBounds == TableBounds(reserve: 291, limit: 500))
        #expect(ComparisonPasses(shard: nil, largestSide: 1000, sessionsPerPass: 250).more().tableBounds.reserve == 84)
    }

    @Test func passesPartitionTheScopesShard() throws {
        let all = try ComparisonPasses(shard: nil, largestSide: 30, sessionsPerPass: 10).shards()
        #expect(all.map { $0?.description } == ["0/3", "1/3", "2/3"])
        #expect(try ComparisonPasses(shard: nil, largestSide: 3, sessionsPerPass: 10).shards() == [nil])
        // Either shard function: the passes of shard 1/4 hold exactly its sessions, each once.
        for function in [ShardFunction.sessionId, .slots(.appUserSessionId)] {
            let shard = try Shard(index: 1, count: 4, function: function)
            let split = try ComparisonPasses(shard: shard, largestSide: 25, sessionsPerPass: 10).shards().compactMap { $0 }
            #expect(split.count == 3 && split.allSatisfy { $0.function == function })
            for id in (0..<2000).map({ $0 % 10 == 0 ? "s-\($0)-{x}" : "s-\($0)-ü:" }) {
                let key = SessionKey(appName: "app", userId: "u\(id.count)", sessionId: id)
                let holders = split.filter { $0.contains(key) }
                #expect(holders.count == (shard.contains(key) ? 1 : 0), "\(function) \(id)")
            }
        }
    }

    /// 60 sessions in A; B lacks 5, has 4 of its own, 6 with another state and 3 with another event.
    func stores(_ directory: String, _ kindA: TestStores.Kind, _ kindB: TestStores.Kind) throws -> (StoreAddress, StoreAddress) {
        let a = try TestStores.make(kindA, slot: 10, directory: directory)
        let b = try TestStores.make(kindB, slot: 11, directory: directory)
        let base = 1_800_000_000.0
        func session(_ id: String, state: String = "x", text: String = "hi") throws -> Session {
            let event = try Event(data: [
                "id": .string("e-\(id)"), "invocation_id": .string("i"), "timestamp": .number(JSONNumber(base)), "author": .string("user"),
                "content": .object(["parts": .array([.object(["text": .string(text)])])]),
            ])
            return Session(
                key: SessionKey(appName: "app", userId: "u\(id.count % 3)", sessionId: id), state: ["s": .string(state)], events: [event],
                lastUpdateTime: base)
        }
        let ids = (0..<60).map { "s\($0):{é}" }
        try write(try ids.map { try session($0) }, to: a)
        var inB = try ids.dropFirst(5).map { try session($0) }
        for index in 0..<6 { inB[index * 7] = try session(inB[index * 7].key.sessionId, state: "other") }
        for index in 0..<3 { inB[index * 7 + 3] = try session(inB[index * 7 + 3].key.sessionId, text: "other") }
        inB += try (0..<4).map { try session("b-only-\($0)") }
        try write(inB, to: b)
        return (a, b)
    }

    /// The summary, the differences, the notes, and the sessions both sides read (the last progress
    /// line): each pass reads its share only, so the passes together read each session once.
    func diff(_ a: StoreAddress, _ b: StoreAddress, sessionsPerPass: Int) throws -> (DiffSummary, [SessionDifference], [String]) {
        var engine = DiffEngine(batchSize: 4, detailed: true)
        engine.sessionsPerPass = sessionsPerPass
        var found: [SessionDifference] = []
        var notes: [String] = []
        var read = 0
        let (summary, _, _) = try DiffJob(a: a, b: b, engine: engine).run(events: { event in
            if case .note(let text) = event { notes.append(text) }
            if case .advanced(let counts) = event { read = counts.sessions }
        }) { found.append($0) }
        #expect(read == summary.sessionsInA + summary.sessionsInB, "sessions read in \(summary.passes) passes")
        return (summary, found, notes)
    }

    func expectSame(_ one: DiffSummary, _ many: DiffSummary) {
        #expect(one.sessionsInA == 60 && one.sessionsInB == 59 && one.onlyInA == 5 && one.onlyInB == 4 && one.changed == 9, "\(one)")
        for path in [\DiffSummary.sessionsInA, \.sessionsInB, \.eventsInA, \.eventsInB, \.identical, \.onlyInA, \.onlyInB, \.changed] {
            #expect(one[keyPath: path] == many[keyPath: path], "\(path)")
        }
    }

    /// SQLite counts its sessions: the passes are planned from the count.
    @Test func plannedPassesFindWhatOnePassFinds() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = try stores(directory, .sqliteSSS, .sqliteDSS)
            let (one, foundOne, _) = try diff(a, b, sessionsPerPass: 1000)
            let (many, foundMany, notes) = try diff(a, b, sessionsPerPass: 8)
            #expect(one.passes == 1 && many.passes == 8 && notes.isEmpty)
            expectSame(one, many)
            #expect(foundOne == foundMany)  // the same differences, details and order
        }
    }

    /// Redis does not count its sessions: a pass that outgrows its limit starts the comparison over
    /// in more passes, and nothing of the abandoned attempt is reported.
    @Test(.enabled(if: TestStores.serversAvailable, "needs SESSMIGRATE_REDIS_URL"))
    func passesGrowWhenTheStoresCannotCount() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = try stores(directory, .redisCommunity, .redisADK)
            let (one, foundOne, _) = try diff(a, b, sessionsPerPass: 1000)
            let (many, foundMany, notes) = try diff(a, b, sessionsPerPass: 5)
            #expect(one.passes == 1 && many.passes >= 16, "\(many.passes)")
            #expect(notes.contains { $0.contains("comparing again in 4 passes") }, "\(notes)")
            expectSame(one, many)
            #expect(foundOne == foundMany)
        }
    }

    @Test func containmentInPassesFindsWhatOnePassFinds() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = try stores(directory, .sqliteSSS, .sqliteDSS)
            func check(_ sessionsPerPass: Int) throws -> ContainmentSummary {
                var engine = ContainmentEngine(batchSize: 4)
                engine.sessionsPerPass = sessionsPerPass
                return try DiffJob(a: a, b: b, engine: DiffEngine(detailed: false)).contains(engine)
            }
            let one = try check(1000)
            let many = try check(8)
            #expect(one.passes == 1 && many.passes == 8)
            // A state value of its own in B is contained (B's state is newer); the 5 missing sessions and
            // the 3 events with other content are not.
            #expect(one.sessionsInA == 60 && one.contained == 52 && one.onlyInB == 4 && one.failures.count == 8, "\(one)")
            #expect(many.sessionsInA == one.sessionsInA && many.contained == one.contained && many.onlyInB == one.onlyInB)
            #expect(Set(many.failures.items) == Set(one.failures.items))
        }
    }
}

/// `--pass-size` through the built binary.
@Suite(.enabled(if: CLI.binary != nil, "the sessmigrate binary is built beside the test bundle"))
struct ComparisonPassesCommandLineTests {
    @Test func passSizeSplitsVerifyAndDiff() throws {
        try withTemporaryDirectory { directory in
            let (source, _) = try ScaleCommandLineTests.source(directory)
            let target = directory + "/target.db"
            #expect(try CLI.run(["copy", source, target]).status == 0)
            let one = try CLI.run(["verify", source, target])
            #expect(one.status == 0 && one.stdout.contains("40 identical") && !one.stdout.contains("passes"), "\(one.stdout)")
            let many = try CLI.run(["verify", source, target, "--pass-size", "7"])
            #expect(many.status == 0 && many.stdout.contains("40 identical") && many.stdout.contains(", 6 passes)"), "\(many.stdout)")
            let contained = try CLI.run(["verify", source, target, "--contains", "--pass-size", "7", "--format", "json"])
            #expect(contained.status == 0, "\(contained.stdout)\(contained.stderr)")
            let diff = try CLI.run(["diff", source, target, "--pass-size", "7"])
            #expect(diff.status == 0 && diff.stdout.contains(", 6 passes)"), "\(diff.stdout)")
            let zero = try CLI.run(["verify", source, target, "--pass-size", "0"])
            #expect(zero.status == 64 && zero.stderr.contains("--pass-size must be at least 1"), "\(zero.stderr)")
        }
    }
}
