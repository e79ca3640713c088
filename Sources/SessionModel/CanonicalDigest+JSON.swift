extension CanonicalDigest {
    /// Feeds the canonical encoding of the JSON text `bytes`, exactly as `feed(try JSONValue.parse(utf8: bytes))`
    /// would, without building the value: the same bytes are hashed and the same inputs are refused (with
    /// the parser's errors). Objects are encoded member by member and put in key order afterwards, a
    /// duplicate key keeping its last value. After an error the digest is unusable.
    public mutating func feed(json bytes: UnsafeRawBufferPointer) throws(JSONError) {
        var encoder = CanonicalJSONEncoder(parser: JSONParser(bytes: bytes))
        try encoder.value(into: &buffer, depth: 0)
        encoder.parser.skipWhitespace()
        guard encoder.parser.index == bytes.count else { throw encoder.parser.error("extra data after the value") }
        if buffer.count >= 4096 { flush() }
    }
}

/// JSON text to ``CanonicalDigest``'s encoding in one pass (see ``CanonicalDigest/feed(json:)``).
struct CanonicalJSONEncoder {
    var parser: JSONParser
    /// The members of the objects being encoded, innermost last: where each one's key bytes and whole
    /// encoding lie in the output.
    private var members: [(key: Range<Int>, encoding: Range<Int>)] = []
    private var scratch: [UInt8] = []
    private var order: [Int] = []

    init(parser: JSONParser) { self.parser = parser }

    mutating func value(into out: inout [UInt8], depth: Int) throws(JSONError) {
        guard depth < JSONParser.maxDepth else { throw parser.error("nesting deeper than \(JSONParser.maxDepth)") }
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input") }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: "{"): try object(into: &out, depth: depth)
        case UInt8(ascii: "["): try array(into: &out, depth: depth)
        case UInt8(ascii: "\""): try string(into: &out)
        case UInt8(ascii: "t"): try parser.expectLiteral("true"); out.append(UInt8(ascii: "t"))
        case UInt8(ascii: "f"): try parser.expectLiteral("false"); out.append(UInt8(ascii: "f"))
        case UInt8(ascii: "n"): try parser.expectLiteral("null"); out.append(UInt8(ascii: "n"))
        case UInt8(ascii: "N"): try parser.expectLiteral("NaN"); Self.number(JSONNumber(validatedLiteral: "NaN"), into: &out)
        case UInt8(ascii: "I"): try parser.expectLiteral("Infinity"); Self.number(JSONNumber(validatedLiteral: "Infinity"), into: &out)
        default: Self.number(try parser.parseNumber(), into: &out)
        }
    }

    /// `s`, the length (8 bytes), the UTF-8 bytes; returns where the bytes lie.
    @discardableResult
    private mutating func string(into out: inout [UInt8]) throws(JSONError) -> Range<Int> {
        out.append(UInt8(ascii: "s"))
        let lengthAt = out.count
        Self.integer(0, into: &out)
        try parser.parseString(appendingTo: &out)
        Self.patch(out.count - lengthAt - 8, at: lengthAt, in: &out)
        return (lengthAt + 8)..<out.count
    }

