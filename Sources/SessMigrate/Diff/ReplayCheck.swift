import DriverCore
import SessionModel

/// `verify --replay STORE`: checks a store against itself. Folding each session's events'
/// `actions.state_delta` in order (split into scopes as ADK does, `temp:` dropped) must give the
/// stored session state, and folding every session's deltas by event time must give the stored app
/// and user state. Keys present in stored state but set by no event (e.g. the initial state given to
/// `create_session`) are counted, not reported: replay cannot derive them.
public struct ReplayCheck {
    /// A state that does not match its replay.
    public struct Mismatch: Sendable, Hashable {
        /// `session app/user/id`, `app NAME` or `user app/user`.
        public var scope: String
        /// State keys whose stored value differs from the last delta's (or is missing).
        public var keys: [String]
    }

    public struct Summary: Sendable {
        public var sessions = 0
        public var events = 0
        public var mismatches: [Mismatch] = []
        /// Stored keys no event sets (session scope).
        public var underivedKeys = 0
        public var seconds = 0.0
        public var isConsistent: Bool { mismatches.isEmpty }
    }

    public var batchSize: Int

    public init(batchSize: Int = 500) {
        self.batchSize = batchSize
    }

    private struct Latest {
        var time: Double
        var value: JSONValue
    }

    /// Replays every session of `store`.
    public func run(_ store: any SessionStore) throws -> Summary {
        let started = Clock.epochSeconds()
        var summary = Summary()
        var appFolds: [String: [String: Latest]] = [:]
        var userFolds: [[String]: [String: Latest]] = [:]
        var storedApp: [String: JSONObject] = [:]
        var storedUser: [[String]: JSONObject] = [:]
        let cursor = try store.scanSessions(SessionQuery(batchSize: batchSize))
        while let session = try cursor.next() {
            summary.sessions += 1
            summary.events += session.events.count
            let userKey = [session.key.appName, session.key.userId]
            storedApp[session.key.appName] = session.appState
            storedUser[userKey] = session.userState
            var fold = JSONObject()
            for event in session.events {
                guard case .object(let actions)? = event.data["actions"], case .object(let delta)? = actions["state_delta"] else { continue }
                let split = StateScopes.split(delta)
                fold.update(with: split.session)
                for (key, value) in split.app where (appFolds[session.key.appName]?[key]?.time ?? -.infinity) <= event.timestamp {
                    appFolds[session.key.appName, default: [:]][key] = Latest(time: event.timestamp, value: value)
                }
                for (key, value) in split.user where (userFolds[userKey]?[key]?.time ?? -.infinity) <= event.timestamp {
                    userFolds[userKey, default: [:]][key] = Latest(time: event.timestamp, value: value)
                }
            }
            let wrong = fold.filter { !(session.state[$0.key]?.isEquivalent(to: $0.value) ?? false) }.map(\.key)
            if !wrong.isEmpty { summary.mismatches.append(Mismatch(scope: "session \(session.key)", keys: wrong)) }
            summary.underivedKeys += session.state.keys.filter { fold[$0] == nil }.count
        }
        for (app, fold) in appFolds.sorted(by: { $0.key < $1.key }) {
            let wrong = fold.filter { !(storedApp[app]?[$0.key]?.isEquivalent(to: $0.value.value) ?? false) }.map(\.key).sorted()
            if !wrong.isEmpty { summary.mismatches.append(Mismatch(scope: "app \(app)", keys: wrong)) }
        }
        for (user, fold) in userFolds.sorted(by: { $0.key.joined(separator: "/") < $1.key.joined(separator: "/") }) {
            let wrong = fold.filter { !(storedUser[user]?[$0.key]?.isEquivalent(to: $0.value.value) ?? false) }.map(\.key).sorted()
            if !wrong.isEmpty { summary.mismatches.append(Mismatch(scope: "user \(user.joined(separator: "/"))", keys: wrong)) }
        }
        summary.seconds = Clock.epochSeconds() - started
        return summary
    }
}
