/// Order-independent digests of JSON values and sessions, so the same session read from MySQL,
/// Redis or SQLite hashes the same: object members are hashed in key order, numbers by kind and
/// value (`1` and `1.0` differ, `1e-07` and `1e-7` do not), strings by their UTF-8 bytes.
public enum CanonicalDigest {
    /// Feeds `value`'s canonical encoding into `hasher`. Every item is tagged and length-prefixed,
    /// so different values never encode to the same bytes.
    public static func feed(_ value: JSONValue, into hasher: inout SHA256) {
        switch value {
        case .null: hasher.update("n")
        case .bool(let flag): hasher.update(flag ? "t" : "f")
        case .number(let number): feed(number, into: &hasher)
        case .string(let string): feedString(string, into: &hasher)
        case .array(let elements):
            hasher.update("[\(elements.count):")
            for element in elements { feed(element, into: &hasher) }
            hasher.update("]")
        case .object(let object): feed(object, into: &hasher)
        }
    }

    /// Feeds an object with its members sorted by key (UTF-8 byte order).
    public static func feed(_ object: JSONObject, into hasher: inout SHA256) {
        hasher.update("{\(object.count):")
        let members = object.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for member in members {
            feedString(member.key, into: &hasher)
            feed(member.value, into: &hasher)
        }
        hasher.update("}")
    }

    static func feed(_ number: JSONNumber, into hasher: inout SHA256) {
        if number.isInteger {
            var digits = Substring(number.literal)
            var negative = false
            if digits.first == "-" { negative = true; digits = digits.dropFirst() }
            digits = digits.drop { $0 == "0" }
            hasher.update(digits.isEmpty ? "i0;" : "i" + (negative ? "-" : "") + digits + ";")
        } else {
            hasher.update("d" + PythonFloat.repr(number.doubleValue) + ";")
        }
    }

    static func feedString(_ string: String, into hasher: inout SHA256) {
        hasher.update("s\(string.utf8.count):")
        hasher.update(string)
    }
}

extension Session {
    /// A digest of everything ADK reads back from any store: key, the three state scopes, every
    /// event's data in order, and the last update time to the microsecond. Creation time is
    /// included only when asked (Redis does not keep it); expiry never is (it drifts while read).
    public func digest(includingCreateTime: Bool = false) -> [UInt8] {
        var hasher = SHA256()
        for part in [key.appName, key.userId, key.sessionId] { CanonicalDigest.feedString(part, into: &hasher) }
        CanonicalDigest.feed(state, into: &hasher)
        CanonicalDigest.feed(appState, into: &hasher)
        CanonicalDigest.feed(userState, into: &hasher)
        hasher.update("e\(events.count):")
        for event in events { CanonicalDigest.feed(event.data, into: &hasher) }
        hasher.update("u\(PythonTime.microseconds(fromEpoch: lastUpdateTime));")
        if includingCreateTime, let createTime { hasher.update("c\(PythonTime.microseconds(fromEpoch: createTime));") }
        return hasher.finalize()
    }
}
