import DriverCore
import Foundation
import SessionModel
import Testing

/// This process's side of a ``FenceRace``: the rounds of fenced writes and consistency checks,
/// and the final check against the bot's ledger.
struct RaceState {
    let race: FenceRace
    var figures = FenceRace.Figures()
    private var number = 0
    /// The events of fenced writes that were made (not refused), by session id.
    private var fencedEvents: [String: [String]] = [:]
    /// Sessions this process created with `expected == nil`.
    private var createdIds: [String] = []

    init(race: FenceRace) { self.race = race }

    private func key(_ id: String) -> SessionKey { SessionKey(appName: race.app, userId: race.user, sessionId: id) }

    /// One round: fetch the versions, write one event more into each contended session (and
    /// every fifth round a new session, and an `expected == nil` write of an existing one, which
    /// must be refused), then check a scan and a fetch of the sessions never written here.
    mutating func round(_ store: any SessionStore) throws {
        figures.rounds += 1
        let versions = try store.fetchVersionedSessions(race.contended.map(key))
        var writes: [FencedWrite] = []
        for id in race.contended {
            guard let current = versions[key(id)] else {
                Issue.record("contended session \(id) is missing from the store")
                continue
            }
            writes.append(FencedWrite(session: try adding(to: current.session), expected: current.version))
        }
        var mustCreate: SessionKey?
        var mustRefuse: SessionKey?
        if figures.rounds % 5 == 1, let existing = race.readOnly.first {
            number += 1
            let id = "sm-new-\(number)"
            mustCreate = key(id)
            writes.append(FencedWrite(session: try adding(to: Session(key: key(id), lastUpdateTime: 0)), expected: nil))
            mustRefuse = key(existing)
            writes.append(FencedWrite(session: try adding(to: Session(key: key(existing), lastUpdateTime: 0)), expected: nil))
        }
        let refused = try store.writeSessions(fenced: writes)
        for write in writes where write.session.key != mustRefuse {
            if refused.contains(write.session.key) {
                figures.refused += 1
            } else {
                figures.written += 1
                fencedEvents[write.session.key.sessionId, default: []].append(write.session.events.last?.id ?? "")
            }
        }
        if let mustRefuse { #expect(refused.contains(mustRefuse), "expected == nil against existing \(mustRefuse) was written") }
        if let mustCreate {
            #expect(!refused.contains(mustCreate), "the new session \(mustCreate) was refused")
            createdIds.append(mustCreate.sessionId)
            figures.created += 1
        }
        if race.checksReadConsistency { try checkReads(store) }
        Thread.sleep(forTimeInterval: 0.002)
    }

    /// `session` with one event more (timestamped 10 µs after its last update, which it becomes;
    /// now for a new session) and an app and a user state key to set. Not "now": the bot's next
    /// event was stamped when the bot made it, and google-adk-redis appends it to whatever blob it
    /// finds, so an event of ours stamped later would put the blob's events out of time order.
    private mutating func adding(to session: Session) throws -> Session {
        number += 1
        let now = session.lastUpdateTime > 0 ? session.lastUpdateTime + 0.00001 : Date().timeIntervalSince1970
        let id = "sm-\(number)"
        let json = """
            {"content": {"parts": [{"text": "fenced \(number)"}], "role": "user"}, "invocation_id": "sm-inv-\(number)", \
            "author": "user", "actions": {"state_delta": {}, "artifact_delta": {}, "requested_auth_configs": {}, \
            "requested_tool_confirmations": {}}, "id": "\(id)", "timestamp": \(JSONNumber(now).literal)}
            """
        var copy = session
        copy.events.append(try Event(data: JSONValue.parseObject(json)))
        copy.lastUpdateTime = now
        copy.appState = ["sm": .number(JSONNumber(number))]
        copy.userState = ["sm": .number(JSONNumber(number))]
        return copy
    }

    /// No session that only the bot writes may be read with an `update_time` older than its
    /// newest event (DATETIME(6) rounds to the microsecond: 1 µs of slack).
    private mutating func checkReads(_ store: any SessionStore) throws {
        let cursor = try store.scanSessions(SessionQuery(scope: SessionScope(apps: [race.app]), batchSize: 2))
        var scanned: [Session] = []
        while let session = try cursor.next() { scanned.append(session) }
        figures.pagesChecked += (scanned.count + 1) / 2
        let fetched = try store.fetchVersionedSessions(race.readOnly.map(key)).values.map(\.session)
        for session in scanned + fetched where !isWrittenHere(session.key.sessionId) {
            guard let newest = session.events.map(\.timestamp).max() else { continue }
            if session.lastUpdateTime + 0.000001 < newest {
                Issue.record(
                    "\(session.key) read with update_time \(session.lastUpdateTime) older than its newest event (\(newest)): row and events read at different moments"
                )
            }
        }
    }

    private func isWrittenHere(_ id: String) -> Bool { race.contended.contains(id) || id.hasPrefix("sm-") }

    /// Every ledger event and every fenced event written is in the store; the bot met no error.
    func check(_ store: any SessionStore, ledger: BotLedger) throws -> FenceRace.Figures {
        var figures = figures
        figures.botEvents = ledger.events.values.reduce(0) { $0 + $1.count }
        figures.botStale = ledger.stale
        figures.botCreated = ledger.created.count - race.contended.count - race.readOnly.count
        #expect(ledger.isDone, "the bot's ledger has no done line")
        #expect(ledger.errors.isEmpty, "ADK raised more than its stale-session error: \(ledger.errors.prefix(5))")
        let ids = Set(race.contended + race.readOnly + ledger.created + createdIds)
        let stored = try store.fetchSessions(ids.map(key))
        for id in ids.sorted() {
            guard let session = stored[key(id)] else {
                Issue.record("session \(id) is missing")
                continue
            }
            let present = Set(session.events.map(\.id))
            let lost = (ledger.events[id] ?? []).filter { !present.contains($0) }
            #expect(lost.isEmpty, "\(id): \(lost.count) events ADK appended are lost: \(lost.prefix(3))")
            if race.keepsFencedEvents {
                let ours = (fencedEvents[id] ?? []).filter { !present.contains($0) }
                #expect(ours.isEmpty, "\(id): \(ours.count) events of fenced writes that were made are lost: \(ours.prefix(3))")
            }
        }
        return figures
    }
}
