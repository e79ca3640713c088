import DriverCore
import SessionModel
import Testing

@testable import SessMigrate

/// The `slots` shard function without stores: random keys, every key form.
@Suite struct SlotShardTests {
    static let counts = [1, 2, 3, 7, 16, 16384, 20000]

    /// Random names over an alphabet of the characters that matter to keys and hash tags.
    static func keys(_ count: Int, seed: UInt64) -> [SessionKey] {
        var generator = SeededRandom(seed: seed)
        let alphabet = Array("ab:{}{}[]*? ü🦆é-_.09")
        func name() -> String {
            switch Int.random(in: 0..<8, using: &generator) {
            case 0: return ""
            case 1: return "{}"
            case 2: return "{" + String(Int.random(in: 0..<50, using: &generator)) + "}"
            default:
                return String((0..<Int.random(in: 1...10, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" })
            }
        }
        return (0..<count).map { _ in SessionKey(appName: name(), userId: name(), sessionId: name()) }
    }

    /// Every key is in exactly one shard of N, the one whose slot range holds its key's slot. For
    /// large N every shard is asked about the key's slot (integer work); small N ask every shard
    /// about the whole key.
    @Test(arguments: ShardKeyForm.allCases) func everyKeyIsInExactlyItsSlotRangesShard(form: ShardKeyForm) throws {
        let keys = Self.keys(300, seed: 11)
        for count in Self.counts {
            let shards = try (0..<count).map { try Shard(index: $0, count: count, function: .slots(form)) }
            let ranges = shards.map(\.slotRange)
            #expect(ranges.reduce(0) { $0 + $1.count } == RedisHashSlot.count, "\(count) shards cover every slot once")
            for key in count <= 64 ? keys : Array(keys.prefix(40)) {
                let slot = RedisHashSlot.slot(of: form.key(key))
                let bySlot = shards.indices.filter { shards[$0].contains(slot: slot) }
                let byRange = ranges.indices.filter { ranges[$0].contains(slot) }
                #expect(bySlot.count == 1 && bySlot == byRange, "\(key) in \(count) shards: \(bySlot) by slot, \(byRange) by range")
                if count <= 64 {
                    #expect(shards.indices.filter { shards[$0].contains(key) } == bySlot, "\(key) in \(count) shards")
                } else if let holder = bySlot.first {
                    #expect(shards[holder].contains(key))
                }
            }
        }
    }

    /// Slot ranges are contiguous, in order, and exactly the slots `contains(slot:)` accepts.
    @Test func slotRangesAreTheShardsSlots() throws {
        for count in Self.counts {
            var next = 0
            for index in stride(from: 0, to: count, by: max(1, count / 97)) {
                let shard = try Shard(index: index, count: count, function: .slots(.sessionId))
                let range = shard.slotRange
                if count <= RedisHashSlot.count { #expect(!range.isEmpty) }
                #expect(range.lowerBound >= next || index == 0)
                next = range.upperBound
                for slot in [range.lowerBound - 1, range.lowerBound, range.upperBound - 1, range.upperBound] where (0..<RedisHashSlot.count).contains(slot) {
                    #expect(shard.contains(slot: slot) == range.contains(slot), "slot \(slot) in \(shard) of \(count)")
                }
            }
        }
        let shard = try Shard(index: 3, count: 7, function: .slots(.sessionId))
        #expect(Array(0..<RedisHashSlot.count).filter(shard.contains(slot:)) == Array(shard.slotRange))
    }

    /// Sub-shards of a slots shard partition it, contiguously: part k of shard j of M is shard j·N + k.
    @Test func subShardsPartitionTheirShard() throws {
        let keys = Self.keys(600, seed: 5)
        for (index, count) in [(0, 1), (2, 5), (6, 7), (1, 3), (999, 1000), (16383, 16384)] {
            let shard = try Shard(index: index, count: count, function: .slots(.appUserSessionId))
            for parts in [1, 2, 3, 7] {
                let subShards = try shard.split(into: parts)
                #expect(subShards.map(\.index) == (0..<parts).map { index * parts + $0 })
                #expect(subShards.allSatisfy { $0.count == count * parts && $0.function == shard.function })
                #expect(subShards.first?.slotRange.lowerBound == shard.slotRange.lowerBound || shard.slotRange.isEmpty)
                var union: [Int] = []
                for sub in subShards { union += Array(sub.slotRange) }
                #expect(union == Array(shard.slotRange), "\(shard) of \(count) split into \(parts)")
                for key in keys {
                    let holders = subShards.filter { $0.contains(key) }.count
                    #expect(holders == (shard.contains(key) ? 1 : 0), "\(key) in \(shard) split into \(parts)")
                }
            }
        }
    }

    /// The id-only key form judges from the id alone; the others need app and user.
    @Test func idAloneDecidesOnlyForTheCommunityForm() throws {
        let key = SessionKey(appName: "a", userId: "u", sessionId: "s{1}")
        let community = try Shard(index: 0, count: 3, function: .slots(.sessionId))
        #expect(community.contains(sessionId: key.sessionId) == community.contains(key))
        #expect(try Shard(index: 0, count: 3, function: .slots(.appUser)).contains(sessionId: "s") == nil)
        #expect(try Shard(index: 0, count: 3, function: .slots(.appUserSessionId)).contains(sessionId: "s") == nil)
        #expect(try Shard(index: 0, count: 3).contains(sessionId: "s") != nil)
    }

    @Test func functionsAreNamedAndParsed() throws {
        for function in [ShardFunction.sessionId] + ShardKeyForm.allCases.map(ShardFunction.slots) {
            #expect(try ShardFunction(parsing: function.description) == function)
        }
        #expect(ShardFunction.slots(.appUserSessionId).description == "slots:session:{app}:{user}:{id}")
        #expect(throws: ShardError.self) { try ShardFunction(parsing: "slots:session:{x}") }
        #expect(try Shard(parsing: "3/16", function: .slots(.sessionId)).description == "3/16")
    }

    /// A checkpoint records its shard's function; one of another function is not resumed (its
    /// cursor walked other sessions): the copy starts over, saying so, and copies the whole shard.
    @Test func aCheckpointOfAnotherFunctionStartsOver() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(40)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let slots = try Shard(index: 0, count: 2, function: .slots(.appUserSessionId))
            var request = CopyRequest(batchSize: 3)
            request.scope.shard = slots
            let from = try StoreOpener().open(source, forWriting: false)
            defer { try? from.close() }
            let first = try StoreOpener().open(WorkerPoolTests.sqlite(directory, "first"), forWriting: true)
            defer { try? first.close() }
            var saved: CopyCheckpoint?
            _ = try CopyEngine(request: request).run(from: from, to: first, checkpoint: { saved = $0 })
            let point = try CopyCheckpoint(json: try #require(saved).json())
            #expect(point.shardFunction == slots.function && point.json()["shard_by"] == .string("slots:session:{app}:{user}:{id}"))
            #expect(try CopyCheckpoint(json: CopyCheckpoint(cursor: nil, summary: CopySummary()).json()).shardFunction == .sessionId)
            let byId = try Shard(index: 0, count: 2)
            request.scope.shard = byId
            let second = try StoreOpener().open(WorkerPoolTests.sqlite(directory, "second"), forWriting: true)
            defer { try? second.close() }
            var notes: [String] = []
            let summary = try CopyEngine(request: request).run(
                from: from, to: second, resume: point,
                events: { event in
                    if case .note(let text) = event { notes.append(text) }
                })
            #expect(notes.contains { $0.contains("made for shard function slots:session:{app}:{user}:{id}") }, "\(notes)")
            #expect(summary.total.read == sessions.filter { byId.contains($0.key) }.count)
            let worker = WorkerCheckpoint(shard: slots, checkpoint: point)
            #expect(try WorkerCheckpoint(json: worker.json(), index: 0) == worker, "a worker's shard keeps its function")
        }
    }
}
