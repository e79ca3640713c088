import Foundation
import SessMigrate
import SessionModel

#if canImport(Glibc)
    import Glibc
#endif

/// A `gate` with a `command` runs it with `/bin/sh -c` and passes when it exits 0; a gate without
/// one is handled by the runner (it waits for `sessmigrate continue`).
///
/// The command is started with `posix_spawn` and waited for with `waitpid`: only the shell's own
/// exit counts, so a command that leaves a process running in the background (`cmd &`, a daemon, a
/// helper a CLI spawns) does not hold the runbook. Its standard input is `/dev/null`; its output
/// goes to the runner's standard error, so the operator sees it and stdout stays for results; no
/// other descriptor of the runner (store connections, the journal) reaches it.
enum Gate {
    static func run(_ context: StepContext) throws -> JSONObject {
        guard let command = try context.value("command"), !command.isEmpty else { return ["waited": .bool(true)] }
        if context.dryRun { return ["command": .string("(not run in a dry run)")] }
        let status = try runShell(command)
        guard status == 0 else {
            throw StepFailure("gate '\(context.id)': the command exited with status \(status)")
        }
        return ["command_status": .number(JSONNumber(0)), "time": .string(PythonFloat.repr(context.now()))]
    }

    /// Runs `command` with `/bin/sh -c` and returns its exit status (128 + signal if killed).
    static func runShell(_ command: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        // The command inherits none of the runner's other descriptors (store connections, the journal).
        for descriptor in openDescriptors() where descriptor > 2 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // Default dispositions and an empty mask: sessmigrate ignores SIGPIPE, a shell pipeline must not.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        guard spawned == 0 else { throw StepFailure("gate: cannot start /bin/sh (errno \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw StepFailure("gate: waitpid failed (errno \(errno))") }
        }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// The descriptors open in this process (from `/proc/self/fd`).
    static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        // The directory's own descriptor is listed too and closed by then: closing it in the child fails harmlessly.
        return names.compactMap { Int32($0) }.filter { fcntl($0, F_GETFD) != -1 }
    }
}
