import Foundation
import Testing

/// Issue 11 item 5 through the binary: an undeclared `--var` is refused with the runbook's variables;
/// `${env:NAME}` is read when used and never written to the journal; only variables marked
/// `may_change_on_resume` may change on `resume`; `log --tail`; exit status 3 is documented.
@Suite(.enabled(if: CLI.binary != nil))
struct RunbookHygieneCommandLineTests {
    static func runbook(_ directory: String) -> String {
        """
        name: hygiene
        variables:
          source: \(directory)/a.db
          target: \(directory)/b.db
          recovered:
            default: \(directory)/c.db
            may_change_on_resume: true
          flip: ""
        steps:
          - id: copy
            kind: copy
            source: ${source}
            target: ${target}
          - id: flip
            kind: gate
            command: ${flip}
          - id: restore
            kind: copy
            source: ${target}
            target: ${recovered}
        """
    }

    @Test func undeclaredVariablesSecretsAndResumeChanges() throws {
        try withTemporaryDirectory { directory in
            #expect(try CLI.run(["generate", directory + "/a.db", "--sessions", "12", "--events", "2"]).status == 0)
            let file = directory + "/hygiene.yaml"
            try Self.runbook(directory).write(toFile: file, atomically: true, encoding: .utf8)
            let journal = directory + "/run.journal"

            // A typo is an error that lists the variables, before anything runs.
            let typo = try CLI.run(["run", file, "--journal", journal, "--var", "tagret=" + directory + "/x.db"])
            #expect(typo.status == 64 || typo.status == 2, "\(typo.stderr)")
            #expect(
                typo.stderr.contains("has no variable 'tagret'") && typo.stderr.contains("its variables are: source, target, recovered, flip"), "\(typo.stderr)"
            )
            #expect(!FileManager.default.fileExists(atPath: journal) && !FileManager.default.fileExists(atPath: directory + "/x.db"))

            // The flip command's token comes from the environment when the gate runs; the journal never holds it.
            let token = "Tok-5e1d-SECRET"
            let flip = "printf %s \"${env:DEPLOY_TOKEN}\" | rev > \(directory)/flip.out"
            let run = try CLI.run(["run", file, "--journal", journal, "--var", "flip=\(flip)"], environment: ["DEPLOY_TOKEN": token])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try String(contentsOfFile: directory + "/flip.out", encoding: .utf8) == String(token.reversed()), "the gate got the token")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: journal))
            #expect(bytes.range(of: Data(token.utf8)) == nil, "the token is not in the journal")
            #expect(bytes.range(of: Data("${env:DEPLOY_TOKEN}".utf8)) != nil, "the reference is")
            #expect(!run.stdout.contains(token) && !run.stderr.contains(token))

            // Without the variable the gate cannot run, and says so without guessing.
            let journal2 = directory + "/run2.journal"
            let unset = try CLI.run(["run", file, "--journal", journal2, "--var", "flip=\(flip)", "--var", "target=" + directory + "/b2.db"])
            #expect(unset.status == 2 && unset.stderr.contains("${env:DEPLOY_TOKEN} is not set"), "\(unset.stderr)")

            // resume: `recovered` may change (announced), `target` may not.
            let changed = try CLI.run(
                [
                    "resume", "--journal", journal2, "--var", "flip=\(flip)", "--var", "target=" + directory + "/b2.db",
                    "--var", "recovered=" + directory + "/d.db",
                ], environment: ["DEPLOY_TOKEN": token])
            #expect(changed.status == 0, "\(changed.stderr)")
            #expect(changed.stderr.contains("recovered"), "the change is announced: \(changed.stderr)")
            #expect(FileManager.default.fileExists(atPath: directory + "/d.db"))
            let moved = try CLI.run(
                [
                    "resume", "--journal", journal2, "--var", "flip=\(flip)", "--var", "target=" + directory + "/b3.db",
                ], environment: ["DEPLOY_TOKEN": token])
            #expect(moved.status != 0 && moved.stderr.contains("target"), "\(moved.stderr)")

            // log --tail N: the last N events.
            let tail = try CLI.run(["log", "--journal", journal, "--tail", "2", "--format", "json"])
            let lines = tail.stdout.split(separator: "\n")
            #expect(tail.status == 0 && lines.count == 2 && lines.last?.contains("\"run_finished\"") == true, "\(tail.stdout)")

            // Every documented exit status is in --help, 3 included.
            let help = try CLI.run(["--help"])
            #expect(help.stdout.contains("3 a runbook waits at a gate"), "\(help.stdout)")
        }
    }
}
