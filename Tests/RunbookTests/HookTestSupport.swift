import Foundation
import Journal
import SessMigrate
import SessionModel
import Testing

@testable import Runbook

/// A directory with a hook script that records the `SESSMIGRATE_*` variables it was given, one file
/// per run of a hook, and runners of runbooks in it.
final class HookBench {
    let directory: String
    /// Where the recording script writes (`HOOK.STATUS.STEP.N.env`).
    let records: String
    /// `sh …/record.sh`: the command a hook runs to record its environment.
    let record: String
    private let box = Notes()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString)").path
        records = directory + "/records"
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        let script = """
            #!/bin/sh
            # Records this hook's SESSMIGRATE_* variables in a file of its own, then says hello on stdout.
            n=$(ls '\(records)' | wc -l)
            env | grep '^SESSMIGRATE_' | sort > '\(records)/'"$SESSMIGRATE_HOOK.$SESSMIGRATE_STATUS.${SESSMIGRATE_STEP:-run}.$n.env"
            echo "recorded $SESSMIGRATE_HOOK"
            """
        try script.write(toFile: directory + "/record.sh", atomically: true, encoding: .utf8)
        record = "sh '\(directory)/record.sh'"
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// The notes the runners of this bench reported, oldest first.
    var notes: [String] { box.lines }

    /// A runner of `text`, its journal in the directory; transient faults retried once, quickly.
    func runner(_ text: String, journal: String = "run.journal") throws -> RunbookRunner {
        let document = try RunbookDocument.parse(text)
        let variables = try RunbookVariables(document: document, overrides: [:], environment: BotEnvironment(variables: [:]))
        var runner = RunbookRunner(journalPath: directory + "/" + journal, document: document, variables: variables)
        runner.waitAtGates = false
        runner.retry = RetryPolicy(retries: 1, firstDelay: 0.01, maxDelay: 0.01)
        let box = self.box
        runner.events = { event in
            if case .note(let text) = event.event { box.lines.append(text) }
        }
        return runner
    }

    /// Starts a run of `text` (journal `journal`).
    func start(_ text: String, journal: String = "run.journal") throws -> RunOutcome {
        try runner(text, journal: journal).start(runbookText: text)
    }

    /// Resumes the run recorded in `journal`, with the runbook text it recorded.
    func resume(journal: String = "run.journal") throws -> RunOutcome {
        let file = try JournalFile.open(path: directory + "/" + journal, environment: .live(toolVersion: "test"))
        defer { file.close() }
        return try runner(file.runbookText, journal: journal).resume(file)
    }

    func events(journal: String = "run.journal") throws -> [JournalEvent] {
        let file = try JournalFile.open(path: directory + "/" + journal, environment: .live(toolVersion: "test"))
        defer { file.close() }
        return try file.events()
    }

    /// The recorded environments, by file name (`HOOK.STATUS.STEP.N.env`), each as a dictionary.
    func recorded() throws -> [(name: String, variables: [String: String])] {
        try FileManager.default.contentsOfDirectory(atPath: records).sorted { order($0) < order($1) }.map { name in
            let text = try String(contentsOfFile: records + "/" + name, encoding: .utf8)
            var variables: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                variables[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            return (name, variables)
        }
    }

    /// The recorded environments of one hook, moment status and step (`run` for none), oldest first.
    func recorded(_ hook: String, _ status: String, _ step: String) throws -> [[String: String]] {
        try recorded().filter { $0.name.hasPrefix("\(hook).\(status).\(step).") }.map(\.variables)
    }

    private func order(_ name: String) -> Int {
        Int(name.split(separator: ".").dropLast().last ?? "") ?? 0
    }

    /// A SQLite store of `sessions` generated sessions (2 events each) in the directory.
    func store(_ name: String, sessions: Int) throws -> String {
        let path = directory + "/" + name
        let address = try StoreAddress.parse(path, environment: BotEnvironment(variables: [:]))
        _ = try GenerateJob(target: address, sessions: sessions, eventsPerSession: 2, seed: 7).run()
        return path
    }

    final class Notes: @unchecked Sendable {
        // @unchecked: appended to by the runner on the test's own thread only.
        var lines: [String] = []
    }
}

/// True while `pid` runs (a zombie waiting for its parent counts as gone).
func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return !stat[close...].dropFirst(2).hasPrefix("Z")
}

/// The pid a hook wrote to `path`, waiting up to 5 s for it to appear.
func pid(in path: String) throws -> Int32 {
    for _ in 0..<250 {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            return pid
        }
        usleep(20_000)
    }
    throw RunbookError("no pid in \(path)")
}
