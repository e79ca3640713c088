/// How JSON text is written.
public enum JSONStyle: Sendable, Hashable {
    /// Python's `json.dumps` defaults, as DatabaseSessionService and google-adk-redis store JSON:
    /// `", "` and `": "` separators, `ensure_ascii` (`\uXXXX`, surrogate pairs above the BMP,
    /// lowercase hex), floats as `repr`.
    case python
    /// Compact UTF-8 as orjson and pydantic's `model_dump_json` write it: no spaces, non-ASCII
    /// raw, only `"`, `\` and control characters escaped; number literals kept as they are.
    case compact
}

extension JSONValue {
    /// This value as JSON text in `style`.
    public func serialized(_ style: JSONStyle) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(1024)  // an event's JSON is mostly under 1 kB: one allocation
        JSONWriter(style: style).write(self, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// This value as UTF-8 JSON bytes in `style`.
    public func serializedBytes(_ style: JSONStyle) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONWriter(style: style).write(self, to: &output)
        return output
    }
}

extension JSONObject {
    /// This object as JSON text in `style`.
    public func serialized(_ style: JSONStyle) -> String { JSONValue.object(self).serialized(style) }
}

private struct JSONWriter {
    let style: JSONStyle

    func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: numberText(number).utf8)
        case .string(let string): writeString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { writeSeparator(to: &output) }
                write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            for (offset, member) in object.members.enumerated() {
                if offset > 0 { writeSeparator(to: &output) }
                writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                if style == .python { output.append(UInt8(ascii: " ")) }
                write(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    func writeSeparator(to output: inout [UInt8]) {
        output.append(UInt8(ascii: ","))
        if style == .python { output.append(UInt8(ascii: " ")) }
    }

    /// Python re-prints floats with `repr`; integers are printed as read (minus redundant signs).
    func numberText(_ number: JSONNumber) -> String {
        guard style == .python, !number.isInteger else { return number.literal }
        return PythonFloat.repr(number.doubleValue)
    }

    func writeString(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        // Runs of bytes that need no escaping are appended whole (most text is such runs); under
        // `ensure_ascii` a non-ASCII scalar is decoded from its UTF-8 bytes where it stands and written
        // as one or two (a surrogate pair) `\uXXXX` UTF-16 escapes, as Python does.
        string.withUTF8 { bytes in
            let python = style == .python
            var runStart = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), !python || byte < 0x7F {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                if !python {
                    writeCompactByte(byte, to: &output)
                    index += 1
                } else if byte < 0x80 {
                    writePythonUnit(UInt16(byte), to: &output)
                    index += 1
                } else {
                    index += writePythonScalar(bytes, at: index, to: &output)
                }
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The non-ASCII scalar whose (valid: a Swift string's) UTF-8 starts at `index`, as `\uXXXX`
    /// escapes of its UTF-16 units; returns its length in bytes.
    func writePythonScalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, to output: inout [UInt8]) -> Int {
        let lead = UInt32(bytes[index])
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var scalar = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length { scalar = scalar << 6 | UInt32(bytes[index + offset] & 0x3F) }
        if scalar < 0x10000 {
            writeUnicodeEscape(UInt16(scalar), to: &output)
        } else {
            let value = scalar - 0x10000
            writeUnicodeEscape(UInt16(0xD800 + (value >> 10)), to: &output)
            writeUnicodeEscape(UInt16(0xDC00 + (value & 0x3FF)), to: &output)
        }
        return length
    }

    func writeCompactByte(_ byte: UInt8, to output: inout [UInt8]) {
        if let short = shortEscape(byte) {
            output.append(UInt8(ascii: "\\"))
            output.append(short)
        } else if byte < 0x20 {
            writeUnicodeEscape(UInt16(byte), to: &output)
        } else {
            output.append(byte)
        }
    }

    /// `ensure_ascii`: everything outside space…`~` except the short escapes becomes `\uXXXX`.
    func writePythonUnit(_ unit: UInt16, to output: inout [UInt8]) {
        if unit < 0x80, let short = shortEscape(UInt8(unit)) {
            output.append(UInt8(ascii: "\\"))
            output.append(short)
        } else if unit >= 0x20 && unit < 0x7F {
            output.append(UInt8(unit))
        } else {
            writeUnicodeEscape(unit, to: &output)
        }
    }

    func shortEscape(_ byte: UInt8) -> UInt8? { JSONEscape.short(byte) }

    func writeUnicodeEscape(_ unit: UInt16, to output: inout [UInt8]) { JSONEscape.appendUnicode(unit, to: &output) }
}

/// The escapes the serializer and ``EventTranscoder`` both write, as Python writes them.
enum JSONEscape {
    /// The letter of `byte`'s two-character escape (`\n` → `n`), if it has one.
    static func short(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""): UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        case 0x0A: UInt8(ascii: "n")
        case 0x0D: UInt8(ascii: "r")
        case 0x09: UInt8(ascii: "t")
        case 0x08: UInt8(ascii: "b")
        case 0x0C: UInt8(ascii: "f")
        default: nil
        }
    }

    /// `\u` and four lowercase hex digits.
    static func appendUnicode<Output: ByteAppending>(_ unit: UInt16, to output: inout Output) {
        output.append(UInt8(ascii: "\\"))
        output.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            let digit = UInt8(truncatingIfNeeded: (unit >> UInt16(shift)) & 0xF)
            output.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
        }
    }
}

/// Where ``JSONEscape`` writes: the serializer's `[UInt8]` and the transcoder's ``TranscodedBytes``.
protocol ByteAppending {
    mutating func append(_ byte: UInt8)
}

extension Array: ByteAppending where Element == UInt8 {}
