import SessionModel

/// One difference inside a session that both stores hold.
public enum SessionChange: Sendable, Hashable {
    /// Which state dict a key lives in.
    public enum Scope: String, Sendable, Hashable {
        case session, app, user
    }

    /// Where a differing item is: only in A, only in B, or in both with different values.
    public enum Side: String, Sendable, Hashable {
        case onlyInA = "only in A"
        case onlyInB = "only in B"
        case changed
    }

    /// A state key that differs (`app:`/`user:` scopes are named without their prefix).
    case stateKey(scope: Scope, key: String, side: Side)
    /// An event, by id, with its position (0-based) in A and in B where present; `fields` are the
    /// top-level `event_data` members that differ when the event is in both.
    case event(id: String, positionInA: Int?, positionInB: Int?, side: Side, fields: [String])
    /// Events present in both but in a different order.
    case eventOrder
    /// The last update time differs (microseconds).
    case lastUpdateTime(a: Double, b: Double)
    /// The creation time differs (only compared when both stores keep it).
    case createTime(a: Double, b: Double)
}

/// Computes what differs between two versions of the same session, comparing meaning (JSON values,
/// not bytes).
public enum SessionDiff {
    /// The differences between `a` and `b` (empty when equivalent).
    public static func changes(_ a: Session, _ b: Session, compareCreateTime: Bool) -> [SessionChange] {
        var changes: [SessionChange] = []
        changes += stateChanges(a.state, b.state, scope: .session)
        changes += stateChanges(a.appState, b.appState, scope: .app)
        changes += stateChanges(a.userState, b.userState, scope: .user)
        changes += eventChanges(a.events, b.events)
        if PythonTime.microseconds(fromEpoch: a.lastUpdateTime) != PythonTime.microseconds(fromEpoch: b.lastUpdateTime) {
            changes.append(.lastUpdateTime(a: a.lastUpdateTime, b: b.lastUpdateTime))
        }
        if compareCreateTime, let x = a.createTime, let y = b.createTime,
            PythonTime.microseconds(fromEpoch: x) != PythonTime.microseconds(fromEpoch: y)
        {
            changes.append(.createTime(a: x, b: y))
        }
        return changes
    }

    static func stateChanges(_ a: JSONObject, _ b: JSONObject, scope: SessionChange.Scope) -> [SessionChange] {
        var changes: [SessionChange] = []
        for (key, value) in a {
            if let other = b[key] {
                if !value.isEquivalent(to: other) { changes.append(.stateKey(scope: scope, key: key, side: .changed)) }
            } else {
                changes.append(.stateKey(scope: scope, key: key, side: .onlyInA))
            }
        }
        for key in b.keys where a[key] == nil { changes.append(.stateKey(scope: scope, key: key, side: .onlyInB)) }
        return changes
    }

    static func eventChanges(_ a: [Event], _ b: [Event]) -> [SessionChange] {
        var positionInB: [ExactString: Int] = [:]
        for (index, event) in b.enumerated() { positionInB[ExactString(event.id)] = index }
        var positionInA: [ExactString: Int] = [:]
        var changes: [SessionChange] = []
        var common: [(Int, Int)] = []
        for (index, event) in a.enumerated() {
            positionInA[ExactString(event.id)] = index
            guard let other = positionInB[ExactString(event.id)] else {
                changes.append(.event(id: event.id, positionInA: index, positionInB: nil, side: .onlyInA, fields: []))
                continue
            }
            common.append((index, other))
            let fields = differingFields(event.data, b[other].data)
            if !fields.isEmpty {
                changes.append(.event(id: event.id, positionInA: index, positionInB: other, side: .changed, fields: fields))
            }
        }
        for (index, event) in b.enumerated() where positionInA[ExactString(event.id)] == nil {
            changes.append(.event(id: event.id, positionInA: nil, positionInB: index, side: .onlyInB, fields: []))
        }
        if zip(common, common.dropFirst()).contains(where: { $0.1 > $1.1 }) { changes.append(.eventOrder) }
        return changes
    }

    static func differingFields(_ a: JSONObject, _ b: JSONObject) -> [String] {
        var fields: [String] = []
        for (key, value) in a where !(b[key].map { $0.isEquivalent(to: value) } ?? false) { fields.append(key) }
        for key in b.keys where a[key] == nil { fields.append(key) }
        return fields
    }
}
