import Foundation
import MySQLDriver
import Testing

@testable import SessMigrate

/// Issue 13 item 3 through the binary: `copy` into an empty MySQL database killed (SIGKILL, by the
/// test hook `SESSMIGRATE_TEST_KILL_AFTER_SCHEMA_STATEMENTS=N`) right after each statement of the
/// schema creation; the same copy run again completes and `verify` finds source and target identical.
@Suite(.serialized, .enabled(if: CLI.binary != nil && ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"] != nil))
struct SchemaKillTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process.TerminationReason, Int32, String) {
        let process = Process()
        process.executableURL = try #require(CLI.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let error = Pipe()
        process.standardError = error
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus, text)
    }

    @Test(arguments: 1...6)
    func killedAtEachSchemaStatementThenCopied(count: Int) throws {
        let (target, admin) = try BadInput.mysql("kill\(count)")
        defer { BadInput.dropMySQL(target, admin) }
        try withTemporaryDirectory { directory in
            let source = BadInput.sqlite(directory, "source")
            try write(try BadInput.goodSessions(count: 5), to: source)
            guard case .mysql(let mysql) = target, let url = ProcessInfo.processInfo.environment["SESSMIGRATE_MYSQL_URL"],
                let slash = url.lastIndex(of: "/")
            else { return }
            let (sourcePath, targetURL) = (directory + "/source.db", String(url[...slash]) + mysql.database)
            let killed = try Self.run(
                ["copy", sourcePath, targetURL], environment: ["SESSMIGRATE_TEST_KILL_AFTER_SCHEMA_STATEMENTS": String(count)])
            #expect(killed.0 == .uncaughtSignal && killed.1 == SIGKILL, "not killed: \(killed)")
            let tables = try admin.query("SHOW TABLES", buffered: true).collect().count
            #expect(tables == min(count, 5), "\(tables) tables after \(count) statements")
            let copied = try Self.run(["copy", sourcePath, targetURL])
            #expect(copied.0 == .exit && copied.1 == 0, "\(copied.2)")
            let verified = try Self.run(["verify", sourcePath, targetURL])
            #expect(verified.0 == .exit && verified.1 == 0, "\(verified.2)")
        }
    }
}
