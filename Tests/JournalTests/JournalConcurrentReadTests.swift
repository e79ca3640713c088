import Foundation
import Journal
import Testing

/// A run waiting at a gate reads its journal while `sessmigrate continue`, another process, appends to
/// it. The kill-and-resume suite once saw the waiting run stop with "event 33 was removed (the journal had
/// recorded up to event 33)": the events and `sqlite_sequence` were read in two transactions, and the
/// append fell between them. Both are now read in one.
struct JournalConcurrentReadTests {
    @Test func eventsReadWhileAnotherConnectionAppendsAreWhole() throws {
        try withTemporaryPath { path in
            try withNewJournal(path) { journal in
                _ = try journal.append(runId: "r1", step: nil, kind: .runStarted)
                let appends = 1000
                let done = Flag()
                let thread = Thread {
                    // Another connection, as `continue` is another process.
                    _ = try? withJournal(path) { writer in
                        for _ in 0..<appends { _ = try writer.append(runId: "r1", step: "gate", kind: .continueRequested) }
                    }
                    done.set()
                }
                thread.start()
                try withJournal(path) { reader in
                    var reads = 0
                    var last = 0
                    while !done.isSet || reads == 0 {
                        let seqs = try reader.events().map(\.seq)
                        #expect(seqs == Array(1...Int64(seqs.count)))
                        #expect(seqs.count >= last, "a later read never sees fewer events")
                        last = seqs.count
                        reads += 1
                    }
                }
                while !done.isSet { usleep(1000) }
                #expect(try events(at: path).count == appends + 1, "every append was written")
            }
        }
    }
}

/// A flag one thread sets and another reads.
final class Flag: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
