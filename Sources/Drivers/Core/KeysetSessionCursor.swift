import SessionModel

/// Streams a SQL store's sessions one page (`batchSize` whole sessions) at a time, in key order
/// (keyset pagination: each page starts after the last key of the one before). Its resume token
/// is the keyset token (``ResumeToken``) of the last session returned, so a resumed scan repeats
/// nothing. Sessions the page loader recorded as bad are passed over and reported through
/// ``takeSkipped()``; the token covers them like returned ones.
///
/// The page loader narrows its query to the scope as far as its store can; the cursor checks every
/// loaded session against the scope exactly (names compared as exact text, whatever the database
/// collation), so only sessions in scope are returned. A bad session is reported when its key is in
/// scope (its time cannot be trusted; the store's query already applied the time bounds).
public final class KeysetSessionCursor: SessionCursor {
    /// Loads the whole sessions after `after` (all from the start when `nil`), at most `limit`,
    /// recording bad ones in `bad` (or throwing, when it does not skip).
    public typealias PageLoader = (_ after: SessionKey?, _ limit: Int, _ bad: inout BadSessionLog) throws -> [Session]

    private let loadPage: PageLoader
    private let batchSize: Int
    private let scope: SessionScope
    private var page: [Session] = []
    private var position = 0
    private var lastKey: SessionKey?
    private var isFinished: Bool
    private let startToken: String?
    private var lastReturned: SessionKey?
    private var bad: BadSessionLog
    private var skipped: [SkippedSession] = []

    /// - Parameters:
    ///   - after: the key a resumed scan starts after (from `token`).
    ///   - token: the resume token the scan started from (its token until a session is returned).
    ///   - isEmpty: the store has no sessions table yet: nothing to load.
    public init(
        batchSize: Int, scope: SessionScope = .all, after: SessionKey?, token: String?, isEmpty: Bool = false, skipBad: Bool = false,
        loadPage: @escaping PageLoader
    ) {
        self.loadPage = loadPage
        self.scope = scope
        self.batchSize = max(1, batchSize)
        self.lastKey = after
        self.startToken = token
        self.isFinished = isEmpty
        self.bad = BadSessionLog(skipBad: skipBad)
    }

    public var resumeToken: String? { lastReturned.map(ResumeToken.keyset(after:)) ?? startToken }

    public func takeSkipped() -> [SkippedSession] {
        defer { skipped.removeAll() }
        return skipped
    }

    public func next() throws -> Session? {
        while true {
            if position == page.count {
                guard !isFinished else { return nil }
                var log = BadSessionLog(skipBad: bad.skipBad)
                page = try loadPage(lastKey, batchSize, &log)
                bad = log
                position = 0
                isFinished = page.count < batchSize
                guard let last = page.last else {
                    isFinished = true
                    return nil
                }
                lastKey = last.key
            }
            let session = page[position]
            position += 1
            lastReturned = session.key
            if let skip = bad.skipped(session.key) {
                if scope.matches(session.key) { skipped.append(skip) }
            } else if scope.matches(session) {
                return session
            }
        }
    }
}

@available(*, unavailable)
extension KeysetSessionCursor: Sendable {}
