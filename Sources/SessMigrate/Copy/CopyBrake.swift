import DriverCore
import Foundation

/// The brake of a copy that reads a production database under live traffic (gh-ost style):
/// ``CopyRequest/maxRate`` caps the events read per second, all workers together, and while
/// ``CopyRequest/pauseFile`` exists the copy waits between batches. The engine calls it after each
/// batch's checkpoint (``CopyEngine/betweenBatches``), so a pause never loses progress.
///
/// The rate is a token bucket fed by the events each batch read: it holds at most one second of
/// events, a batch takes its events from it (into debt if need be), and a worker whose batch left
/// the bucket in debt sleeps until the debt is repaid at the rate. Over any run, events read stay
/// within `rate × elapsed + rate`. It sleeps on the run's ``Clock``, so tests count the sleeps.
final class CopyBrake: @unchecked Sendable {
    // @unchecked: the bucket and the pause count are guarded by `lock`; `clock` is called from every
    // worker's thread (the system clock is thread-safe; a clock injected by a test must be too).
    let maxRate: Int?
    let pauseFile: String?
    private let clock: Clock
    private let lock = NSLock()
    private var tokens: Double
    private var lastRefill: Double?
    private var pausedWorkers = 0

    /// Seconds between looks at the pause file, and the longest single sleep (a stop is noticed).
    static let poll = 1.0

    init(request: CopyRequest, clock: Clock) {
        maxRate = request.maxRate
        pauseFile = request.pauseFile
        self.clock = clock
        tokens = Double(request.maxRate ?? 0)
    }

    /// Between two batches: waits while the pause file exists, then for the rate.
    ///
    /// - Parameters:
    ///   - events: the events the batch just read.
    ///   - note: told once when a pause begins and once when it ends (the last paused worker).
    ///   - stop: throws when the copy must stop (a worker pool stopping); asked while waiting.
    func pass(events: Int, note: (String) -> Void, stop: () throws -> Void) throws {
        try waitWhilePaused(note: note, stop: stop)
        try take(events: events, stop: stop)
    }

    /// Waits while the pause file exists (also called before a worker's first batch).
    func waitWhilePaused(note: (String) -> Void, stop: () throws -> Void) throws {
        guard let pauseFile, FileManager.default.fileExists(atPath: pauseFile) else { return }
        if lock.withLock({
            pausedWorkers += 1; return pausedWorkers == 1
        }) {
            note("paused: \(pauseFile) exists; every batch so far is checkpointed; the copy goes on when the file is removed")
        }
        var stopped = false
        defer {
            if lock.withLock({
                pausedWorkers -= 1; return pausedWorkers == 0
            }), !stopped {
                note("resumed: \(pauseFile) was removed")
            }
        }
        while FileManager.default.fileExists(atPath: pauseFile) {
            do { try stop() } catch {
                stopped = true
                throw error
            }
            clock.sleep(Self.poll)
        }
    }

    /// Takes `events` from the bucket and sleeps off any debt.
    func take(events: Int, stop: () throws -> Void) throws {
        guard let maxRate, events > 0 else { return }
        let rate = Double(maxRate)
        var debt: Double = lock.withLock {
            let now = clock.now()
            if let last = lastRefill { tokens = min(rate, tokens + max(0, now - last) * rate) }
            lastRefill = now
            tokens -= Double(events)
            return tokens < 0 ? -tokens / rate : 0
        }
        while debt > 0 {
            try stop()
            let step = min(debt, Self.poll)
            clock.sleep(step)
            debt -= step
        }
    }
}
