import DriverCore
import Foundation
import SessionModel
import Testing

@testable import SessMigrate

/// The brake of a copy under live traffic: `max_rate` on the injected clock (the sleeps are
/// counted, never timed) and the pause file (removed by the clock after a number of sleeps).
@Suite struct CopyBrakeTests {
    static func events(_ sessions: [Session]) -> Int { sessions.reduce(0) { $0 + $1.events.count } }

    /// One pipeline: the bucket holds one second of events and every debt is slept off, so the
    /// sleeps add up to exactly (events − rate) / rate, and none is longer than the poll interval.
    @Test func maxRateSleepsOffEveryEventBeyondTheRate() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(60)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let clock = TestClock()
            var request = WorkerPoolTests.request(workers: 1, batchSize: 5)
            request.maxRate = 10
            var run = CopyRun(source: source, target: .store(WorkerPoolTests.sqlite(directory, "target")), request: request)
            run.clock = clock.clock
            let summary = try run.run().summary
            let total = Self.events(sessions)
            #expect(summary.total.eventsRead == total)
            #expect(clock.sleeps.count >= (total - 10) / 10)
            #expect(clock.sleeps.allSatisfy { $0 > 0 && $0 <= CopyBrake.poll })
            let slept = clock.sleeps.reduce(0, +)
            #expect(abs(slept - Double(total - 10) / 10) < 1e-6, "slept \(slept) s for \(total) events at 10/s")
        }
    }

    /// Three workers share one bucket: the events read never exceed rate × elapsed + one second's.
    @Test func maxRateCapsAllWorkersTogether() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(90)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let clock = TestClock()
            let start = clock.now
            var request = WorkerPoolTests.request(workers: 3, batchSize: 4)
            request.maxRate = 20
            var run = CopyRun(source: source, target: .store(WorkerPoolTests.sqlite(directory, "target")), request: request)
            run.clock = clock.clock
            let summary = try run.run().summary
            let total = Self.events(sessions)
            #expect(summary.total.eventsRead == total)
            #expect(Double(total) <= 20 * (clock.now - start) + 20, "\(total) events in \(clock.now - start) s")
            #expect(!clock.sleeps.isEmpty)
        }
    }

    /// While the pause file exists no batch is written; one note says the copy paused and one that it
    /// resumed; the copy then ends complete.
    @Test func thePauseFilePausesBetweenBatches() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(40)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let pause = directory + "/pause"
            let checkpoints = Counter()
            let state = PauseWatch(pause: pause, checkpoints: checkpoints, removeAfter: 5)
            let clock = TestClock(onSleep: { _ in state.slept() })
            var request = WorkerPoolTests.request(workers: 1, batchSize: 5)
            request.pauseFile = pause
            var run = CopyRun(source: source, target: .store(WorkerPoolTests.sqlite(directory, "target")), request: request)
            run.clock = clock.clock
            var notes: [String] = []
            let summary = try run.attempt(
                resume: nil,
                checkpoint: { _ in
                    if checkpoints.increment() == 2 { FileManager.default.createFile(atPath: pause, contents: nil) }
                }, events: { if case .note(let text) = $0 { notes.append(text) } }
            ).summary
            #expect(state.pausedAt == 2 && state.resumedAt == 2, "batches were checkpointed while paused")
            #expect(notes.filter { $0.hasPrefix("paused: \(pause) exists") }.count == 1, "\(notes)")
            #expect(notes.filter { $0.hasPrefix("resumed:") }.count == 1, "\(notes)")
            #expect(summary.total.read == sessions.count && checkpoints.count == 8)
        }
    }

    /// With workers, the pause is announced once (by the worker that saw the file first) and its end once.
    @Test func thePauseFilePausesEveryWorker() throws {
        try withTemporaryDirectory { directory in
            let sessions = try ScaleData.sessions(60)
            let source = WorkerPoolTests.sqlite(directory, "source")
            try write(sessions, to: source)
            let pause = directory + "/pause"
            FileManager.default.createFile(atPath: pause, contents: nil)
            let state = PauseWatch(pause: pause, checkpoints: Counter(), removeAfter: 30)
            let clock = TestClock(onSleep: { _ in state.slept() })
            var request = WorkerPoolTests.request(workers: 3, batchSize: 4)
            request.pauseFile = pause
            var run = CopyRun(source: source, target: .store(WorkerPoolTests.sqlite(directory, "target")), request: request)
            run.clock = clock.clock
            run.afterBatchWritten = { if FileManager.default.fileExists(atPath: pause) { Issue.record("a batch was written while paused from the start") } }
            var notes: [String] = []
            let summary = try run.attempt(resume: nil, checkpoint: { _ in }, events: { if case .note(let text) = $0 { notes.append(text) } }).summary
            #expect(notes.filter { $0.contains("paused: \(pause) exists") }.count == 1, "\(notes)")
            #expect(notes.filter { $0.contains("resumed: ") }.count == 1, "\(notes)")
            #expect(summary.total.read == sessions.count)
        }
    }
}

/// Watches the pause file from the clock's sleeps: records the checkpoints made when the first
/// sleep during the pause happened and when the file was removed (after `removeAfter` sleeps).
final class PauseWatch: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    let pause: String
    let checkpoints: Counter
    let removeAfter: Int
    private var sleeps = 0
    private var first: Int?
    private var last: Int?

    init(pause: String, checkpoints: Counter, removeAfter: Int) {
        self.pause = pause
        self.checkpoints = checkpoints
        self.removeAfter = removeAfter
    }

    var pausedAt: Int? { lock.withLock { first } }
    var resumedAt: Int? { lock.withLock { last } }

    func slept() {
        lock.withLock {
            guard FileManager.default.fileExists(atPath: pause) else { return }
            sleeps += 1
            if sleeps == 1 { first = checkpoints.count }
            if sleeps == removeAfter {
                last = checkpoints.count
                try? FileManager.default.removeItem(atPath: pause)
            }
        }
    }
}
