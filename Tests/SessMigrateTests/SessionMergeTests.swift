import DriverCore
import SessionModel
import Testing

@testable import SessMigrate

/// The two-sided merge and the `merge` policy, without stores: transcript style.
@Suite struct SessionMergeTests {
    let key = SessionKey(appName: "a", userId: "u", sessionId: "s")

    func event(_ id: String, _ time: Double, delta: JSONObject = [:], text: String = "hi") throws -> Event {
        try Event(data: [
            "id": .string(id), "timestamp": .number(JSONNumber(time)), "author": .string("user"),
            "content": .object(["parts": .array([.object(["text": .string(text)])])]),
            "actions": .object(["state_delta": .object(delta)]),
        ])
    }

    func session(_ events: [Event], state: JSONObject = [:], app: JSONObject = [:], user: JSONObject = [:]) -> Session {
        Session(key: key, state: state, appState: app, userState: user, events: events, lastUpdateTime: events.last?.timestamp ?? 0)
    }

    @Test func bothSidesEventsAreKeptInTimeThenIdOrder() throws {
        let common = try event("e1", 10)
        let source = session([common, try event("s2", 20), try event("s3", 40)])
        let target = session([common, try event("t2", 30), try event("a-tie", 40)])
        guard case .merged(let merged) = SessionMerge.merge(source: source, into: target) else { Issue.record("expected a merge"); return }
        #expect(merged.events.map(\.id) == ["e1", "s2", "t2", "a-tie", "s3"])
        #expect(merged.lastUpdateTime == 40)
    }

    @Test func stateIsTheFoldOfBothSidesDeltasInMergedOrder() throws {
        let source = session(
            [try event("e1", 10, delta: ["k": .string("one")]), try event("s2", 30, delta: ["k": .string("source"), "app:theme": .string("dark")])],
            state: ["k": .string("source"), "init": .bool(true)], app: ["theme": .string("dark")])
        let target = session(
            [try event("e1", 10, delta: ["k": .string("one")]), try event("t2", 20, delta: ["k": .string("target"), "user:name": .string("Zoë")])],
            state: ["k": .string("target")], user: ["name": .string("Zoë")])
        guard case .merged(let merged) = SessionMerge.merge(source: source, into: target) else { Issue.record("expected a merge"); return }
        // s2 (30) comes after t2 (20): its value wins; the key only the source had at create is kept.
        #expect(merged.state == ["k": .string("source"), "init": .bool(true)])
        // Only the keys the target must receive are written into the shared app/user state.
        #expect(merged.appState == ["theme": .string("dark")])
        #expect(merged.userState == [:])
    }

    @Test func aTargetThatHoldsEverythingIsContainedWhateverItsTime() throws {
        let e1 = try event("e1", 10, delta: ["k": .number(JSONNumber(1))])
        let source = session([e1], state: ["k": .number(JSONNumber(1))])
        var target = session([e1, try event("t2", 50, delta: ["k": .number(JSONNumber(2))])], state: ["k": .number(JSONNumber(2))])
        #expect(SessionMerge.merge(source: source, into: target) == .contained)
        target.lastUpdateTime = 5
        #expect(SessionMerge.merge(source: source, into: target) == .contained)
    }

    @Test func theSameIdWithOtherContentIsAConflict() throws {
        let source = session([try event("e1", 10, text: "my order number is 4711")])
        let target = session([try event("e1", 10, text: "something else")])
        #expect(SessionMerge.merge(source: source, into: target) == .conflict(eventIds: ["e1"]))
    }

    @Test func theMergePolicyNeverDropsTheTargetsNewerEvents() throws {
        let planner = CopyPlanner(
            request: CopyRequest(), source: StoreCapabilities(keepsCreateTime: false, keepsExpiry: true),
            target: StoreCapabilities(keepsCreateTime: true, keepsExpiry: false), targetTTLSeconds: 3600)
        let old = try event("e1", 10)
        // The rollout window: the old primary got "4711" after the copy, the new primary got a later turn.
        let source = session([old, try event("s2", 20, text: "my order number is 4711")])
        let target = session([old, try event("t3", 30)])
        guard case .merge(let written) = try planner.decide(source, existing: target, now: 100) else { Issue.record("expected a merge"); return }
        #expect(written.events.map(\.id) == ["e1", "s2", "t3"])
        #expect(try planner.decide(session([old]), existing: target, now: 100) == .unchanged)
        var conflicting = source
        conflicting.events[1] = try event("t3", 30, text: "other")
        #expect(try planner.decide(conflicting, existing: target, now: 100) == .conflict(eventIds: ["t3"]))
    }
}
