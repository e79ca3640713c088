import DriverCore
import Foundation
import SessionModel

/// A session's SHA-256 fingerprint, held inline (no array allocation per session).
struct Fingerprint: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: [UInt8]) {
        precondition(digest.count == 32, "a SHA-256 digest is 32 bytes")
        words = digest.withUnsafeBytes { raw in
            (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }

    static func == (lhs: Fingerprint, rhs: Fingerprint) -> Bool { lhs.words == rhs.words }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

/// One store's side of a comparison: every session's fingerprint and event count, and the bad sessions
/// passed over (``SessionQuery/skipBad``).
struct DigestTable {
    struct Entry {
        var fingerprint: Fingerprint
        var events: Int
    }

    var entries: [SessionKey: Entry] = [:]
    /// Events of the sessions in ``entries``.
    var events = 0
    var skipped: [SkippedSession] = []
    var skippedKeys = Set<SessionKey>()

    /// Streams `store` in scope into a table. A key read twice (Redis `SCAN` may return one twice) keeps
    /// its first reading. Stops early, throwing ``Stopped``, once `stop` is set by the other side, and
    /// ``PassTooLarge`` once the table holds more than `bounds.limit` sessions.
    static func scan(
        _ store: any SessionStore, query: SessionQuery, view: ReadBackView, compareCreateTime: Bool, bounds: TableBounds, progress: DiffProgress,
        stop: StopFlag, afterEach: () -> Void
    ) throws -> DigestTable {
        var table = DigestTable()
        if let reserve = bounds.reserve { table.entries.reserveCapacity(reserve) }
        let cursor = try store.scanSessions(query)
        func takeSkipped() {
            for item in cursor.takeSkipped() {
                table.skipped.append(item)
                if let key = item.key { table.skippedKeys.insert(key) }
            }
        }
        while let raw = try cursor.next() {
            if stop.isSet { throw Stopped() }
            takeSkipped()
            progress.advance(events: raw.events.count)
            let session = try view(raw)
            guard table.entries[session.key] == nil else { continue }
            table.entries[session.key] = Entry(fingerprint: Fingerprint(session.digest(includingCreateTime: compareCreateTime)), events: session.events.count)
            table.events += session.events.count
            if let limit = bounds.limit, table.entries.count > limit { throw PassTooLarge(sessions: table.entries.count) }
            afterEach()
        }
        takeSkipped()
        return table
    }

    /// Both stores scanned at once: A on a thread of its own, B on the caller's. The first error of
    /// either stops the other and is rethrown once both have let go of their stores. Progress lines of
    /// both sides go to `events` on the caller's thread only.
    static func scanBoth(
        _ a: any SessionStore, _ b: any SessionStore, query: SessionQuery, view: ReadBackView, compareCreateTime: Bool, bounds: TableBounds,
        progress: DiffProgress, events: ProgressSink
    ) throws -> (DigestTable, DigestTable) {
        func flush() { for counts in progress.take() { events(.advanced(counts)) } }
        let stop = StopFlag()
        let sideA = SideResult(stop: stop)
        let storeA = StoreHandOff(store: a)
        let thread = Thread {
            sideA.set(
                Result {
                    try scan(
                        storeA.store, query: query, view: view, compareCreateTime: compareCreateTime, bounds: bounds, progress: progress, stop: stop,
                        afterEach: {})
                })
        }
        thread.stackSize = 16 << 20  // deeply nested JSON is parsed recursively
        thread.name = "sessmigrate-diff-a"
        thread.start()
        let resultB = Result {
            try scan(
                b, query: query, view: view, compareCreateTime: compareCreateTime, bounds: bounds, progress: progress, stop: stop, afterEach: flush)
        }
        if case .failure = resultB { stop.set() }
        let resultA = sideA.wait(polling: flush)
        flush()  // the lines A made due after the last poll
        // The error that stopped the other side, not the other side's Stopped.
        for case .failure(let error) in [resultA, resultB] where !(error is Stopped) { throw error }
        return (try resultA.get(), try resultB.get())
    }
}

extension SessionQuery {
    /// One store's scan in a comparison (`diff`, `verify`, `verify --contains`): events carried as compact
    /// text, so that each session's digest is streamed from the texts (``SessionModel/CanonicalDigest/feed(json:)``)
    /// and no event becomes a tree; what looks inside an event afterwards (a containment check's merge)
    /// parses it on use, and a `diff`'s detail fetches build trees as before.
    static func comparing(_ scope: SessionScope, batchSize: Int, skipBad: Bool) -> SessionQuery {
        SessionQuery(scope: scope, batchSize: batchSize, skipBad: skipBad, eventStyle: .compact)
    }
}

/// Thrown by one side's scan when the other side failed first.
struct Stopped: Error {}

/// Set once by whichever side fails first; read by the other between sessions.
final class StopFlag: @unchecked Sendable {
    // @unchecked: `value` is guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Side A's outcome, handed from its thread to the caller.
private final class SideResult: @unchecked Sendable {
    // @unchecked: `result` is guarded by `condition`.
    private let condition = NSCondition()
    private var result: Result<DigestTable, any Error>?
    /// Set when side A fails, so that B stops at its next session.
    private let stop: StopFlag

    init(stop: StopFlag) { self.stop = stop }

    func set(_ outcome: Result<DigestTable, any Error>) {
        condition.withLock {
            result = outcome
            condition.broadcast()
        }
        if case .failure = outcome { stop.set() }
    }

    /// Waits for side A, calling `poll` (outside the lock) every half second meanwhile.
    func wait(polling poll: () -> Void) -> Result<DigestTable, any Error> {
        while true {
            let outcome = condition.withLock {
                if result == nil { _ = condition.wait(until: Date(timeIntervalSinceNow: 0.5)) }
                return result
            }
            if let outcome { return outcome }
            poll()
        }
    }
}

/// Store A, handed to the thread that scans it; the caller does not touch it until that thread is done.
private struct StoreHandOff: @unchecked Sendable {
    // @unchecked: used by one thread at a time (the scanning thread, then the caller after `wait`).
    let store: any SessionStore
}

/// A session as both stores read it back (`b.readBack(a.readBack(session))`). Read-backs are pure
/// functions of a store's fixed schema, safe from both scanning threads.
struct ReadBackView: @unchecked Sendable {
    // @unchecked: only `readBack` and no other method of the stores is called through this view.
    let a: any SessionStore
    let b: any SessionStore

    func callAsFunction(_ session: Session) throws -> Session { try b.readBack(a.readBack(session)) }
}

/// The progress of both sides together: counted by both scanning threads, a line due every
/// `batchSize` sessions of either, taken and reported by the caller's thread. Every line due is
/// reported, in order, however the two threads interleave (the caller takes them after each of B's
/// sessions and every half second while it waits for A); should the caller fall more than
/// ``pendingLimit`` lines behind, the oldest are dropped.
final class DiffProgress: @unchecked Sendable {
    // @unchecked: the counters are used under `lock` only.
    private let lock = NSLock()
    private let batchSize: Int
    private let total: Int?
    private let started: Double
    private let clock: Clock
    private var sessions = 0
    private var events = 0
    private var due: [ProgressCounts] = []
    static let pendingLimit = 1024
    private let afterSessionRead: (@Sendable (Int) -> Void)?

    init(batchSize: Int, total: Int?, started: Double, clock: Clock, afterSessionRead: (@Sendable (Int) -> Void)? = nil) {
        self.batchSize = batchSize
        self.total = total
        self.started = started
        self.clock = clock
        self.afterSessionRead = afterSessionRead
    }

    func advance(events count: Int) {
        let read = lock.withLock {
            sessions += 1
            events += count
            if sessions % batchSize == 0 {
                if due.count == Self.pendingLimit { due.removeFirst() }
                due.append(ProgressCounts(sessions: sessions, events: events, total: total, seconds: clock.now() - started))
            }
            return sessions
        }
        afterSessionRead?(read)
    }

    /// The lines due since the last take, oldest first.
    func take() -> [ProgressCounts] {
        lock.withLock {
            defer { due.removeAll(keepingCapacity: true) }
            return due
        }
    }

    /// Sessions and events read so far, by both sides.
    var counts: (sessions: Int, events: Int) { lock.withLock { (sessions, events) } }

    /// Back to nothing read, for a comparison that starts over (``ComparisonPasses/more()``).
    func restart() {
        lock.withLock {
            sessions = 0
            events = 0
            due.removeAll()
        }
    }
}
