import SessionModel

/// Merges a source session into the target's version of it, as the `newer` conflict policy does.
public enum SessionMerge {
    /// Events merged by id (the source's version of an id wins) and kept in time order, state updated
    /// with the source's (`dict.update`, as ADK applies deltas), the later update time and the earlier
    /// creation time.
    public static func merge(source: Session, into target: Session) -> Session {
        var merged = source
        let sourceIds = Set(source.events.map(\.id))
        let targetOnly = target.events.filter { !sourceIds.contains($0.id) }
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
        if let a = source.createTime, let b = target.createTime { merged.createTime = min(a, b) } else {
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
