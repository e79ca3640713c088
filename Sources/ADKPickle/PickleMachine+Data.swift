extension PickleMachine {
    /// Framing, constants, numbers, strings and bytes. Returns false if `opcode` is not one of them.
    mutating func stepData() throws(PickleError) -> Bool {
        switch opcode {
        case 0x80:  // PROTO
            let version = try readByte()
            guard version <= 5 else { throw fail("protocol \(version) is newer than 5") }
            protocolVersion = Int(version)
        case 0x95:  // FRAME: only checked; opcodes are read across frame boundaries alike
            _ = try readLength(8)
        case UInt8(ascii: "N"): pushScalar(.none)
        case 0x88: pushScalar(.bool(true))
        case 0x89: pushScalar(.bool(false))
        case UInt8(ascii: "K"): pushScalar(.int(Int(try readUInt(1))))
        case UInt8(ascii: "M"): pushScalar(.int(Int(try readUInt(2))))
        case UInt8(ascii: "J"): pushScalar(.int(Int(Int32(truncatingIfNeeded: try readUInt(4)))))
        case 0x8A: pushScalar(PickleInteger.value(littleEndian: try readBytes(try readLength(1))))
        case 0x8B: pushScalar(PickleInteger.value(littleEndian: try readBytes(try readSignedLength4())))
        case UInt8(ascii: "I"), UInt8(ascii: "L"): pushScalar(try textInteger(try readLine()))
        case UInt8(ascii: "G"):
            let bits = try readBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            pushScalar(.float(Double(bitPattern: bits)))
        case UInt8(ascii: "F"):
            guard let value = Double(try readLine()) else { throw fail("malformed float text") }
            pushScalar(.float(value))
        default:
            return try stepText()
        }
        return true
    }

    private mutating func stepText() throws(PickleError) -> Bool {
        let value: PickleValue
        switch opcode {
        case 0x8C, UInt8(ascii: "X"), 0x8D:
            let bytes = try readBytes(try readLength(opcode == 0x8C ? 1 : opcode == 0x8D ? 8 : 4))
            guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("str is not valid UTF-8 (a lone surrogate?)") }
            value = .string(text)
        case UInt8(ascii: "C"), UInt8(ascii: "B"), 0x8E, 0x96:
            let width = opcode == UInt8(ascii: "C") ? 1 : opcode == UInt8(ascii: "B") ? 4 : 8
            let bytes = Array(try readBytes(try readLength(width)))
            value = opcode == 0x96 ? .bytearray(bytes) : .bytes(bytes)
        case UInt8(ascii: "V"):
            value = .string(try rawUnicodeEscape(try readLineBytes()))
        case UInt8(ascii: "U"), UInt8(ascii: "T"):
            // Python 2 `str`, which Python 3 reads as ASCII by default.
            let bytes = try readBytes(opcode == UInt8(ascii: "U") ? try readLength(1) : try readSignedLength4())
            guard bytes.allSatisfy({ $0 < 0x80 }) else { throw fail("Python 2 str is not ASCII") }
            value = .string(String(decoding: bytes, as: UTF8.self))
        default:
            return false
        }
        pushScalar(value)
        return true
    }

    /// `LONG4`/`BINSTRING` lengths are signed; negative ones are corrupt.
    private mutating func readSignedLength4() throws(PickleError) -> Int {
        let length = Int(Int32(truncatingIfNeeded: try readUInt(4)))
        guard length >= 0 else { throw fail("negative length \(length)") }
        guard length <= remaining else { throw fail("length \(length) exceeds the \(remaining) bytes left (truncated or corrupt)") }
        return length
    }

    /// `INT`/`LONG` text: decimal, `01`/`00` meaning True/False for `INT`, trailing `L` for `LONG`.
    private func textInteger(_ line: String) throws(PickleError) -> PickleValue {
        if opcode == UInt8(ascii: "I"), line == "00" || line == "01" { return .bool(line == "01") }
        let digits = line.hasSuffix("L") ? String(line.dropLast()) : line
        if let value = Int(digits) { return .int(value) }
        guard digits.utf8.count <= 2 * PickleInteger.maxDecimalBytes, let bytes = PickleInteger.bytes(decimal: digits) else {
            throw fail("malformed or oversized integer text")
        }
        return PickleInteger.value(littleEndian: bytes)
    }

    /// Protocol 0 `UNICODE` text: Latin-1 bytes with `\uXXXX` and `\UXXXXXXXX` escapes.
    private func rawUnicodeEscape(_ bytes: ArraySlice<UInt8>) throws(PickleError) -> String {
        var scalars = String.UnicodeScalarView()
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            let width =
                index + 1 < bytes.endIndex && byte == UInt8(ascii: "\\")
                ? (bytes[index + 1] == UInt8(ascii: "u") ? 4 : bytes[index + 1] == UInt8(ascii: "U") ? 8 : 0) : 0
            guard width > 0 else {
                scalars.append(Unicode.Scalar(byte))
                index += 1
                continue
            }
            let digits = bytes[(index + 2)...].prefix(width)
            guard digits.count == width, let code = UInt32(String(decoding: digits, as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw fail("malformed \\u escape (or a lone surrogate)") }
            scalars.append(scalar)
            index += 2 + width
        }
        return String(scalars)
    }
}
