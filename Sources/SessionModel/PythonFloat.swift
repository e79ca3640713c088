/// Python's `repr(float)`, which `json.dumps` uses for floats.
///
/// Both Swift's `description` and Python's `repr` print the shortest digit string that reads back
/// to the same double; they differ only in layout. This takes Swift's digits and exponent and lays
/// them out as Python's `float_repr_style='short'` does: fixed notation while the decimal point
/// position is within (-4, 16], exponential (`1e-05`, `1.5e+300`) otherwise, `.0` added to
/// integral fixed values, `NaN`/`Infinity`/`-Infinity` as `json.dumps` writes them.
public enum PythonFloat {
    /// `repr(value)` as `json.dumps` writes it.
    public static func repr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        // Swift writes fixed notation only for 1e-4 ≤ |value| < 2^53, inside Python's fixed range
        // [1e-4, 1e16), with the same digits and `.0` on integral values: then the two are equal.
        let description = value.description
        if !description.utf8.contains(UInt8(ascii: "e")) { return description }
        let (negative, digits, pointPosition) = decompose(description)
        return (negative ? "-" : "") + layout(digits: digits, pointPosition: pointPosition)
    }

    /// Splits Swift's shortest representation (`description`) into sign, significant digits (no
    /// leading or trailing zeros, at least one digit) and the decimal point position:
    /// value = 0.DIGITS × 10^point.
    static func decompose(_ description: String) -> (Bool, [UInt8], Int) {
        var text = Array(description.utf8)
        var negative = false
        if text.first == UInt8(ascii: "-") {
            negative = true
            text.removeFirst()
        }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
            text.removeSubrange(e...)
        }
        var integerCount = text.firstIndex(of: UInt8(ascii: ".")) ?? text.count
        var digits = text.filter { $0 != UInt8(ascii: ".") }
        while digits.count > 1, digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            integerCount -= 1
        }
        while digits.count > 1, digits.last == UInt8(ascii: "0") { digits.removeLast() }
        if digits == [UInt8(ascii: "0")] { return (negative, digits, 1) }
        return (negative, digits, integerCount + exponent)
    }

    static func layout(digits: [UInt8], pointPosition point: Int) -> String {
        let zero = UInt8(ascii: "0")
        if point > -4 && point <= 16 {
            var out: [UInt8]
            if point <= 0 {
                out = [zero, UInt8(ascii: ".")] + Array(repeating: zero, count: -point) + digits
            } else if point >= digits.count {
                out = digits + Array(repeating: zero, count: point - digits.count) + [UInt8(ascii: "."), zero]
            } else {
                out = Array(digits[..<point]) + [UInt8(ascii: ".")] + Array(digits[point...])
            }
            return String(decoding: out, as: UTF8.self)
        }
        var mantissa = [digits[0]]
        if digits.count > 1 { mantissa += [UInt8(ascii: ".")] + digits[1...] }
        let exponent = point - 1
        let magnitude = String(abs(exponent))
        let sign = exponent < 0 ? "-" : "+"
        return String(decoding: mantissa, as: UTF8.self) + "e" + sign + (magnitude.count < 2 ? "0" : "") + magnitude
    }
}
