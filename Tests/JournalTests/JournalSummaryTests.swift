import Journal
import SessionModel
import Testing

@Suite struct JournalSummaryTests {
    @Test func summaryListsEveryStepAndWhatHappensNext() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight")
        log.record(.stepStarted, "copy")
        log.record(.checkpoint, "copy", checkpoint(2))
        let summary = try log.machine().statusReport(journalPath: "/var/lib/j.journal")
        #expect(summary.steps.map(\.id) == runbookSteps)
        #expect(summary.steps.map(\.state.label) == ["done", "running", "pending", "pending", "pending"])
        #expect(summary.steps[1].attempts == 1)
        #expect(summary.steps[1].lastCheckpoint == checkpoint(2))
        #expect(summary.next == .runStep("copy", resumeFrom: checkpoint(2)))
        #expect(summary.nextSentence.contains("`sessmigrate resume --journal /var/lib/j.journal`"))
        #expect(summary.nextSentence.contains("last checkpoint"))
        #expect(summary.lines.count == runbookSteps.count + 1)
        #expect(summary.lines[0] == "step preflight: done, 1 attempt")
        #expect(summary.lines[1].hasPrefix("step copy: running, 1 attempt, last checkpoint {\"cursor\":\"session-200\""))
        #expect(summary.lines[3] == "step flip (gate): pending")
        #expect(summary.lines.last == "next: " + summary.nextSentence)
    }

    @Test func linesWithoutAPathNameTheJournalJ() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.record(.stepStarted, "preflight")
        log.record(.stepFailed, "preflight", ["error": .string("boom")])
        let lines = try log.machine().summary()
        #expect(lines[0] == "step preflight: failed, 1 attempt, error: boom")
        #expect(lines.last?.contains("`sessmigrate resume --journal J`") == true)
    }

    @Test func failedStepSentenceNamesTheError() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.record(.stepStarted, "preflight")
        log.record(.stepFailed, "preflight", ["error": .string("redis: connection refused")])
        let sentence = try log.machine().statusReport(journalPath: "j").nextSentence
        #expect(sentence.contains("preflight failed"))
        #expect(sentence.contains("redis: connection refused"))
        #expect(sentence.contains("sessmigrate resume --journal j"))
    }

    @Test func gateSentenceSaysHowToContinue() throws {
        var log = Transcript()
        log.record(.runStarted)
        log.complete("preflight", "copy", "verify")
        log.record(.gateWaiting, "flip")
        let sentence = try log.machine().statusReport(journalPath: "/tmp/my run.journal").nextSentence
        #expect(sentence.contains("waiting at gate flip"))
        #expect(sentence.contains("`sessmigrate continue --journal '/tmp/my run.journal'`"))
    }

    @Test func notStartedAndFinishedSentences() throws {
        var log = Transcript()
        #expect(try log.machine().statusReport(journalPath: "j").nextSentence.contains("has not started"))
        log.record(.runStarted)
        log.record(.runFinished)
        #expect(try log.machine().statusReport(journalPath: "j").nextSentence.contains("is finished"))
    }
}
