import DriverCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `/bin/sh -c COMMAND` with its standard output captured, bounded in time and size. The child gets
/// `/dev/null` as input, our standard error, the default signal mask and dispositions, and a process
/// group of its own, so that on a timeout the whole group (the shell and what it started) is killed.
enum PasswordCommandProcess {
    static func run(_ command: String, name: String, timeout: Double) throws(PasswordCommandError) -> [UInt8] {
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw failure(name, "could not be started: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipe[0], pipe[1])
        // Other threads' children must not inherit the pipe (they would hold it open).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        defer { close(readEnd) }
        let spawned = spawn(command, stdout: writeEnd)
        close(writeEnd)
        let pid: pid_t
        switch spawned {
        case .started(let started): pid = started
        case .failed(let code): throw failure(name, "could not be started: \(String(cString: strerror(code)))")
        }
        let group: pid_t = 0 - pid
        let deadline = Date().addingTimeInterval(timeout)
        let output: [UInt8]
        do {
            output = try collect(from: readEnd, name: name, timeout: timeout)
        } catch {
            kill(group, SIGKILL)
            _ = reap(pid, until: Date().addingTimeInterval(5))
            throw error
        }
        guard let status = reap(pid, until: deadline) else {
            kill(group, SIGKILL)
            _ = reap(pid, until: Date().addingTimeInterval(5))
            throw timedOut(name, timeout)
        }
        if status.signal != 0 { throw failure(name, "was killed by signal \(status.signal)") }
        if status.exit != 0 { throw failure(name, "exited with status \(status.exit) (its output is not shown)") }
        return output
    }

    private static func timedOut(_ name: String, _ timeout: Double) -> PasswordCommandError {
        PasswordCommandError(code: .timeout, message: "password command '\(name)' did not finish within \(Int(timeout.rounded(.up))) s (killed)")
    }

    private static func failure(_ name: String, _ what: String) -> PasswordCommandError {
        PasswordCommandError(code: .authentication, message: "password command '\(name)' \(what)")
    }

    private enum Spawned {
        case started(pid_t)
        case failed(Int32)
    }

    private static func spawn(_ command: String, stdout: Int32) -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let words: [String] = ["/bin/sh", "-c", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        var argv = arguments + [nil]
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        return status == 0 ? .started(pid) : .failed(status)
    }

    /// Reads the child's output until it closes it; throws on the deadline or on too much output.
    private static func collect(from descriptor: Int32, name: String, timeout: Double) throws(PasswordCommandError) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else {
                throw timedOut(name, timeout)
            }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(min(left * 1000 + 1, 60_000)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return output }
            output.append(contentsOf: chunk[..<count])
            if output.count > PasswordCommand.maximumOutput {
                throw failure(name, "printed more than \(PasswordCommand.maximumOutput / 1024) KiB; it must print the password alone")
            }
        }
    }

    /// Waits for `pid` until `deadline`; its exit status and signal, or `nil` on the deadline.
    private static func reap(_ pid: pid_t, until deadline: Date) -> (exit: Int32, signal: Int32)? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7f
                return signal == 0 ? (exit: (status >> 8) & 0xff, signal: 0) : (exit: -1, signal: signal)
            }
            if result < 0, errno != EINTR { return (exit: -1, signal: 0) }
            if Date() >= deadline { return nil }
            usleep(5_000)
        }
    }
}
