extension TranscodingPass {
    /// The string at `index` decoded and written as ``JSONValue/serialized(_:)`` writes it: compact
    /// keeps non-ASCII raw and escapes only `"`, `\` and controls; python (`ensure_ascii`) escapes
    /// everything outside space…`~` as `\uXXXX` (surrogate pairs above the BMP).
    mutating func string(alphabet: Alphabet) -> Bool {
        index += 1
        output.append(UInt8(ascii: "\""))
        while true {
            // A run of bytes written as they are (most of a string), scanned with a local index.
            let runStart = index
            var cursor = index
            let count = input.count
            if alphabet == .keep {
                scan: while cursor < count {
                    // Eight bytes at a time while none of them needs a look (most of a string), then
                    // the flagged eight one by one.
                    while cursor &+ 8 <= count, !Self.needsLook(input.loadUnaligned(fromByteOffset: cursor, as: UInt64.self), python: python) {
                        cursor &+= 8
                    }
                    let flaggedEnd = min(cursor &+ 8, count)
                    while cursor < flaggedEnd {
                        let byte = input[cursor]
                        if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { break scan }
                        if byte >= 0x7F {
                            if python { break scan }
                            // Raw in compact output: checked, not decoded.
                            guard byte == 0x7F || utf8Length(at: cursor) != nil else { return false }
                            cursor += byte < 0xC0 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                            continue
                        }
                        cursor &+= 1
                    }
                }
            }
            if cursor > runStart { output.append(UnsafeRawBufferPointer(rebasing: input[runStart..<cursor])) }
            index = cursor
            guard index < count else { return false }
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                output.append(UInt8(ascii: "\""))
                return true
            }
            if byte == UInt8(ascii: "\\") {
                guard escape(alphabet) else { return false }
            } else if byte >= 0x80 {
                guard let length = utf8Length(at: index) else { return false }
                if python {
                    var scalar = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                    for offset in 1..<length { scalar = scalar << 6 | UInt32(input[index + offset] & 0x3F) }
                    writeNonASCII(scalar)
                } else {
                    output.append(UnsafeRawBufferPointer(rebasing: input[index..<(index + length)]))
                }
                index += length
            } else {
                ascii(byte, alphabet)
                index += 1
            }
        }
    }

    /// Whether any of the eight bytes in `word` ends a run of a string's plain bytes: a control
    /// (< 0x20), `"`, `\`, or a byte ≥ 0x80 (UTF-8 to check; python output also escapes 0x7F).
    /// Bitwise tests on all eight at once; they may flag a plain byte only above a flagged one, so
    /// a run is never ended late.
    @inline(__always)
    static func needsLook(_ word: UInt64, python: Bool) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroByte(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        var flagged = (word &- ones &* 0x20) & ~word & highs  // a byte < 0x20
        flagged |= zeroByte(word ^ (ones &* 0x22)) | zeroByte(word ^ (ones &* 0x5C)) | word & highs
        if python { flagged |= zeroByte(word ^ (ones &* 0x7F)) }
        return flagged != 0
    }

    func mapped(_ byte: UInt8, _ alphabet: Alphabet) -> UInt8 {
        switch alphabet {
        case .keep: byte
        case .urlSafe: byte == UInt8(ascii: "+") ? UInt8(ascii: "-") : byte == UInt8(ascii: "/") ? UInt8(ascii: "_") : byte
        case .standard: byte == UInt8(ascii: "-") ? UInt8(ascii: "+") : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte
        }
    }

    /// One decoded ASCII character in the output style.
    mutating func ascii(_ byte: UInt8, _ alphabet: Alphabet) {
        let byte = mapped(byte, alphabet)
        let short = JSONEscape.short(byte)
        if let short {
            output.append(UInt8(ascii: "\\"))
            output.append(short)
        } else if byte < 0x20 || (byte == 0x7F && python) {
            unicodeEscape(UInt16(byte))
        } else {
            output.append(byte)
        }
    }

    /// A scalar above ASCII: raw UTF-8 in compact output, `\uXXXX` escapes in python output.
    mutating func writeNonASCII(_ scalar: UInt32) {
        if python {
            if scalar < 0x10000 {
                unicodeEscape(UInt16(scalar))
            } else {
                let value = scalar - 0x10000
                unicodeEscape(UInt16(0xD800 + (value >> 10)))
                unicodeEscape(UInt16(0xDC00 + (value & 0x3FF)))
            }
        } else if scalar < 0x800 {
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        } else if scalar < 0x10000 {
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        } else {
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | (scalar >> 12) & 0x3F))
            output.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    mutating func unicodeEscape(_ unit: UInt16) { JSONEscape.appendUnicode(unit, to: &output) }

    /// The escape at `index` decoded and written again; a lone surrogate declines (the tree path
    /// refuses it).
    mutating func escape(_ alphabet: Alphabet) -> Bool {
        guard index + 1 < input.count else { return false }
        let escape = input[index + 1]
        index += 2
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): ascii(escape, alphabet)
        case UInt8(ascii: "b"): ascii(0x08, alphabet)
        case UInt8(ascii: "f"): ascii(0x0C, alphabet)
        case UInt8(ascii: "n"): ascii(0x0A, alphabet)
        case UInt8(ascii: "r"): ascii(0x0D, alphabet)
        case UInt8(ascii: "t"): ascii(0x09, alphabet)
        case UInt8(ascii: "u"):
            guard var scalar = hex4(at: index).map(UInt32.init) else { return false }
            index += 4
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < input.count, input[index] == UInt8(ascii: "\\"), input[index + 1] == UInt8(ascii: "u"),
                    let low = hex4(at: index + 2).map(UInt32.init), (0xDC00...0xDFFF).contains(low)
                else { return false }
                index += 6
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                return false
            }
            if scalar < 0x80 { ascii(UInt8(scalar), alphabet) } else { writeNonASCII(scalar) }
        default:
            return false
        }
        return true
    }

    func hex4(at start: Int) -> UInt16? {
        guard start + 4 <= input.count else { return nil }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = input[start + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// The length of the well-formed UTF-8 sequence at `start` (lead byte ≥ 0x80), or `nil`.
    func utf8Length(at start: Int) -> Int? {
        let lead = input[start]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard start + length <= input.count else { return nil }
        let second = input[start + 1]
        guard second >= low, second <= high else { return nil }
        for offset in 2..<max(2, length) where input[start + offset] & 0xC0 != 0x80 { return nil }
        return length
    }
}
