import Foundation
import Testing

@testable import Runbook

/// Gate commands: only the shell's own exit counts.
@Suite struct GateTests {
    @Test func aBackgroundProcessDoesNotHoldTheGate() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try Gate.runShell("sleep 300 & echo $! > '\(file)'") == 0)
        // The shell returned while its background child still runs: the gate did not wait for it.
        let pid = try #require(Int32(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        kill(pid, SIGKILL)
    }

    @Test func exitStatusesAndSignalsAreReported() throws {
        #expect(try Gate.runShell("true") == 0)
        #expect(try Gate.runShell("exit 3") == 3)
        #expect(try Gate.runShell("kill -TERM $$") == 128 + SIGTERM)
    }

    @Test func theCommandInheritsNoOtherDescriptor() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gate-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let held = open("/dev/null", O_RDONLY)
        defer { close(held) }
        #expect(try Gate.runShell("ls /proc/$$/fd > '\(path)'") == 0)
        let seen = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        #expect(!seen.contains(held))
    }
}
