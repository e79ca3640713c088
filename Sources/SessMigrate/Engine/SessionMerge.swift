import SessionModel

/// Merges two versions of one session that may both have changed (the old primary and the new
/// one during a rollout window): nothing either side stored is dropped.
///
/// - **Events**: the union by id, ordered by (timestamp, id). An id on both sides with different
///   content is a real conflict: nothing is merged and the session is reported.
/// - **Session state**: ADK's fold of both sides' state deltas in that order: a key an event sets
///   takes the value of the last event that sets it; a key no event sets keeps the target's value
///   (or the source's when the target lacks it: initial state given to `create_session`).
/// - **App and user state** (shared by every session of the app or user, and never deleted): the
///   keys the target must receive: those set by an event the target lacks (when that event is the
///   key's last setter in the merged order) and those the target does not have.
/// - Update time: the latest of both and of the newest event; creation time: the earliest.
public enum SessionMerge {
    public enum Outcome: Sendable, Hashable {
        /// The target already holds every event and state key of the source: nothing to write.
        case contained
        /// What to write: the merged session, whose `appState`/`userState` hold only the keys to set.
        case merged(Session)
        /// Events with these ids differ between the sides: left as the target has them.
        case conflict(eventIds: [String])
    }

    /// The merge of `source` into `target` (both as the target store would read them back).
    public static func merge(source: Session, into target: Session) -> Outcome {
        // Event ids and state keys by their bytes (``ExactString``), as ADK tells them apart.
        let targetEvents = Dictionary(target.events.map { (ExactString($0.id), $0) }, uniquingKeysWith: { first, _ in first })
        var conflicts: [String] = []
        var added: [Event] = []
        for event in source.events {
            if let stored = targetEvents[ExactString(event.id)] {
                if !stored.data.isEquivalent(to: event.data) { conflicts.append(event.id) }
            } else {
                added.append(event)
            }
        }
        guard conflicts.isEmpty else { return .conflict(eventIds: conflicts) }
        let events = ordered(target.events + added)
        let addedIds = Set(added.map { ExactString($0.id) })
        var state = target.state
        var app: JSONObject = [:]
        var user: JSONObject = [:]
        for (key, value) in source.state where state[key] == nil { state[key] = value }
        // The last setter of every key, in the merged order; only events new to the target change anything.
        var last: [ScopedKey: (value: JSONValue, isNew: Bool)] = [:]
        for event in events {
            guard case .object(let delta)? = event.data["actions"]?.objectValue?["state_delta"] else { continue }
            let split = StateScopes.split(delta)
            for (scope, values) in [(0, split.session), (1, split.app), (2, split.user)] {
                for (key, value) in values { last[ScopedKey(scope: scope, key: ExactString(key))] = (value, addedIds.contains(ExactString(event.id))) }
            }
        }
        for (name, setter) in last where setter.isNew {
            let key = name.key.string
            switch name.scope {
            case 0: state[key] = setter.value
            case 1: app[key] = setter.value
            default: user[key] = setter.value
            }
        }
        for (key, value) in source.appState where target.appState[key] == nil && app[key] == nil { app[key] = value }
        for (key, value) in source.userState where target.userState[key] == nil && user[key] == nil { user[key] = value }
        if added.isEmpty, app.isEmpty, user.isEmpty, state == target.state { return .contained }
        var merged = target
        merged.events = events
        merged.state = state
        merged.appState = app
        merged.userState = user
        merged.lastUpdateTime = max(target.lastUpdateTime, source.lastUpdateTime, events.last?.timestamp ?? 0)
        if let a = source.createTime, let b = target.createTime {
            merged.createTime = min(a, b)
        } else {
            merged.createTime = target.createTime ?? source.createTime
        }
        return .merged(merged)
    }

    /// A state key in its scope (0 session, 1 app, 2 user).
    private struct ScopedKey: Hashable {
        var scope: Int
        var key: ExactString
    }

    /// Events ordered by (timestamp, id).
    static func ordered(_ events: [Event]) -> [Event] {
        events.sorted { $0.timestamp != $1.timestamp ? $0.timestamp < $1.timestamp : $0.id.precedesExactly($1.id) }
    }

    /// The `newer` policy's merge: events merged by id (the source's version of an id wins) and kept
    /// in time order, state updated with the source's (`dict.update`), the later update time and the
    /// earlier creation time. Used only when the target is not newer than the source.
    public static func merge(source: Session, over target: Session) -> Session {
        var merged = source
        let sourceIds = Set(source.events.map { ExactString($0.id) })
        let targetOnly = target.events.filter { !sourceIds.contains(ExactString($0.id)) }
        if !targetOnly.isEmpty { merged.events = mergeByTime(source.events, targetOnly) }
        var state = target.state
        state.update(with: source.state)
        merged.state = state
        var appState = target.appState
        appState.update(with: source.appState)
        merged.appState = appState
        var userState = target.userState
        userState.update(with: source.userState)
        merged.userState = userState
        merged.lastUpdateTime = max(source.lastUpdateTime, target.lastUpdateTime, merged.events.last?.timestamp ?? 0)
        if let a = source.createTime, let b = target.createTime {
            merged.createTime = min(a, b)
        } else {
            merged.createTime = source.createTime ?? target.createTime
        }
        return merged
    }

    /// Merges two time-ordered event lists; on equal timestamps the first list's events come first.
    static func mergeByTime(_ first: [Event], _ second: [Event]) -> [Event] {
        var result: [Event] = []
        result.reserveCapacity(first.count + second.count)
        var (i, j) = (0, 0)
        while i < first.count || j < second.count {
            if j == second.count || (i < first.count && first[i].timestamp <= second[j].timestamp) {
                result.append(first[i])
                i += 1
            } else {
                result.append(second[j])
                j += 1
            }
        }
        return result
    }
}
