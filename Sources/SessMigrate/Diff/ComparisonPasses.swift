import DriverCore

/// How `diff` and `verify` keep their memory bounded: the sessions compared are split into passes
/// by the shard function, and each pass holds the fingerprints of its share only.
///
/// A comparison holds a table of every session's fingerprint (about 300 bytes a session and side:
/// the key's strings, the fingerprint, a dictionary slot); a million sessions took 656 MiB. With
/// passes, pass `i` of `K` compares the sessions of sub-shard `i` of the scope's shard (all
/// sessions: `0/1`, split with ``Shard/split(into:)``), pushed down to both stores as a copy's
/// workers are. A session is in the same pass in both stores (the shard is a function of its key),
/// so the passes together compare exactly what one pass would. Each extra pass reads the session
/// rows (MySQL, SQLite) or keys (Redis `SCAN`) again, never another pass's events or blobs.
///
/// `K` is the larger side's session count over ``sessionsPerPass``, when a store counts cheaply
/// (MySQL, SQLite). When neither does (Redis), or the counts were wrong (the bot writes), a pass
/// whose table outgrows ``tableLimit`` stops the comparison, which starts over with 4 × `K` passes
/// (``more()``): nothing is reported by an abandoned attempt.
struct ComparisonPasses: Sendable, Hashable {
    /// Sessions of one side a pass is meant to hold.
    static let defaultSessionsPerPass = 250_000

    /// The shard the comparison's scope names (all sessions: `0/1`).
    let shard: Shard?
    let count: Int
    let sessionsPerPass: Int
    /// The larger side's count, when a store counted.
    let largestSide: Int?

    init(shard: Shard?, largestSide: Int?, sessionsPerPass: Int) {
        let perPass = max(1, sessionsPerPass)
        self.shard = shard
        self.sessionsPerPass = perPass
        self.largestSide = largestSide
        let wanted = largestSide.map { ($0 + perPass - 1) / perPass } ?? 1
        count = min(max(1, wanted), Self.maxCount(shard))
    }

    private init(shard: Shard?, count: Int, sessionsPerPass: Int, largestSide: Int?) {
        self.shard = shard
        self.count = count
        self.sessionsPerPass = sessionsPerPass
        self.largestSide = largestSide
    }

    /// The most passes the shard can be split into (``Shard/maxCount`` sub-shards in all).
    private static func maxCount(_ shard: Shard?) -> Int { Shard.maxCount / (shard?.count ?? 1) }

    /// The shard of each pass, in order; `[shard]` (possibly `nil`: everything) for one pass.
    func shards() throws(ShardError) -> [Shard?] {
        guard count > 1 else { return [shard] }
        let whole: Shard
        if let shard { whole = shard } else { whole = try Shard(index: 0, count: 1) }
        return try whole.split(into: count).map { $0 }
    }

    /// `scope` narrowed to each pass's shard, in order.
    func scopes(of scope: SessionScope) throws(ShardError) -> [SessionScope] {
        try shards().map { shard in
            var narrowed = scope
            narrowed.shard = shard
            return narrowed
        }
    }

    /// `attempt` with these passes and, each time a pass outgrows its table (``PassTooLarge``),
    /// again with ``more()`` passes after `startingOver(tooLarge, from, to)`; returns the passes of
    /// the attempt that completed and its result.
    func run<Result>(
        startingOver: (PassTooLarge, ComparisonPasses, ComparisonPasses) -> Void, _ attempt: (ComparisonPasses) throws -> Result
    ) throws -> (ComparisonPasses, Result) {
        var passes = self
        while true {
            do {
                return (passes, try attempt(passes))
            } catch let tooLarge as PassTooLarge {
                let next = passes.more()
                startingOver(tooLarge, passes, next)
                passes = next
            }
        }
    }

    /// The most sessions a pass's table of one side may hold before the passes are judged too few:
    /// twice the share a pass is meant to hold, so that the uneven shares of a hash never trip it;
    /// `nil` once no more passes can be made.
    var tableLimit: Int? { count < Self.maxCount(shard) ? 2 * sessionsPerPass : nil }

    /// The sizes a pass's table of one side is given: room for its expected share (a tenth more, so
    /// the table is not rehashed into twice its size, briefly holding both, near the end) when a
    /// store counted, and ``tableLimit``.
    var tableBounds: TableBounds {
        TableBounds(reserve: largestSide.map { min($0 / count + $0 / count / 10 + 16, 2 * sessionsPerPass) }, limit: tableLimit)
    }

    /// Four times as many passes (at most the shard limit allows).
    func more() -> ComparisonPasses {
        ComparisonPasses(shard: shard, count: min(count * 4, Self.maxCount(shard)), sessionsPerPass: sessionsPerPass, largestSide: largestSide)
    }
}

/// How large a pass's table of one side starts (`reserve`) and may grow (`limit`); `nil`: unknown,
/// unlimited.
struct TableBounds: Sendable, Hashable {
    var reserve: Int?
    var limit: Int?
}

/// Thrown by a side's scan when its table outgrew ``ComparisonPasses/tableLimit``.
struct PassTooLarge: Error {
    let sessions: Int
}

extension Array where Element: Hashable {
    /// The elements without repeats, in the order of their first appearance.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
