import DriverCore
import Foundation

/// The `SCAN` steps of a standalone server's scan, fetched ahead on a connection and a thread of
/// their own, at most ``capacity`` steps ahead of the reader.
///
/// A time-bounded scan reads every blob's tail after each step (``RedisKeyFilter``): on one
/// connection the server sat idle while the client judged a step's tails and built the next step's
/// pipeline, and the client sat idle while the server ran the next `SCAN`. Here the `SCAN`s run while
/// the client works. The steps, their positions and their errors come out in the order one
/// connection would have produced them, so resume tokens mean the same thing.
///
/// The keyspace (its one connection) is handed over at `init` and belongs to the thread, which
/// closes it when it stops: at the end of the scan, after an error, or after ``stop()`` (which
/// letting go of this object calls).
final class RedisScanAhead {
    /// One step: where it started, where the next starts (`nil`: the scan is complete), its keys.
    struct Step: Sendable {
        let start: RedisScanPosition
        let next: RedisScanPosition?
        let keys: [[UInt8]]
    }

    /// What the thread and the reader share; the thread holds only this, so letting go of the
    /// `RedisScanAhead` (its `deinit`) stops the thread.
    private let channel: RedisScanChannel

    /// Starts scanning `patterns` from `position` on `keyspace`, which belongs to the thread from now
    /// on; at most `capacity` steps are fetched and not yet taken.
    init(keyspace: RedisStandaloneKeyspace, patterns: [String], count: Int, from position: RedisScanPosition, capacity: Int = 2) {
        let channel = RedisScanChannel(capacity: max(1, capacity))
        self.channel = channel
        let handOff = KeyspaceHandOff(keyspace: keyspace)
        let thread = Thread {
            defer { handOff.keyspace.close() }
            channel.run(RedisKeyScan(keyspace: handOff.keyspace, patterns: patterns, count: count, from: position))
        }
        thread.name = "sessmigrate-redis-scan"
        thread.start()
    }

    deinit { channel.stop() }

    /// The next step in scan order, `nil` once the scan is complete; rethrows the scan's error.
    func take() throws -> Step? { try channel.take() }

    /// Lets the thread go: it ends after the `SCAN` it is running, if any, and closes its connection.
    func stop() { channel.stop() }
}

@available(*, unavailable)
extension RedisScanAhead: Sendable {}

/// The steps between the scanning thread and the reader.
private final class RedisScanChannel: @unchecked Sendable {
    let capacity: Int
    // All mutable state below is guarded by `condition`.
    private let condition = NSCondition()
    /// A `nil` step is the end of the scan; a failure is final too.
    private var steps: [Result<RedisScanAhead.Step?, any Error>] = []
    private var stopping = false

    init(capacity: Int) { self.capacity = capacity }

    func take() throws -> RedisScanAhead.Step? {
        condition.lock()
        defer { condition.unlock() }
        while steps.isEmpty { condition.wait() }
        let item = steps[0]
        if case .success(.some) = item {
            steps.removeFirst()
            condition.broadcast()
        }
        return try item.get()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// The thread's loop: one step at a time while there is room, until the end, an error or ``stop()``.
    func run(_ scan: RedisKeyScan) {
        while true {
            condition.lock()
            while steps.count >= capacity && !stopping { condition.wait() }
            let stop = stopping
            condition.unlock()
            if stop { return }
            let item: Result<RedisScanAhead.Step?, any Error>
            do {
                item = .success(try scan.next().map { RedisScanAhead.Step(start: scan.stepPosition ?? .start, next: scan.position, keys: $0) })
            } catch {
                item = .failure(error)
            }
            condition.lock()
            steps.append(item)
            condition.broadcast()
            condition.unlock()
            guard case .success(.some) = item else { return }
        }
    }
}

/// Moves the keyspace to the scanning thread; nothing else touches it after ``RedisScanAhead/init``.
private final class KeyspaceHandOff: @unchecked Sendable {
    let keyspace: RedisStandaloneKeyspace
    init(keyspace: RedisStandaloneKeyspace) { self.keyspace = keyspace }
}
