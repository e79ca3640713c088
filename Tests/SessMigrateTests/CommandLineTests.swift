import Foundation
import Testing

/// End-to-end runs of the built `sessmigrate` binary: exit statuses and what reaches the terminal.
@Suite(.enabled(if: CLI.binary != nil, "the sessmigrate binary is built beside the test bundle"))
struct CommandLineTests {
    @Test(arguments: ["notanaddress", "mysql://u:TopSecret9@h:99999/db", "redis://h/0?layout=weird", "sqlite://x.db"])
    func malformedAddressExits64WithOneLine(address: String) throws {
        let result = try CLI.run(["inspect", address])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!result.stderr.contains("TopSecret9"))
        #expect(result.stdout.isEmpty)
    }

    /// Issue 13 item 9: a socket with another host is a usage error (exit 64) naming both.
    @Test func socketWithAnotherHostExits64() throws {
        let result = try CLI.run(["inspect", "mysql://u:TopSecret9@db.example.com/app?socket=/tmp/none.sock"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("db.example.com") && result.stderr.contains("/tmp/none.sock"), "\(result.stderr)")
        #expect(!result.stderr.contains("TopSecret9"))
    }

    @Test func unreachableHostExits2WithoutThePassword() throws {
        for address in ["mysql://app:TopSecret9@127.0.0.1:1/app", "redis://:TopSecret9@127.0.0.1:1/0"] {
            let result = try CLI.run(["copy", address, "/tmp/never-created-\(UUID().uuidString).db"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("connection failed"))
            #expect(!result.stderr.contains("TopSecret9"))
            #expect(!result.stdout.contains("TopSecret9"))
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"] != nil))
    func wrongPasswordExits2AndNamesTheProblem() throws {
        guard let url = ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"],
            let at = url.lastIndex(of: "@"), let colon = url[url.index(url.startIndex, offsetBy: 8)...].firstIndex(of: ":")
        else { return }
        let wrong = String(url[..<colon]) + ":Wr0ngPassw0rd" + String(url[at...])
        let result = try CLI.run(["inspect", wrong])
        #expect(result.status == 2)
        #expect(result.stderr.contains("authentication failed"))
        #expect(!result.stderr.contains("Wr0ngPassw0rd"))
    }

    @Test func unknownSchemaExits2() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [path, "CREATE TABLE sessions (name TEXT); CREATE TABLE events (x INT);"]
        try sqlite.run()
        sqlite.waitUntilExit()
        let result = try CLI.run(["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unsupported"))
    }

    @Test func missingSQLiteFileIsNotCreatedByInspect() throws {
        let path = "/tmp/sessmigrate-missing-\(UUID().uuidString).db"
        let result = try CLI.run(["inspect", path])
        #expect(result.status == 2)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func diffAndVerifyExitStatusesAndRestoreRefusal() throws {
        try withTemporaryDirectory { directory in
            let (a, b) = (directory + "/a.db", directory + "/b.db")
            #expect(try CLI.run(["generate", a, "--sessions", "30", "--events", "4"]).status == 0)
            #expect(try CLI.run(["copy", a, b]).status == 0)
            #expect(try CLI.run(["diff", a, b]).status == 0)
            #expect(try CLI.run(["verify", a, b]).status == 0)
            #expect(try CLI.run(["verify", "--replay", b]).status == 0)
            #expect(try CLI.run(["copy", a, b, "--mirror"]).status == 64, "--mirror needs --yes")
            let snapshot = directory + "/snap.db"
            #expect(try CLI.run(["snapshot", a, snapshot]).status == 0)
            #expect(try CLI.run(["snapshot", a, snapshot]).status == 2, "an existing snapshot needs --force")

            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [b, "DELETE FROM events WHERE rowid = 3"]
            try sqlite.run()
            sqlite.waitUntilExit()
            let diff = try CLI.run(["diff", a, b, "--format", "json"])
            #expect(diff.status == 1)
            #expect(diff.stdout.contains(#""kind": "changed""#))
            #expect(try CLI.run(["verify", a, b]).status == 1)

            let data = try Data(contentsOf: URL(fileURLWithPath: snapshot))
            try data.prefix(data.count - 4096).write(to: URL(fileURLWithPath: snapshot))
            let restore = try CLI.run(["restore", snapshot, directory + "/restored.db"])
            #expect(restore.status == 2)
            #expect(restore.stderr.contains("damaged"))
            #expect(!FileManager.default.fileExists(atPath: directory + "/restored.db"))
        }
    }

    @Test func inspectJSONIsVersioned() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let result = try CLI.run(["inspect", path, "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix(#"{"format": 1, "#))
        #expect(result.stdout.contains(#""sessions": 0"#))
    }
}

enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `sessmigrate` next to the test bundle (SwiftPM puts both in the same products directory).
    static let binary: URL? = {
        if let path = ProcessInfo.processInfo.environment["SESSMIGRATE_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("sessmigrate")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }()

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        guard let binary else { throw CLIError.notBuilt }
        process.executableURL = binary
        process.arguments = arguments
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

enum CLIError: Error {
    case notBuilt
}
