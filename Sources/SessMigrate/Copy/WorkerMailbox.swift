import DriverCore
import Foundation

/// What a pool's workers tell the thread that runs the pool, in the order each worker sent it.
enum WorkerMessage {
    /// Progress of one worker.
    case event(Int, ProgressEvent)
    /// A worker committed a batch; it waits for the ticket until the checkpoint is recorded.
    case checkpoint(Int, CopyCheckpoint, CheckpointTicket)
    /// A worker ended: its summary, or why it stopped.
    case finished(Int, Result<CopySummary, any Error>)
}

/// The queue between a pool's workers and the thread that runs the pool (which alone calls the
/// caller's progress sink and checkpoint function, so a journal is written from one thread), and
/// the pool's stop flag.
final class WorkerMailbox: @unchecked Sendable {
    // @unchecked: `messages` and `stopping` are guarded by `condition`. A message is handed from the
    // worker that made it to the pool's thread and not touched by the worker again.
    private let condition = NSCondition()
    private var messages: [WorkerMessage] = []
    private var stopping = false

    func post(_ message: WorkerMessage) {
        condition.lock()
        messages.append(message)
        condition.broadcast()
        condition.unlock()
    }

    /// Every message posted since the last call, waiting for one if there is none.
    func takeAll() -> [WorkerMessage] {
        condition.lock()
        defer { condition.unlock() }
        while messages.isEmpty { condition.wait() }
        let taken = messages
        messages.removeAll(keepingCapacity: true)
        return taken
    }

    /// Asks every worker to stop after its current batch (checkpointed).
    func requestStop() {
        condition.lock()
        stopping = true
        condition.unlock()
    }

    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    /// Throws ``WorkerStopped`` once a stop was requested: called between batches.
    func checkStop() throws {
        if isStopping { throw WorkerStopped() }
    }
}

/// What a worker waits on until the pool has recorded its checkpoint, so that, as in a single
/// pipeline, a batch's checkpoint is durable before the worker reads on.
final class CheckpointTicket: @unchecked Sendable {
    // @unchecked: a semaphore is thread-safe.
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func recorded() { semaphore.signal() }
}

/// A worker stopped because another one failed (or the checkpoint could not be recorded): it
/// finished its current batch and checkpointed it.
struct WorkerStopped: Error, CustomStringConvertible {
    var description: String { "stopped by the pool after its last checkpointed batch" }
}

/// Merges the progress of a pool's workers into the one operation the caller sees: one `began`
/// once every worker has begun (the total is the sum of theirs), counts added (time: the slowest
/// worker's), notes and retries named by worker, kept and skipped sessions passed on.
struct PoolProgress {
    let operation: String
    private var totals: [Int?]
    private var counts: [ProgressCounts?]
    private var begun: Set<Int>
    private var announced = false
    /// The whole scope's count, when known; else the sum of the workers' totals.
    private let total: Int?

    /// `done` holds the workers already finished by an earlier run, with their final counts.
    init(operation: String, workers: Int, done: [Int: CopySummary], total: Int? = nil) {
        self.operation = operation
        self.total = total
        totals = Array(repeating: nil, count: workers)
        counts = Array(repeating: nil, count: workers)
        begun = Set(done.keys)
        for (worker, summary) in done {
            totals[worker] = summary.expectedSessions ?? summary.total.read
            counts[worker] = Self.counts(summary)
        }
    }

    static func counts(_ summary: CopySummary) -> ProgressCounts {
        let total = summary.total
        return ProgressCounts(
            sessions: total.read + summary.skipped.count, events: total.eventsRead, written: total.written, total: summary.expectedSessions,
            seconds: summary.seconds)
    }

    mutating func handle(_ worker: Int, _ event: ProgressEvent, name: String, sink: ProgressSink) {
        switch event {
        case .began(_, let total):
            totals[worker] = total
            begin(worker, sink: sink)
        case .advanced(let progress):
            counts[worker] = progress
            if announced { sink(.advanced(merged)) }
        case .note(let text):
            sink(.note("\(name): \(text)"))
        case .retrying(var notice):
            notice.error = "\(name): \(notice.error)"
            sink(.retrying(notice))
        case .kept, .skipped, .conflicted:
            sink(event)
        case .ended:
            break  // the pool ends once, when every worker has
        }
    }

    /// A worker ended (perhaps before it could begin).
    mutating func begin(_ worker: Int, sink: ProgressSink) {
        begun.insert(worker)
        guard !announced, begun.count == totals.count else { return }
        announced = true
        sink(.began(operation: operation, total: mergedTotal))
        // Batches a quick worker finished before the slowest one began are reported now, not dropped.
        if counts.contains(where: { $0 != nil }) { sink(.advanced(merged)) }
    }

    /// The whole pool's counts so far.
    var merged: ProgressCounts {
        let known = counts.compactMap { $0 }
        return ProgressCounts(
            sessions: known.reduce(0) { $0 + $1.sessions }, events: known.reduce(0) { $0 + $1.events },
            written: known.reduce(0) { $0 + $1.written }, total: mergedTotal, seconds: known.map(\.seconds).max() ?? 0)
    }

    private var mergedTotal: Int? { total ?? (totals.contains(nil) ? nil : totals.reduce(0) { $0 + ($1 ?? 0) }) }

    /// The last counts and the end of the operation.
    func finish(_ summary: CopySummary, sink: ProgressSink) {
        if !announced { sink(.began(operation: operation, total: summary.expectedSessions)) }
        sink(.advanced(Self.counts(summary)))
        sink(.ended)
    }
}
