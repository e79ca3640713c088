import DriverCore
import Foundation
import RedisDriver
import SessionModel
import Testing

@testable import SessMigrate

/// Issue 13 item 7: names in messages (keys, ids, rows) are bounded (200 characters, then
/// `… (N bytes)`) and their control characters escaped, in every error that names a key and in
/// everything the CLI prints, so a stored name can neither flood the terminal nor forge a line.
struct PrintableNamesTests {
    static let forged = "bad\u{1B}[31m\nforged: everything is fine\u{7}"
    static let huge = String(repeating: "A", count: 200_000)

    /// No escape, bell or newline of a name survives; at most `limit` bytes.
    static func expectClean(_ text: String, limit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(text.prefix(300))", sourceLocation: sourceLocation)
        #expect(text.utf8.count <= limit, "\(text.utf8.count) bytes", sourceLocation: sourceLocation)
    }

    @Test func errorsThatNameKeysAreBoundedAndEscaped() {
        let key = SessionKey(appName: Self.forged, userId: Self.huge, sessionId: "s")
        let data = SessionDataError(store: "redis", location: "session:\(Self.huge)\(Self.forged)", message: "id differs (\(key))")
        Self.expectClean(data.description, limit: 1500)
        #expect(data.description.contains("… (200") && data.description.contains("\\x1b[31m\\nforged"), "\(data.description.prefix(600))")
        Self.expectClean(SkippedSession(data, key: key).description, limit: 2500)
        Self.expectClean(SessionRejectedError(key: key, error: data).description, limit: 2500)
        Self.expectClean(ResumeTokenError(store: "sqlite", token: Self.forged + Self.huge, message: "damaged").description, limit: 500)
        Self.expectClean(SessionKey(appName: Self.forged, userId: Self.huge, sessionId: Self.huge).description, limit: 800)
    }
}

/// The same through the built binary: one bounded, escaped error line; bounded `skipped:` lines.
@Suite(.serialized, .enabled(if: CLI.binary != nil && ProcessInfo.processInfo.environment["SESSMIGRATE_REDIS_URL"] != nil))
struct PrintableNamesCommandLineTests {
    /// Runs the binary with its output in files (a 200 KB line would fill a pipe read in turn).
    static func run(_ arguments: [String], in directory: String) throws -> CLI.Result {
        let (out, err) = (directory + "/stdout-\(UUID().uuidString)", directory + "/stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = try #require(CLI.binary)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        func text(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return CLI.Result(status: process.terminationStatus, stdout: text(out), stderr: text(err))
    }

    /// A Redis blob whose `id` differs from its key printed a 200 KB line (400 KB with --skip-bad).
    @Test func blobIdThatDiffersFromItsKeyIsBounded() throws {
        try withTemporaryDirectory { directory in
            let (address, connection) = try BadInput.redis(58)
            defer { connection.close() }
            try write(try BadInput.goodSessions(), to: address)
            let blob = #"{"id": "\#(PrintableNamesTests.huge)", "app_name": "app", "user_id": "u", "state": {}, "events": [], "last_update_time": 1.0}"#
            _ = try connection.command([Array("SET".utf8), Array("session:x".utf8), Array(blob.utf8)])
            let stopped = try Self.run(["copy", address.description, directory + "/t.db"], in: directory)
            #expect(stopped.status == 2 && stopped.stderr.contains("session:x"), "\(stopped.stderr.prefix(500))")
            #expect(stopped.stderr.split(separator: "\n").count == 1)
            PrintableNamesTests.expectClean(stopped.stderr.dropLast().description, limit: 2000)
            let skipped = try Self.run(["copy", "--skip-bad", "--ttl-from", "now", address.description, directory + "/t.db"], in: directory)
            #expect(skipped.status == 1 && skipped.stdout.contains("skipped:  redis: session:x"), "\(skipped.stdout.prefix(500))")
            #expect(skipped.stdout.utf8.count < 3000, "\(skipped.stdout.utf8.count) bytes")
        }
    }

    /// A key holding `ESC[31m` and a newline forged a second line on the terminal.
    @Test func controlCharactersInKeysCannotForgeLines() throws {
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "source")
            var sessions = try BadInput.goodSessions(count: 2)
            sessions[1].key.sessionId = PrintableNamesTests.forged
            try write(sessions, to: source)
            try BadInput.sqlite3(source, "UPDATE events SET event_data = '{' WHERE session_id <> 'good0'")
            let path = directory + "/source.db"
            let stopped = try Self.run(["copy", path, directory + "/t.db"], in: directory)
            #expect(stopped.status == 2 && stopped.stderr.split(separator: "\n").count == 1, "\(stopped.stderr)")
            PrintableNamesTests.expectClean(stopped.stderr.dropLast().description, limit: 2000)
            #expect(stopped.stderr.contains(#"bad\x1b[31m\nforged"#), "\(stopped.stderr)")
            let skipped = try Self.run(["copy", "--skip-bad", path, directory + "/t.db"], in: directory)
            #expect(skipped.status == 1)
            for line in skipped.stdout.split(separator: "\n") { PrintableNamesTests.expectClean(String(line), limit: 2000) }
            #expect(!skipped.stdout.split(separator: "\n").contains { $0.hasPrefix("forged") }, "\(skipped.stdout)")
            let clean = BadInput.sqlite(directory, "clean")
            try write(sessions, to: clean)
            let empty = BadInput.sqlite(directory, "empty")
            try write([], to: empty)
            let diff = try Self.run(["diff", directory + "/clean.db", directory + "/empty.db"], in: directory)
            #expect(diff.status == 1 && diff.stdout.contains(#"bad\x1b[31m\nforged"#), "\(diff.stdout)")
            #expect(!diff.stdout.split(separator: "\n").contains { $0.hasPrefix("forged") }, "\(diff.stdout)")
            #expect(!diff.stdout.contains("\u{1B}"), "\(diff.stdout)")
        }
    }

    /// JSON output stays valid JSON meaning the same names: `log --format jsonl` (compact JSON, which
    /// leaves DEL, C1 controls and bidirectional overrides raw) after the terminal's escaping.
    @Test func jsonOutputStaysValid() throws {
        try withTemporaryDirectory { directory in
            let name = "tiny\u{7F}\u{202E}\u{85}x"
            let runbook = directory + "/tiny.yaml"
            try "name: \"tiny\\x7F\\u202E\\x85x\"\nsteps:\n  - id: mark\n    kind: watermark\n".write(toFile: runbook, atomically: true, encoding: .utf8)
            let journal = directory + "/j.journal"
            #expect(try Self.run(["run", runbook, "--journal", journal], in: directory).status == 0)
            let log = try Self.run(["log", "--format", "jsonl", "--journal", journal], in: directory)
            let lines = log.stdout.split(separator: "\n")
            #expect(lines.count == 4, "\(log.stdout)")
            for line in lines { PrintableNamesTests.expectClean(String(line), limit: 5000) }
            let first = try #require(lines.first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any], "\(first)")
            #expect((object["detail"] as? [String: Any])?["runbook"] as? String == name, "\(first)")
        }
    }
}
