import SessionModel

/// Writes pickle opcodes the way CPython's pickler chooses them (protocol 4/5, no memo).
struct PickleWriter {
    private(set) var body: [UInt8] = []

    mutating func op(_ code: UInt8) { body.append(code) }

    mutating func op(_ code: Character) { body.append(code.asciiValue ?? 0) }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        if utf8.count < 256 {
            body += [0x8C, UInt8(utf8.count)]
        } else if utf8.count <= Int(UInt32.max) {
            op("X")
            append(UInt64(utf8.count), width: 4)
        } else {
            op(0x8D)
            append(UInt64(utf8.count), width: 8)
        }
        body += utf8
    }

    mutating func bytes(_ bytes: [UInt8]) {
        if bytes.count < 256 {
            body += [UInt8(ascii: "C"), UInt8(bytes.count)]
        } else if bytes.count <= Int(UInt32.max) {
            op("B")
            append(UInt64(bytes.count), width: 4)
        } else {
            op(0x8E)
            append(UInt64(bytes.count), width: 8)
        }
        body += bytes
    }

    mutating func int(_ value: Int) {
        switch value {
        case 0..<256: body += [UInt8(ascii: "K"), UInt8(value)]
        case 256..<65_536:
            op("M")
            append(UInt64(value), width: 2)
        case Int(Int32.min)...Int(Int32.max):
            op("J")
            append(UInt64(UInt32(bitPattern: Int32(value))), width: 4)
        default: bigInt(PickleInteger.bytes(of: value))
        }
    }

    /// `LONG1`/`LONG4` with two's complement bytes.
    mutating func bigInt(_ bytes: [UInt8]) {
        if bytes.count < 256 {
            body += [0x8A, UInt8(bytes.count)]
        } else {
            op(0x8B)
            append(UInt64(bytes.count), width: 4)
        }
        body += bytes
    }

    mutating func float(_ value: Double) {
        op("G")
        let bits = value.bitPattern
        for shift in stride(from: 56, through: 0, by: -8) { body.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    mutating func global(module: String, name: String) {
        string(module)
        string(name)
        op(0x93)
    }

    /// `PROTO`, one `FRAME` around the body (as CPython frames small pickles), the body, `STOP`.
    func finished(protocol version: Int) -> [UInt8] {
        var out: [UInt8] = [0x80, UInt8(version)]
        let framed = body + [UInt8(ascii: ".")]
        out.append(0x95)
        for shift in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(framed.count) >> UInt64(8 * shift))) }
        return out + framed
    }

    private mutating func append(_ value: UInt64, width: Int) {
        for shift in 0..<width { body.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * shift))) }
    }
}
