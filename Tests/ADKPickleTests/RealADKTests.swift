import ADKPickle
import Foundation
import SessionModel
import Testing

/// Loads what ``EventActionsPickle/encode(_:protocol:)`` writes in the real ADK (make_fixtures.py
/// `verify`): 2.13 through its restricted unpickler and `model_validate`, 1.21 through
/// `pickle.loads` and `model_copy`. Skipped when scripts/setup has not installed the venv.
@Suite struct RealADKTests {
    /// Hand-written cases plus what 2.13 reads from every fixture, each at protocols 4 and 5.
    static func cases(forADK121: Bool) -> [(name: String, actions: JSONObject)] {
        var cases = ActionsCases.all
        for fixture in PickleFixture.all where fixture.protocol == 4 {
            if let actions = try? EventActionsPickle.decode(fixture.bytes) {
                cases.append(("fixture_\(fixture.writer.replacingOccurrences(of: ".", with: ""))_\(fixture.name)", actions))
            }
        }
        return forADK121 ? cases.filter { !ActionsCases.holdsBytes($0.actions) } : cases
    }

    @Test(.enabled(if: TestFiles.python("venv-community") != nil))
    func adk213LoadsWhatWeWrite() throws {
        try verify(venv: "venv-community", cases: Self.cases(forADK121: false))
    }

    @Test(.enabled(if: TestFiles.python("venv-adk121") != nil))
    func adk121LoadsWhatWeWrite() throws {
        try verify(venv: "venv-adk121", cases: Self.cases(forADK121: true))
    }

    private func verify(venv: String, cases: [(name: String, actions: JSONObject)]) throws {
        let python = try #require(TestFiles.python(venv))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adkpickle-\(venv)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var expectedNames: [String] = []
        for (name, actions) in cases {
            var allowed = actions
            for key in EventActionsPickle.fieldsUnknownToV0Era(actions) { allowed[key] = nil }
            for version in [4, 5] {
                let file = "\(name)_v\(version)"
                try Data(try EventActionsPickle.encode(actions, protocol: version)).write(to: folder.appendingPathComponent(file + ".pickle"))
                try Data(allowed.serialized(.python).utf8).write(to: folder.appendingPathComponent(file + ".json"))
                expectedNames.append(file)
            }
        }
        let lines = try run(python, [TestFiles.fixtures.appendingPathComponent("make_fixtures.py").path, "verify", folder.path])
        #expect(lines.count == expectedNames.count)
        for line in lines where !line.hasPrefix("ok ") { Issue.record("\(venv): \(line.prefix(600))") }
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
