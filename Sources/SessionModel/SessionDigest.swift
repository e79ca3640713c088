/// Order-independent digests of JSON values and sessions, so the same session read from MySQL,
/// Redis or SQLite hashes the same: object members are hashed in key order, numbers by kind and
/// value (`1` and `1.0` differ, `1e-07` and `1e-7` do not), strings by their UTF-8 bytes.
///
/// The canonical encoding is built in a reusable byte buffer and hashed in chunks: verify and diff
/// hash every event of two stores, so this is a hot path.
public struct CanonicalDigest {
    var hasher = SHA256()
    var buffer: [UInt8] = []

    public init() {
        buffer.reserveCapacity(8192)
    }

    /// Feeds `value`'s canonical encoding. Every item is tagged and length-prefixed, so different
    /// values never encode to the same bytes.
    public mutating func feed(_ value: JSONValue) {
        switch value {
        case .null: byte(UInt8(ascii: "n"))
        case .bool(let flag): byte(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .number(let number): feed(number)
        case .string(let string): feed(string)
        case .array(let elements):
            byte(UInt8(ascii: "["))
            integer(elements.count)
            for element in elements { feed(element) }
            byte(UInt8(ascii: "]"))
        case .object(let object): feed(object)
        }
        if buffer.count >= 4096 { flush() }
    }

    /// Feeds an object with its members sorted by key (UTF-8 byte order). Most objects come in
    /// model order, not key order: their members are visited through a sorted list of indices, so
    /// nothing of the object is copied.
    public mutating func feed(_ object: JSONObject) {
        byte(UInt8(ascii: "{"))
        let members = object.members
        let count = members.count
        integer(count)
        var ordered = true
        var index = 1
        while ordered, index < count {
            ordered = members[index - 1].key.precedesExactly(members[index].key)
            index += 1
        }
        if ordered {
            for member in members {
                feed(member.key)
                feed(member.value)
            }
        } else {
            withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { indices in
                var order = indices
                for position in 0..<count { order.initializeElement(at: position, to: position) }
                order.sort { members[$0].key.precedesExactly(members[$1].key) }
                for position in order {
                    feed(members[position].key)
                    feed(members[position].value)
                }
            }
        }
        byte(UInt8(ascii: "}"))
    }

    /// Feeds a string: its UTF-8 length and bytes.
    public mutating func feed(_ string: String) {
        byte(UInt8(ascii: "s"))
        var string = string
        string.withUTF8 { bytes in
            integer(bytes.count)
            buffer.append(contentsOf: bytes)
        }
    }

    /// Feeds a tagged integer (counts, microsecond times).
    public mutating func feed(tag: Character, _ value: Int64) {
        byte(tag.asciiValue ?? UInt8(ascii: "?"))
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Integers by their digits without sign noise or leading zeros; floats by the bits of the
    /// double they denote (NaN normalized), so `1e-07` and `1e-7` hash alike.
    mutating func feed(_ number: JSONNumber) {
        if number.isInteger {
            var digits = Substring(number.literal)
            var negative = false
            if digits.first == "-" { negative = true; digits = digits.dropFirst() }
            digits = digits.drop { $0 == "0" }
            byte(UInt8(ascii: "i"))
            if digits.isEmpty {
                byte(UInt8(ascii: "0"))
            } else {
                if negative { byte(UInt8(ascii: "-")) }
                buffer.append(contentsOf: digits.utf8)
            }
            byte(UInt8(ascii: ";"))
        } else {
            let value = number.doubleValue
            byte(UInt8(ascii: "d"))
            let bits = value.isNaN ? Double.nan.bitPattern : (value == 0 ? 0 : value.bitPattern)
            withUnsafeBytes(of: bits.littleEndian) { buffer.append(contentsOf: $0) }
        }
    }

    /// The digest of everything fed. Consumes the value.
    public consuming func finalize() -> [UInt8] {
        flush()
        return hasher.finalize()
    }

    private mutating func byte(_ value: UInt8) { buffer.append(value) }

    private mutating func integer(_ value: Int) {
        withUnsafeBytes(of: Int64(value).littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func flush() {
        buffer.withUnsafeBytes { hasher.update($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}

extension Session {
    /// A digest of everything ADK reads back from any store: key, the three state scopes, every
    /// event's data in order, and the last update time to the microsecond. Creation time is
    /// included only when asked (Redis does not keep it); expiry never is (it drifts while read).
    public func digest(includingCreateTime: Bool = false) -> [UInt8] {
        var digest = CanonicalDigest()
        for part in [key.appName, key.userId, key.sessionId] { digest.feed(part) }
        digest.feed(state)
        digest.feed(appState)
        digest.feed(userState)
        digest.feed(tag: "e", Int64(events.count))
        for event in events { event.feedData(to: &digest) }
        digest.feed(tag: "u", PythonTime.microseconds(fromEpoch: lastUpdateTime))
        if includingCreateTime, let createTime { digest.feed(tag: "c", PythonTime.microseconds(fromEpoch: createTime)) }
        return digest.finalize()
    }
}
