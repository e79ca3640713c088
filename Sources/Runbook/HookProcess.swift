import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one hook command: `/bin/sh -c COMMAND`, started like a gate's command (``Gate``) and bounded in time.
///
/// - `posix_spawn` in a process group of its own, default signal dispositions and an empty mask;
///   standard input `/dev/null`; no descriptor of the runner (store connections, the journal) but a
///   pipe that is both its standard output and standard error: each line it prints is handed to
///   `output` (the runner forwards it as a note, so it reaches stderr in the log format chosen).
/// - Only the shell's own exit counts (`waitpid` on it): a background process it leaves does not hold
///   the run. Once the shell exited, what is already in the pipe is read and the pipe is closed; a
///   background process that writes later gets SIGPIPE (redirect its output).
/// - At `timeout` seconds its process group gets SIGTERM, and SIGKILL `grace` seconds later.
enum HookProcess {
    enum Outcome: Equatable, Sendable {
        /// The shell exited with this status.
        case exited(Int32)
        /// The shell was killed by this signal (not by the timeout).
        case signaled(Int32)
        /// The timeout passed; the process group was killed.
        case timedOut
    }

    static func run(
        _ command: String, environment: [String: String], timeout: Double, grace: Double = RunbookHooks.killGraceSeconds,
        output: (String) -> Void
    ) throws -> Outcome {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw StepFailure("hook: cannot create a pipe (errno \(errno))") }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let pid: pid_t
        do {
            pid = try spawn(command, environment: environment, outputDescriptor: pipeEnds[1])
        } catch {
            close(pipeEnds[0])
            close(pipeEnds[1])
            throw error
        }
        close(pipeEnds[1])
        return try withoutActuallyEscaping(output) { output in
            var reader = LineReader(descriptor: pipeEnds[0], output: output)
            defer { reader.close() }
            return try wait(for: pid, reader: &reader, timeout: timeout, grace: grace)
        }
    }

    /// Waits for the shell, reading its output, and kills its process group at the timeout.
    private static func wait(for pid: pid_t, reader: inout LineReader, timeout: Double, grace: Double) throws -> Outcome {
        let started = monotonicSeconds()
        var terminatedAt: Double?
        while true {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                reader.drain()
                if terminatedAt != nil { return .timedOut }
                let signal = status & 0x7F
                return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
            }
            if reaped == -1, errno != EINTR { throw StepFailure("hook: waitpid failed (errno \(errno))") }
            let now = monotonicSeconds()
            if let sent = terminatedAt {
                if now - sent >= grace { kill(-pid, SIGKILL) }
            } else if now - started >= timeout {
                kill(-pid, SIGTERM)
                terminatedAt = now
            }
            reader.wait(milliseconds: 20)
        }
    }

    /// Starts `/bin/sh -c command` with `environment`, its output on `outputDescriptor`.
    private static func spawn(_ command: String, environment: [String: String], outputDescriptor: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, outputDescriptor, 2)
        // None of the runner's other descriptors (store connections, the journal) reaches the hook.
        for descriptor in Gate.openDescriptors() where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        // Default dispositions and an empty mask (sessmigrate ignores SIGPIPE; a shell pipeline must not),
        // and a process group of its own, so a timeout kills everything the hook started.
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var envp: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, &envp)
        guard spawned == 0 else { throw StepFailure("hook: cannot start /bin/sh (errno \(spawned))") }
        return pid
    }

    /// Seconds on the monotonic clock (a hook's timeout is real time, whatever clock the run uses).
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Reads a hook's output pipe without ever blocking on it, handing over complete lines.
private struct LineReader {
    /// Lines of one hook handed over; the rest is counted, not shown.
    static let lineLimit = 200
    var descriptor: Int32
    let output: (String) -> Void
    private var pending: [UInt8] = []
    private var lines = 0
    private var dropped = 0

    init(descriptor: Int32, output: @escaping (String) -> Void) {
        self.descriptor = descriptor
        self.output = output
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    /// Waits up to `milliseconds` for output and reads what came; sleeps when the pipe is closed.
    mutating func wait(milliseconds: Int32) {
        guard descriptor >= 0 else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        if poll(&entry, 1, milliseconds) > 0 { drain() }
    }

    /// Reads everything available now; at end of file closes the pipe.
    mutating func drain() {
        guard descriptor >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let source = descriptor
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(source, $0.baseAddress, $0.count) }
            if count > 0 {
                pending += buffer[0..<count]
                split()
                continue
            }
            if count == 0 { close() }
            if count < 0, errno == EINTR { continue }
            return
        }
    }

    private mutating func split() {
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            emit(Array(pending[..<newline]))
            pending.removeSubrange(...newline)
        }
        if pending.count > 4096 {  // a very long line: shown in pieces
            emit(pending)
            pending = []
        }
    }

    private mutating func emit(_ bytes: [UInt8]) {
        lines += 1
        if lines <= Self.lineLimit { output(String(decoding: bytes, as: UTF8.self)) } else { dropped += 1 }
    }

    /// Hands over a last partial line and closes the pipe (a background process writing later gets SIGPIPE).
    mutating func close() {
        guard descriptor >= 0 else { return }
        if !pending.isEmpty { emit(pending) }
        pending = []
        if dropped > 0 { output("… \(dropped) more line(s) of output not shown") }
        dropped = 0
        _ = Glibc.close(descriptor)
        descriptor = -1
    }
}
