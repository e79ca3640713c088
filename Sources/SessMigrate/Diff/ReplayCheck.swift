import DriverCore
import SessionModel

/// `verify --replay STORE`: checks a store against itself, from what the store holds.
///
/// **What ADK does** (docs/adk-data-model.md §1, §9, §13, §14). `create_session(state=…)` stores an
/// initial state; every `append_event` then applies the event's `actions.state_delta` (`temp:` keys
/// removed) with `dict.update`: session keys to the session, `app:`/`user:` keys to the state shared
/// by every session of the app / of the user. Nothing is ever deleted from state.
///
/// **What the store keeps of the initial state.** No layout stores it apart, and no event records
/// it. DatabaseSessionService (MySQL, SQLite), SqliteSessionService and google-adk-redis merge its
/// session keys into the session's state and its `app:`/`user:` keys into the shared app and user
/// state, where they are indistinguishable from other sessions' writes. google-adk-community keeps
/// the whole initial state in the session blob, `app:`/`user:` keys included (they stay private to
/// the session, and the store shows them as session keys unless the shared hash has the key). So
/// the part of a session's initial state that can be known is exactly its stored keys that none of
/// its events sets, with their stored values.
///
/// **What the check proves, so reports as mismatches** (a store written only by ADK has none):
/// 1. Session state: replaying the session's events in stored order from its initial state gives
///    the stored state. That is, every session key an event of the session sets holds the value
///    the last such event set: the initial state comes before every event, so it cannot explain
///    another value, and no other session writes this session's state.
/// 2. App and user state: every key an event of any stored session of the app (of the user) sets
///    is in the stored app (user) state, as `dict.update` never deletes.
///
/// **What it cannot prove, so only counts** (``Summary``):
/// - the values of the initial state's keys (``Summary/initialKeys``): there is nothing to replay;
/// - app and user *values*: the last write of a shared key may be an initial state given to
///   `create_session` (recorded nowhere), an event of a session deleted or expired since (Redis
///   state hashes outlive session blobs), or an append that came after a later-stamped one
///   (concurrent requests). A stored value that is not the latest-stamped stored event's is counted
///   (``Summary/sharedValuesNotFromLatestEvent``), as are shared keys no stored event sets
///   (``Summary/sharedKeysNotFromEvents``). So an edited app or user value is not detected.
///
/// A stored value matches the replayed one when it is what ADK stores for it, which is not always the
/// event's value (see ``StoredStateValue``).
///
/// Events are replayed in stored order (timestamp, then id or insertion order), ADK applied them in
/// append order: the same for a session whose events were appended one after another, but two
/// events of one session appended out of timestamp order that set one key differently would be
/// reported. Run it on a store nobody writes meanwhile: an event written between the reads of its
/// session and of its app or user state can be reported.
public struct ReplayCheck {
    /// A state that does not match its replay.
    public struct Mismatch: Sendable, Hashable {
        /// `session app/user/id`, `app NAME` or `user app/user`.
        public var scope: String
        /// The state keys concerned.
        public var keys: [String]
        /// What is wrong with them.
        public var reason: String
    }

    public struct Summary: Sendable {
        public var sessions = 0
        public var events = 0
        public var mismatches: [Mismatch] = []
        /// Stored session keys that no event of their session sets: the known part of the initial
        /// states (google-adk-community: with the `app:`/`user:` keys given to `create_session` that
        /// the shared hashes lack).
        public var initialKeys = 0
        /// Stored app and user keys that no stored event sets (initial states given to
        /// `create_session`, or sessions no longer in the store).
        public var sharedKeysNotFromEvents = 0
        /// Stored app and user keys set by stored events whose value is not the latest-stamped of
        /// them (last written by an initial state, a session no longer in the store, or an append
        /// out of timestamp order).
        public var sharedValuesNotFromLatestEvent = 0
        public var seconds = 0.0
        public var isConsistent: Bool { mismatches.isEmpty }
    }

    public var batchSize: Int

    public init(batchSize: Int = 500) {
        self.batchSize = batchSize
    }

    /// Replays every session of `store`.
    public func run(_ store: any SessionStore) throws -> Summary {
        let started = Clock.epochSeconds()
        var summary = Summary()
        var apps = SharedScopes()
        var users = SharedScopes()
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
        while let session = try cursor.next() {
            summary.sessions += 1
            summary.events += session.events.count
            let appKey = ScopeOwner(parts: [session.key.appName])
            let userKey = ScopeOwner(parts: [session.key.appName, session.key.userId])
            apps.stored(session.appState, for: appKey)
            users.stored(session.userState, for: userKey)
            var replayed = JSONObject()
            for event in session.events {
                guard case .object(let actions)? = event.data["actions"], case .object(let delta)? = actions["state_delta"] else { continue }
                let split = StateScopes.split(delta)
                replayed.update(with: split.session)
                apps.written(split.app, at: event.timestamp, for: appKey)
                users.written(split.user, at: event.timestamp, for: userKey)
            }
            // The initial state's known part (keys no event sets) replays to itself; every other
            // stored key must hold what the replay of the events gives.
            let wrong = replayed.filter { key, value in
                !(session.state[key].map { StoredStateValue.matches($0, replayed: value) } ?? false)
            }.map(\.key)
            if !wrong.isEmpty {
                summary.mismatches.append(
                    Mismatch(
                        scope: "session \(session.key)", keys: wrong, reason: "not the value the session's last event set"))
            }
            summary.initialKeys += session.state.keys.filter { replayed[$0] == nil }.count
        }
        apps.check(into: &summary, name: "app")
        users.check(into: &summary, name: "user")
        summary.seconds = Clock.epochSeconds() - started
        return summary
    }
}

