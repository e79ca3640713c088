import Foundation

/// Crash points of `sessmigrate copy` for the kill-and-resume tests, set through the environment:
/// `SESSMIGRATE_TEST_KILL_AFTER_BATCHES=N` kills the process with SIGKILL right after its N-th
/// batch reached the target, before that batch's checkpoint (counting every worker's batches).
/// Unset in normal use. The runbook runner has the same hook (`CrashHooks`).
public enum CopyTestHooks {
    /// The hook for ``CopyRun/afterBatchWritten`` (a no-op unless the variable is set).
    public static func afterBatchWritten(environment: [String: String]) -> () throws -> Void {
        guard let limit = environment["SESSMIGRATE_TEST_KILL_AFTER_BATCHES"].flatMap({ Int($0) }) else { return {} }
        let counter = BatchCounter()
        return {
            if counter.increment() == limit { kill(getpid(), SIGKILL) }
        }
    }

    /// The hook for ``DiffEngine/afterSessionRead`` (`nil` unless set): with
    /// `SESSMIGRATE_TEST_PAUSE_VERIFY_AT=N` and `SESSMIGRATE_TEST_PAUSE_FILE=F`, once N sessions of both
    /// stores were read, the comparison creates `F.paused` and waits (both sides) until `F.go` exists, so a
    /// test can restart a server at that exact point instead of guessing with a sleep.
    public static func verifyPause(environment: [String: String]) -> (@Sendable (Int) -> Void)? {
        guard let limit = environment["SESSMIGRATE_TEST_PAUSE_VERIFY_AT"].flatMap({ Int($0) }),
            let file = environment["SESSMIGRATE_TEST_PAUSE_FILE"]
        else { return nil }
        let released = StopFlag()
        return { read in
            guard read >= limit, !released.isSet else { return }
            FileManager.default.createFile(atPath: file + ".paused", contents: nil)
            while !FileManager.default.fileExists(atPath: file + ".go") { usleep(50_000) }
            released.set()
        }
    }

    /// Counts batches; called by one worker at a time (``CopyRun/afterBatchWritten``).
    private final class BatchCounter: @unchecked Sendable {
        // @unchecked: the pool calls the hook under its lock, so one thread at a time.
        private var value = 0
        func increment() -> Int {
            value += 1
            return value
        }
    }
}
