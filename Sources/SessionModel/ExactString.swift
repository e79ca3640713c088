/// Swift's `String` equality is Unicode canonical equivalence: `"é"` (U+00E9) and `"e\u{301}"` are `==`
/// and hash alike. ADK (Python's `str`), Redis keys and SQLite's BINARY collation tell them apart, so
/// an identity sessmigrate takes from stored data (a JSON object's keys, a session's key, app and user
/// names) compares UTF-8 bytes instead. Otherwise a state dict holding both spellings would lose one of
/// them on read, and `verify` would call the damaged copy identical (both sides lose the same key).
extension String {
    /// True when both strings have the same UTF-8 bytes (not merely canonically equivalent).
    public func isExactly(_ other: String) -> Bool {
        // The parser checks every pair of a small object's keys: most differ in length (O(1) here).
        guard utf8.count == other.utf8.count else { return false }
        var (a, b) = (self, other)
        return a.withUTF8 { x in b.withUTF8 { y in x.elementsEqual(y) } }
    }

    /// True when this string sorts before `other` by their UTF-8 bytes (SQLite's BINARY collation).
    public func precedesExactly(_ other: String) -> Bool {
        var (a, b) = (self, other)
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = Swift.min(x.count, y.count)
                var index = 0
                while index < common {
                    if x[index] != y[index] { return x[index] < y[index] }
                    index += 1
                }
                return x.count < y.count
            }
        }
    }

    /// True when the UTF-8 bytes start with `prefix`'s, as Python's `str.startswith` does: Swift's
    /// `hasPrefix` compares characters, and `"app:\u{301}x"` does not start with `"app:"` to it.
    public func hasPrefixExactly(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }

    /// The string after its first `count` UTF-8 bytes (a prefix matched with ``hasPrefixExactly(_:)``).
    public func droppingUTF8Prefix(_ count: Int) -> String { String(decoding: utf8.dropFirst(count), as: UTF8.self) }

    /// Feeds the UTF-8 bytes to `hasher`, then a byte that UTF-8 never holds (so that the bytes of
    /// consecutive strings cannot run together): strings that are ``isExactly(_:)`` hash alike.
    public func hashExactly(into hasher: inout Hasher) {
        var string = self
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(UInt8(0xFF))
    }
}

extension Set where Element == String {
    /// True when the set holds a member with `string`'s very bytes: `contains` alone also answers true
    /// for a canonically equivalent spelling (``Swift/String/isExactly(_:)``).
    public func containsExactly(_ string: String) -> Bool {
        guard let index = firstIndex(of: string) else { return false }
        return self[index].isExactly(string)
    }
}

/// A string as a dictionary key or set member, compared and hashed by its UTF-8 bytes
/// (see ``Swift/String/isExactly(_:)``).
public struct ExactString: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var string: String

    public init(_ string: String) { self.string = string }

    public static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.string.isExactly(rhs.string) }
    public static func < (lhs: ExactString, rhs: ExactString) -> Bool { lhs.string.precedesExactly(rhs.string) }
    public func hash(into hasher: inout Hasher) { string.hashExactly(into: &hasher) }
    public var description: String { string }
}