/// An app (`[app]`) or a user (`[app, user]`), ordered as ``SessionKey`` orders names.
private struct ScopeOwner: Hashable, Comparable, CustomStringConvertible {
    var parts: [String]

    static func < (lhs: ScopeOwner, rhs: ScopeOwner) -> Bool {
        lhs.parts.lexicographicallyPrecedes(rhs.parts) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    var description: String { parts.joined(separator: "/") }
}

/// The app (or user) states of a store and what the stored events wrote into them.
private struct SharedScopes {
    typealias Owner = ScopeOwner

    private struct Latest {
        var time: Double
        var value: JSONValue
    }

    /// Per owner: the stored state last read, and every key any read of it held (keys are never
    /// deleted, so a key read once was in the store). Keys by their bytes, as ADK's.
    private var stored: [Owner: (state: JSONObject, keys: Set<ExactString>)] = [:]
    /// Per owner and key: the latest-stamped event write.
    private var written: [Owner: [ExactString: Latest]] = [:]

    mutating func stored(_ state: JSONObject, for owner: Owner) {
        stored[owner, default: (state, [])].state = state
        stored[owner]?.keys.formUnion(state.keys.map(ExactString.init))
    }

    mutating func written(_ delta: JSONObject, at time: Double, for owner: Owner) {
        for (key, value) in delta where (written[owner]?[ExactString(key)]?.time ?? -.infinity) <= time {
            written[owner, default: [:]][ExactString(key)] = Latest(time: time, value: value)
        }
    }

    /// Reports keys written by events and missing from the stored state; counts the rest.
    func check(into summary: inout ReplayCheck.Summary, name: String) {
        for (owner, entry) in stored {
            summary.sharedKeysNotFromEvents += entry.state.keys.filter { written[owner]?[ExactString($0)] == nil }.count
        }
        for (owner, writes) in written.sorted(by: { $0.key < $1.key }) {
            let entry = stored[owner]
            let missing = writes.keys.filter { !(entry?.keys.contains($0) ?? false) }.sorted().map(\.string)
            if !missing.isEmpty {
                summary.mismatches.append(
                    ReplayCheck.Mismatch(
                        scope: "\(name) \(owner)", keys: missing, reason: "set by an event, missing from the stored \(name) state"))
            }
            summary.sharedValuesNotFromLatestEvent +=
                writes.filter { key, latest in
                    entry?.state[key.string].map { !StoredStateValue.matches($0, replayed: latest.value) } ?? false
                }.count
        }
    }
}

/// How ADK stores a state value that an event's `state_delta` holds, where that differs from the value:
/// DatabaseSessionService and SqliteSessionService store `pydantic_core.to_jsonable_python(value)` and
/// google-adk-redis a json-mode dump of the session, which write `bytes` as their UTF-8 text while
/// `event_data` holds them as base64 (docs/adk-data-model.md §7.1, §9); SqliteSessionService merges
/// state in SQL, which cuts a top-level string at its first NUL (docs/TESTING.md, store quirks). The
/// stored value stays so after a copy to any other store. Checked with the real ADK in
/// Tests/Interop/generate_replay.py.
enum StoredStateValue {
    /// True when `stored` is `replayed`, or what ADK stores for it.
    static func matches(_ stored: JSONValue, replayed: JSONValue, topLevel: Bool = true) -> Bool {
        if stored.isEquivalent(to: replayed) { return true }
        switch (stored, replayed) {
        case (.string(let text), .string(let eventText)):
            // The cut is at the NUL byte, even where a combining mark follows it (one Character to Swift).
            if topLevel, let nul = eventText.utf8.firstIndex(of: 0), text.isExactly(String(eventText[..<nul])) { return true }
            let base64 = Base64.urlSafe(Array(text.utf8))
            return eventText == base64 || eventText == Base64Alphabet.toStandard(base64)
        case (.object(let object), .object(let eventObject)):
            return object.count == eventObject.count
                && eventObject.allSatisfy { key, value in
                    object[key].map { matches($0, replayed: value, topLevel: false) } ?? false
                }
        case (.array(let items), .array(let eventItems)):
            return items.count == eventItems.count && zip(items, eventItems).allSatisfy { matches($0, replayed: $1, topLevel: false) }
        default:
            return false
        }
    }
}