    private mutating func array(into out: inout [UInt8], depth: Int) throws(JSONError) {
        parser.index += 1
        out.append(UInt8(ascii: "["))
        let countAt = out.count
        Self.integer(0, into: &out)
        var count = 0
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "]") {
            parser.index += 1
        } else {
            while true {
                try value(into: &out, depth: depth + 1)
                count += 1
                parser.skipWhitespace()
                guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input in an array") }
                if parser.bytes[parser.index] == UInt8(ascii: ",") { parser.index += 1; continue }
                guard parser.bytes[parser.index] == UInt8(ascii: "]") else { throw parser.error("expected ',' or ']'") }
                parser.index += 1
                break
            }
        }
        Self.patch(count, at: countAt, in: &out)
        out.append(UInt8(ascii: "]"))
    }

    private mutating func object(into out: inout [UInt8], depth: Int) throws(JSONError) {
        parser.index += 1
        out.append(UInt8(ascii: "{"))
        let countAt = out.count
        Self.integer(0, into: &out)
        let base = members.count
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.skipWhitespace()
                guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                    throw parser.error("expected a string key")
                }
                let start = out.count
                let key = try string(into: &out)
                parser.skipWhitespace()
                guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else { throw parser.error("expected ':'") }
                parser.index += 1
                try value(into: &out, depth: depth + 1)
                members.append((key, start..<out.count))
                parser.skipWhitespace()
                guard parser.index < parser.bytes.count else { throw parser.error("unexpected end of input in an object") }
                if parser.bytes[parser.index] == UInt8(ascii: ",") { parser.index += 1; continue }
                guard parser.bytes[parser.index] == UInt8(ascii: "}") else { throw parser.error("expected ',' or '}'") }
                parser.index += 1
                break
            }
        }
        let count = reorder(&out, from: base, membersStart: countAt + 8)
        members.removeSubrange(base...)
        Self.patch(count, at: countAt, in: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Puts the members from `base` on in key order (by UTF-8 bytes) in place, a duplicate key keeping the
    /// encoding of its last; returns how many remain.
    private mutating func reorder(_ out: inout [UInt8], from base: Int, membersStart: Int) -> Int {
        let count = members.count - base
        let members = members[base...]
        order.removeAll(keepingCapacity: true)
        out.withUnsafeBufferPointer { all in
            func key(_ position: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: all[members[position].key]) }
            // Insertion sort by key, stable; equal keys (duplicates) end next to each other in input order.
            for position in members.indices {
                var slot = order.count
                order.append(position)
                while slot > 0, key(position).lexicographicallyPrecedes(key(order[slot - 1])) {
                    order[slot] = order[slot - 1]
                    slot -= 1
                }
                order[slot] = position
            }
            var write = 0
            for read in order.indices {
                if write > 0, !key(order[write - 1]).lexicographicallyPrecedes(key(order[read])) {
                    order[write - 1] = order[read]  // a duplicate key: the later value wins
                } else {
                    order[write] = order[read]
                    write += 1
                }
            }
            order.removeSubrange(write...)
        }
        if order.count == count, order.elementsEqual(members.indices) { return count }
        scratch.removeAll(keepingCapacity: true)
        for position in order { scratch.append(contentsOf: out[members[position].encoding]) }
        out.replaceSubrange(membersStart..<out.count, with: scratch)
        return order.count
    }

    /// As ``CanonicalDigest``'s number feed: integers by their digits, floats by the bits of their double.
    private static func number(_ number: JSONNumber, into out: inout [UInt8]) {
        if number.isInteger {
            var digits = Substring(number.literal)
            var negative = false
            if digits.first == "-" { negative = true; digits = digits.dropFirst() }
            digits = digits.drop { $0 == "0" }
            out.append(UInt8(ascii: "i"))
            if digits.isEmpty {
                out.append(UInt8(ascii: "0"))
            } else {
                if negative { out.append(UInt8(ascii: "-")) }
                out.append(contentsOf: digits.utf8)
            }
            out.append(UInt8(ascii: ";"))
        } else {
            let value = number.doubleValue
            out.append(UInt8(ascii: "d"))
            let bits = value.isNaN ? Double.nan.bitPattern : (value == 0 ? 0 : value.bitPattern)
            withUnsafeBytes(of: bits.littleEndian) { out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        }
    }

    private static func integer(_ value: Int, into out: inout [UInt8]) {
        withUnsafeBytes(of: Int64(value).littleEndian) { out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    private static func patch(_ value: Int, at offset: Int, in out: inout [UInt8]) {
        out.withUnsafeMutableBytes { $0.storeBytes(of: Int64(value).littleEndian, toByteOffset: offset, as: Int64.self) }
    }
}
