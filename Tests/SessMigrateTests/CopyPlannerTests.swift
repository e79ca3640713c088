import DriverCore
import SessionModel
import Testing

@testable import SessMigrate

/// The copy decisions, without any store: transcript style.
@Suite struct CopyPlannerTests {
    let sql = StoreCapabilities(keepsCreateTime: true, keepsExpiry: false)
    let redis = StoreCapabilities(keepsCreateTime: false, keepsExpiry: true)
    let now = 1_800_000_000.0

    func session(_ id: String = "s", updated: Double, events: [String] = [], state: JSONObject = [:]) throws -> Session {
        let list = try events.enumerated().map { index, eventId in
            try Event(data: ["id": .string(eventId), "timestamp": .number(JSONNumber(updated - Double(events.count - index)))])
        }
        return Session(key: SessionKey(appName: "a", userId: "u", sessionId: id), state: state, events: list, lastUpdateTime: updated)
    }

    func planner(_ options: CopyRequest = CopyRequest(), from: StoreCapabilities, to: StoreCapabilities) -> CopyPlanner {
        CopyPlanner(request: options, source: from, target: to, targetTTLSeconds: 3600)
    }

    @Test func newSessionsAreInsertedAndEqualOnesUnchanged() throws {
        let p = planner(from: sql, to: sql)
        let s = try session(updated: now - 10, events: ["e1"])
        #expect(try p.decide(s, existing: nil, now: now) == .insert(s))
        #expect(try p.decide(s, existing: s, now: now) == .unchanged)
    }

    @Test func newerTargetIsKeptOlderTargetIsMergedByEventId() throws {
        var options = CopyRequest()
        options.onConflict = .newer
        let p = planner(options, from: sql, to: sql)
        let source = try session(updated: now - 10, events: ["e1", "e2"], state: ["k": .string("source")])
        let newerTarget = try session(updated: now - 5, events: ["e1"])
        #expect(try p.decide(source, existing: newerTarget, now: now) == .keptNewerTarget)

        var olderTarget = try session(updated: now - 100, events: ["e0"], state: ["k": .string("old"), "t": .bool(true)])
        olderTarget.events = [try Event(data: ["id": .string("e0"), "timestamp": .number(JSONNumber(now - 200))])]
        guard case .update(let merged) = try p.decide(source, existing: olderTarget, now: now) else {
            Issue.record("expected an update"); return
        }
        #expect(merged.events.map(\.id) == ["e0", "e1", "e2"])
        #expect(merged.state == ["k": .string("source"), "t": .bool(true)])
        #expect(merged.lastUpdateTime == now - 10)
    }

    @Test func sourceSkipAndFailPolicies() throws {
        let source = try session(updated: now - 10, events: ["e1"])
        let other = try session(updated: now - 1, events: ["x"])
        var options = CopyRequest()
        options.onConflict = .source
        #expect(try planner(options, from: sql, to: sql).decide(source, existing: other, now: now) == .update(source))
        options.onConflict = .skip
        #expect(try planner(options, from: sql, to: sql).decide(source, existing: other, now: now) == .skippedExisting)
        options.onConflict = .fail
        #expect(throws: ConflictError.self) { try planner(options, from: sql, to: sql).decide(source, existing: other, now: now) }
        #expect(try planner(options, from: sql, to: sql).decide(source, existing: source, now: now) == .unchanged)
    }

    @Test func expiryCountsFromLastUpdateAndExpiredSessionsAreSkipped() throws {
        let fresh = try session(updated: now - 600)
        let stale = try session(updated: now - 7200)
        let p = planner(from: sql, to: redis)
        guard case .insert(let written) = try p.decide(fresh, existing: nil, now: now) else { Issue.record("not inserted"); return }
        #expect(written.expiry == .at(now - 600 + 3600))
        #expect(try p.decide(stale, existing: nil, now: now) == .skippedExpired)

        var options = CopyRequest()
        options.ttl.includeExpired = true
        guard case .insert(let revived) = try planner(options, from: sql, to: redis).decide(stale, existing: nil, now: now) else {
            Issue.record("not inserted"); return
        }
        #expect(revived.expiry == .at(now + 3600))

        options = CopyRequest()
        options.ttl.origin = .now
        options.ttl.seconds = 60
        guard case .insert(let fromNow) = try planner(options, from: sql, to: redis).decide(stale, existing: nil, now: now) else {
            Issue.record("not inserted"); return
        }
        #expect(fromNow.expiry == .at(now + 60))
    }

    @Test func redisToRedisKeepsTheSourceExpiry() throws {
        var s = try session(updated: now - 7200)
        s.expiry = .never
        #expect(try planner(from: redis, to: redis).decide(s, existing: nil, now: now) == .insert(s))
        s.expiry = .at(now + 5)
        #expect(try planner(from: redis, to: redis).decide(s, existing: nil, now: now) == .insert(s))
    }

    @Test func expiryIsDroppedForStoresWithoutIt() throws {
        var s = try session(updated: now)
        s.expiry = .at(now + 5)
        guard case .insert(let written) = try planner(from: redis, to: sql).decide(s, existing: nil, now: now) else {
            Issue.record("not inserted"); return
        }
        #expect(written.expiry == nil)
    }

    @Test func filterScopes() throws {
        var filter = SessionScope()
        filter.apps = ["a"]
        filter.updatedSince = now - 100
        #expect(filter.matches(try session(updated: now - 50)))
        #expect(!filter.matches(try session(updated: now - 500)))
        filter.users = ["other"]
        #expect(!filter.matches(try session(updated: now - 50)))
    }
}
