/// A JSON value that keeps everything ADK's Python side can tell apart.
///
/// Numbers keep their literal text (`1.0` stays `1.0`, `9007199254740993` stays exact),
/// objects keep their key order, strings keep every code point. Parse with
/// ``JSONValue/parse(_:)-(String)`` and write with ``JSONValue/serialized(_:)``.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// Strings and object keys compare by their UTF-8 bytes, as Python's do (``Swift/String/isExactly(_:)``).
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a.isExactly(b)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let flag): hasher.combine(flag ? 1 : 2)
        case .number(let number): hasher.combine(3); hasher.combine(number)
        case .string(let string): hasher.combine(4); string.hashExactly(into: &hasher)
        case .array(let elements): hasher.combine(5); hasher.combine(elements)
        case .object(let object): hasher.combine(6); hasher.combine(object)
        }
    }
}

/// A JSON number kept as the literal text it was read or built from.
///
/// Two numbers are `==` only when their literals are identical; use
/// ``JSONValue/isEquivalent(to:)`` to compare meaning (same kind, same value).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number's text, e.g. `1.0`, `-12`, `1e-07`, `NaN`, `Infinity`.
    public let literal: String

    /// Wraps a literal that the parser has already validated.
    init(validatedLiteral: String) { self.literal = validatedLiteral }

    /// An integer number.
    public init(_ value: Int) { self.literal = String(value) }

    /// A float number, written as Python's `repr(float)` does (`1.0`, `1e-07`, `1e+16`).
    public init(_ value: Double) { self.literal = PythonFloat.repr(value) }

    /// True when Python's `json.loads` would return an `int` (no `.`, `e`, `E`, and not NaN/Infinity).
    public var isInteger: Bool {
        !literal.utf8.contains {
            $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "N") || $0 == UInt8(ascii: "I")
        }
    }

    /// The value as a `Double` (exact for floats; rounded for integers beyond 2^53).
    public var doubleValue: Double {
        switch literal {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(literal) ?? .nan
        }
    }

    public var description: String { literal }
}

/// A JSON object: an ordered list of members. Key order is kept as read.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { members = [] }

    /// An object with these members, in this order. Later duplicates replace earlier ones,
    /// as Python's `json.loads` does. Keys are the same only when their UTF-8 bytes are
    /// (``Swift/String/isExactly(_:)``): `"é"` and `"e\u{301}"` are two keys, as in Python.
    public init(_ members: [(key: String, value: JSONValue)]) {
        guard members.count > 8 else {
            // The common case, a small object without a duplicate key (what the parser and the
            // layout transforms build), is kept as it is: no second array.
            if !members.indices.contains(where: { later in (0..<later).contains { members[$0].key.isExactly(members[later].key) } }) {
                self.members = members
                return
            }
            self.members = []
            self.members.reserveCapacity(members.count)
            for member in members { self[member.key] = member.value }
            return
        }
        // Linear in the member count: a hash index finds duplicates instead of a scan per key.
        var index: [ExactString: Int] = [:]
        index.reserveCapacity(members.count)
        var unique: [(key: String, value: JSONValue)] = []
        unique.reserveCapacity(members.count)
        for member in members {
            if let position = index[ExactString(member.key)] {
                unique[position].value = member.value
            } else {
                index[ExactString(member.key)] = unique.count
                unique.append(member)
            }
        }
        self.members = unique
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    /// The member named `key`. Setting a new key appends it; setting `nil` removes it.
    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key.isExactly(key) }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key.isExactly(key) }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key: key, value: newValue))
            }
        }
    }

    /// Keys in order.
    public var keys: [String] { members.map(\.key) }
    /// Number of members.
    public var count: Int { members.count }
    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Merges `other` into this object the way Python's `dict.update` does: a key already here
    /// keeps its place and takes the new value, a new key is appended in `other`'s order.
    /// Linear in both sizes (a hash index instead of a scan per key).
    public mutating func update(with other: JSONObject) {
        guard members.count > 8, other.members.count > 1 else {
            for member in other.members { self[member.key] = member.value }
            return
        }
        var index: [ExactString: Int] = [:]
        index.reserveCapacity(members.count + other.members.count)
        for (position, member) in members.enumerated() { index[ExactString(member.key)] = position }
        for member in other.members {
            if let position = index[ExactString(member.key)] {
                members[position].value = member.value
            } else {
                index[ExactString(member.key)] = members.count
                members.append(member)
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key.isExactly($1.key) && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for member in members {
            member.key.hashExactly(into: &hasher)
            hasher.combine(member.value)
        }
    }
}

extension JSONValue {
    /// The object, if this value is one.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The elements, if this value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The string, if this value is one.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The number as a `Double`, if this value is a number.
    public var doubleValue: Double? {
        if case .number(let number) = self { return number.doubleValue }
        return nil
    }

    /// Compares meaning as Python's `==` on `json.loads` results would, except that an int and
    /// a float are never equivalent (`1` and `1.0` differ): numbers by kind and value, objects
    /// regardless of key order, arrays in order.
    public func isEquivalent(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a.isExactly(b)
        case (.number(let a), .number(let b)): return a.isEquivalent(to: b)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.object(let a), .object(let b)): return a.isEquivalent(to: b)
        default: return false
        }
    }
}

extension JSONObject {
    /// Compares members regardless of order (see ``JSONValue/isEquivalent(to:)``).
    public func isEquivalent(to other: JSONObject) -> Bool {
        guard count == other.count else { return false }
        for member in members {
            guard let theirs = other[member.key], member.value.isEquivalent(to: theirs) else { return false }
        }
        return true
    }
}

extension JSONNumber {
    /// Same kind (int or float) and same value; integers compare exactly, beyond 2^53 too.
    public func isEquivalent(to other: JSONNumber) -> Bool {
        if literal == other.literal { return true }
        guard isInteger == other.isInteger else { return false }
        if isInteger { return Self.canonicalInteger(literal) == Self.canonicalInteger(other.literal) }
        let (a, b) = (doubleValue, other.doubleValue)
        return a == b || (a.isNaN && b.isNaN)
    }

    private static func canonicalInteger(_ text: String) -> String {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" { negative = true; digits = digits.dropFirst() }
        digits = digits.drop { $0 == "0" }
        if digits.isEmpty { return "0" }
        return (negative ? "-" : "") + digits
    }
}
