import DriverCore
import Foundation
import SessionModel

/// A batch of in-scope source sessions (the stores narrow their reads to the scope; the check here
/// is the safety net) and the source cursor's resume token right after its last
/// session (what a checkpoint records once the batch is committed).
struct SourceBatch: Sendable {
    var sessions: [Session]
    var resumeToken: String?
    /// Bad sessions the cursor passed over (``SessionQuery/skipBad``) up to the batch's last
    /// session; ``resumeToken`` covers them.
    var skipped: [SkippedSession] = []
}

/// Reads the source on a second thread, at most `depth` batches ahead of the writer, so that
/// decoding the source and planning, encoding and writing the target use both cores.
///
/// The cursor (and through it the source store's connection) is handed over to the reading
/// thread for the prefetcher's lifetime: the caller must not touch the source store between
/// `init` and ``close()``. ``close()`` stops the reader and waits until it no longer uses the
/// cursor; call it on every path (`defer`). Batches come out in source order with the same
/// boundaries and resume tokens a single-threaded loop would produce, so checkpoints mean the
/// same thing, except that a time-bounded scope's partial batch goes out once it has waited
/// ``partialBatchWait``: a converge pass keeps few of the sessions it walks, spread over the whole
/// source, and the target's reads and writes of those then overlap the rest of the scan instead of
/// all following it.
///
/// Given the target's `eventDataStyle`, the reader also serializes each batch's events in it
/// (``SessionModel/Event/prepareSerialized(_:)``): a SQLite or MySQL target's writer then only
/// binds text, and with several workers into one snapshot file (one writer at a time) no worker
/// serializes while it holds the file.
final class BatchPrefetcher: @unchecked Sendable {
    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Result<SourceBatch?, any Error>] = []
    private var stopping = false
    private var readerDone = false
    private let depth: Int
    private let eventDataStyle: JSONStyle?
    /// How long a time-bounded scope's partial batch waits for more sessions.
    static let partialBatchWait: Duration = .milliseconds(50)

    /// Starts reading. `cursor` belongs to the reader thread from now on.
    init(cursor: any SessionCursor, batchSize: Int, scope: SessionScope, depth: Int = 2, eventDataStyle: JSONStyle? = nil) {
        self.depth = max(1, depth)
        self.eventDataStyle = eventDataStyle
        let handOff = CursorHandOff(cursor: cursor)
        let thread = Thread { [self] in
            self.read(handOff.cursor, batchSize: max(1, batchSize), scope: scope)
        }
        thread.stackSize = 16 << 20  // deeply nested JSON is parsed recursively
        thread.name = "sessmigrate-source-reader"
        thread.start()
    }

    /// The next batch in source order; `nil` at the end of the source. Rethrows the reader's error.
    func next() throws -> SourceBatch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty { condition.wait() }
        let item = queue.removeFirst()
        condition.broadcast()
        switch item {
        case .success(nil), .failure: queue.insert(item, at: 0)  // the end and a failure are final
        case .success: break
        }
        return try item.get()
    }

    /// Waits at most `seconds` for ``next()`` to have something to return at once (a batch, the end
    /// or a failure); true when it has.
    func waitForBatch(seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            guard condition.wait(until: deadline) else { return !queue.isEmpty }
        }
        return true
    }

    /// Stops the reader and waits until it has let go of the cursor. Idempotent.
    func close() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !readerDone { condition.wait() }
        condition.unlock()
    }

    deinit {
        assert(readerDone, "BatchPrefetcher released without close()")
    }

    private func read(_ cursor: any SessionCursor, batchSize: Int, scope: SessionScope) {
        var batch: [Session] = []
        batch.reserveCapacity(batchSize)
        var skipped: [SkippedSession] = []
        let clock = ContinuousClock()
        let partialWait = scope.isKeyOnly ? nil : Self.partialBatchWait
        var started = clock.now
        do {
            while let session = try cursor.next() {
                guard !isStopping else { return finish() }
                skipped += cursor.takeSkipped().filter { $0.key.map(scope.matches) ?? true }
                guard scope.matches(session) else { continue }
                if batch.isEmpty { started = clock.now }
                batch.append(session)
                if batch.count == batchSize || partialWait.map({ clock.now - started >= $0 }) == true {
                    prepare(&batch)
                    guard deliver(.success(SourceBatch(sessions: batch, resumeToken: cursor.resumeToken, skipped: skipped))) else {
                        return finish()
                    }
                    batch.removeAll(keepingCapacity: true)
                    skipped.removeAll()
                }
            }
            skipped += cursor.takeSkipped().filter { $0.key.map(scope.matches) ?? true }
            prepare(&batch)
            if !batch.isEmpty || !skipped.isEmpty,
                !deliver(.success(SourceBatch(sessions: batch, resumeToken: cursor.resumeToken, skipped: skipped)))
            {
                return finish()
            }
            _ = deliver(.success(nil))
        } catch {
            _ = deliver(.failure(error))
        }
        finish()
    }

    /// Serializes the batch's events in the target's style, on this thread.
    private func prepare(_ batch: inout [Session]) {
        guard let eventDataStyle else { return }
        for session in batch.indices {
            for event in batch[session].events.indices { batch[session].events[event].prepareSerialized(eventDataStyle) }
        }
    }

    private var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Queues `item` once there is room; false when the consumer has stopped.
    private func deliver(_ item: Result<SourceBatch?, any Error>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth, !stopping { condition.wait() }
        guard !stopping else { return false }
        queue.append(item)
        condition.broadcast()
        return true
    }

    private func finish() {
        condition.lock()
        readerDone = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Moves a cursor to the reader thread. Sound because the caller gives the cursor up: only the
/// reader uses it until ``BatchPrefetcher/close()`` returns.
private struct CursorHandOff: @unchecked Sendable {
    let cursor: any SessionCursor
}
