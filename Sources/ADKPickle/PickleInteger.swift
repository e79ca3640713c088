/// Python `int`s of any size as little-endian two's complement bytes (`LONG1`/`LONG4` payloads).
enum PickleInteger {
    /// Largest integer (in bytes) converted to or from decimal text: about 2,466 digits, well
    /// inside Python's own 4,300-digit `int`/`str` conversion limit. Keeps conversion time bounded.
    static let maxDecimalBytes = 1024

    /// `.int` when the value fits in `Int`, otherwise `.bigInt` with the shortest encoding.
    static func value(littleEndian bytes: some Collection<UInt8>) -> PickleValue {
        let bytes = trimmed(Array(bytes))
        guard bytes.count > 8 else {
            var value: UInt64 = (bytes.last ?? 0) & 0x80 != 0 ? .max : 0
            for (index, byte) in bytes.enumerated() {
                value &= ~(UInt64(0xFF) << (8 * UInt64(index)))
                value |= UInt64(byte) << (8 * UInt64(index))
            }
            return .int(Int(truncatingIfNeeded: value))
        }
        return .bigInt(bytes)
    }

    /// The shortest two's complement bytes of `value` (empty for 0, as `LONG1` writes it).
    static func bytes(of value: Int) -> [UInt8] {
        trimmed(withUnsafeBytes(of: value.littleEndian) { Array($0) })
    }

    /// Decimal text of two's complement bytes (callers keep them under ``maxDecimalBytes``).
    static func decimal(_ bytes: [UInt8]) -> String {
        let negative = (bytes.last ?? 0) & 0x80 != 0
        var limbs = limbs(of: negative ? negated(bytes) : bytes)
        var chunks: [UInt32] = []
        while limbs.contains(where: { $0 != 0 }) {
            var remainder: UInt64 = 0
            for index in limbs.indices.reversed() {
                let current = (remainder << 32) | UInt64(limbs[index])
                limbs[index] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
        }
        guard let first = chunks.popLast() else { return "0" }
        var text = (negative ? "-" : "") + String(first)
        for chunk in chunks.reversed() {
            let digits = String(chunk)
            text += String(repeating: "0", count: 9 - digits.count) + digits
        }
        return text
    }

    /// Two's complement bytes of decimal text (`-?[0-9]+`), or nil if it is not one.
    static func bytes(decimal text: String) -> [UInt8]? {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var limbs: [UInt32] = [0]
        for digit in digits.utf8 {
            var carry = UInt64(digit - UInt8(ascii: "0"))
            for index in limbs.indices {
                let current = UInt64(limbs[index]) * 10 + carry
                limbs[index] = UInt32(truncatingIfNeeded: current)
                carry = current >> 32
            }
            if carry != 0 { limbs.append(UInt32(carry)) }
        }
        var bytes = limbs.flatMap { limb in (0..<4).map { UInt8(truncatingIfNeeded: limb >> (8 * $0)) } }
        bytes.append(0)
        if negative { bytes = negated(bytes) }
        return trimmed(bytes)
    }

    /// Drops high bytes that only repeat the sign.
    private static func trimmed(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        while bytes.count > 1 {
            let last = bytes[bytes.count - 1], signOfNext = bytes[bytes.count - 2] & 0x80
            guard (last == 0 && signOfNext == 0) || (last == 0xFF && signOfNext != 0) else { break }
            bytes.removeLast()
        }
        return bytes == [0] ? [] : bytes
    }

    /// `-x` in the same width (two's complement: invert, add one).
    private static func negated(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes.map { ~$0 }
        for index in result.indices {
            result[index] &+= 1
            if result[index] != 0 { break }
        }
        if bytes.last.map({ $0 & 0x80 != 0 }) == true, result.last.map({ $0 & 0x80 != 0 }) == true { result.append(0) }
        return result
    }

    private static func limbs(of bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { start in
            var limb: UInt32 = 0
            for offset in 0..<4 where start + offset < bytes.count { limb |= UInt32(bytes[start + offset]) << (8 * UInt32(offset)) }
            return limb
        }
    }
}
