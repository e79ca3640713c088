import Foundation
import Testing

/// The two-sided merge end to end through the binary: a session changed on both sides is merged (the
/// union of the events), a session whose event id holds different content on each side is a conflict:
/// listed, left as the target has it, and the copy exits 1.
@Suite(.enabled(if: CLI.binary != nil))
struct ConflictCommandLineTests {
    static func sqlite(_ file: String, _ statement: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [file, statement]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aConflictIsListedLeftAsTheTargetHasItAndExits1() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = (directory + "/a.db", directory + "/b.db")
            #expect(try CLI.run(["generate", a, "--sessions", "6", "--events", "2"]).status == 0)
            #expect(try CLI.run(["copy", a, b]).status == 0)
            let sessions = try Self.sqlite(a, "SELECT id FROM sessions ORDER BY id").split(separator: "\n").map(String.init)
            let (conflicting, merged) = (sessions[0], sessions[1])
            // The target's copy of one event of `conflicting` now says something else (same id).
            let event = try Self.sqlite(b, "SELECT id FROM events WHERE session_id = '\(conflicting)' ORDER BY timestamp LIMIT 1")
            _ = try Self.sqlite(b, "UPDATE events SET event_data = json_set(event_data, '$.author', 'other') WHERE id = '\(event)'")
            let targetBefore = try Self.sqlite(b, "SELECT event_data FROM events WHERE session_id = '\(conflicting)' ORDER BY id")
            // Both sides gained an event in `merged` (the source one later than the target one), and the
            // source one in `conflicting` too.
            for (file, suffix, offset) in [(a, "src", 20.0), (b, "dst", 10.0)] {
                _ = try Self.sqlite(
                    file,
                    "INSERT INTO events SELECT id || '-\(suffix)', app_name, user_id, session_id, invocation_id, timestamp + \(offset), "
                        + "json_set(event_data, '$.id', id || '-\(suffix)', '$.timestamp', timestamp + \(offset)) FROM events "
                        + "WHERE session_id IN ('\(merged)'\(file == a ? ", '\(conflicting)'" : "")) ORDER BY timestamp DESC LIMIT \(file == a ? 2 : 1)")
                _ = try Self.sqlite(
                    file, "UPDATE sessions SET update_time = (SELECT MAX(timestamp) FROM events e WHERE e.session_id = sessions.id)")
            }
            let copy = try CLI.run(["copy", a, b])
            #expect(copy.status == 1, "\(copy.stdout)\(copy.stderr)")
            #expect(
                copy.stdout.contains("conflict: ") && copy.stdout.contains(conflicting) && copy.stdout.contains("left as the target has it"), "\(copy.stdout)")
            #expect(try Self.sqlite(b, "SELECT event_data FROM events WHERE session_id = '\(conflicting)' ORDER BY id") == targetBefore)
            // The merged session holds both sides' new events.
            let ids = try Self.sqlite(b, "SELECT id FROM events WHERE session_id = '\(merged)'")
            #expect(ids.contains("-src") && ids.contains("-dst"), "\(ids)")
            let json = try CLI.run(["copy", a, b, "--format", "json"])
            #expect(json.status == 1 && json.stdout.contains("\"conflict_count\": 1"), "\(json.stdout)")
        }
    }
}
