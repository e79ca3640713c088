import Foundation

/// Which process holds a pid, beyond the pid itself: the boot it runs in and its start time, from
/// Linux's `/proc` (`/proc/sys/kernel/random/boot_id`, field 22 of `/proc/PID/stat`, in clock ticks
/// since boot). A pid is reused once its process exits; the pair (boot, start time) is not, so a lock
/// recording it names its holder's process exactly (issue 13 item 4). `nil` where `/proc` is missing.
public struct ProcessIdentity: Sendable, Hashable {
    /// `/proc/sys/kernel/random/boot_id`.
    public var bootId: String
    /// Field 22 (`starttime`) of `/proc/PID/stat`.
    public var startTime: String

    public init(bootId: String, startTime: String) {
        self.bootId = bootId
        self.startTime = startTime
    }

    /// The identity of the process running as `pid` now, if any.
    public static func of(pid: Int32) -> ProcessIdentity? {
        guard pid > 0,
            let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come fields 3, 4, …: field 22 is at index 19. comm may hold spaces and ')'.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return ProcessIdentity(bootId: boot.trimmingCharacters(in: .whitespacesAndNewlines), startTime: String(fields[19]))
    }
}
