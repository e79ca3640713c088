import DriverCore
import SessionModel

/// Pages through `sessions` by key (keyset pagination), loading one page of whole sessions at a
/// time. Its resume token is the keyset token of the last session returned.
final class SQLitePagedCursor: SessionCursor {
    private let tables: SQLiteSessionTables
    private let batchSize: Int
    private var page: [Session] = []
    private var position = 0
    private var lastKey: SessionKey?
    private var finished = false
    private let startToken: String?
    private var lastReturned: SessionKey?
    private var bad: BadSessionLog
    private var skipped: [SkippedSession] = []

    init(tables: SQLiteSessionTables, batchSize: Int, after: SessionKey?, token: String?, skipBad: Bool = false) {
        self.bad = BadSessionLog(skipBad: skipBad)
        self.tables = tables
        self.batchSize = max(1, batchSize)
        self.lastKey = after
        self.startToken = token
    }

    var resumeToken: String? { lastReturned.map(ResumeToken.keyset(after:)) ?? startToken }

    func takeSkipped() -> [SkippedSession] {
        defer { skipped.removeAll() }
        return skipped
    }

    /// Sessions recorded as bad while their page loaded are passed over (and reported); the
    /// token covers them like returned ones.
    func next() throws -> Session? {
        while true {
            if position == page.count {
                guard !finished else { return nil }
                var log = BadSessionLog(skipBad: bad.skipBad)
                page = try tables.fetchPage(after: lastKey, limit: batchSize, bad: &log)
                bad = log
                position = 0
                finished = page.count < batchSize
                guard let last = page.last else { return nil }
                lastKey = last.key
            }
            let session = page[position]
            position += 1
            lastReturned = session.key
            guard let skip = bad.skipped(session.key) else { return session }
            skipped.append(skip)
        }
    }
}

@available(*, unavailable)
extension SQLitePagedCursor: Sendable {}
