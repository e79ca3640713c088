import DriverCore
import Foundation
import SessionModel
import Testing

@testable import Runbook

/// Issue 11 item 3: the journal stays flat. Kept, skipped and conflicted sessions are named at most
/// ``RunbookRunner/journaledNamesLimit`` times per step in all; each later batch records its count only.
struct JournalBoundsTests {
    static func keys(_ batch: Int, _ count: Int) -> [SessionKey] {
        (0..<count).map { SessionKey(appName: "app", userId: "u", sessionId: "b\(batch)-\($0)") }
    }

    @Test func namesAreCappedPerStepAndCountsKept() throws {
        var named = 0
        var sizes: [Int] = []
        var counted = 0
        for batch in 0..<30 {
            let (kind, detail) = try #require(RunbookRunner.namesEvent(.kept(Self.keys(batch, 100)), alreadyNamed: &named))
            #expect(kind == .sessionsKept)
            counted += Int(detail["count"]?.doubleValue ?? 0)
            sizes.append(JSONValue.object(detail).serialized(.compact).utf8.count)
        }
        #expect(named == RunbookRunner.journaledNamesLimit)
        #expect(counted == 3000, "every batch's count is recorded")
        #expect(sizes[10...].allSatisfy { $0 < 40 }, "after the cap an event holds its count only: \(sizes)")
        // The cap is per step and shared by the kinds.
        let (_, skipped) = try #require(
            RunbookRunner.namesEvent(
                .skipped([SkippedSession(store: "sqlite", location: "sessions row b99-0", reason: "bad", key: Self.keys(99, 1)[0])]), alreadyNamed: &named))
        #expect(skipped["count"]?.doubleValue == 1 && skipped["sessions"] == .array([]))
        var fresh = 0
        let (_, first) = try #require(RunbookRunner.namesEvent(.kept(Self.keys(0, 5)), alreadyNamed: &fresh))
        #expect(first["sessions"]?.arrayValue?.count == 5 && fresh == 5)
    }
}
