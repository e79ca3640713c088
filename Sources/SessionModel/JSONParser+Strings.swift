extension JSONParser {
    /// Parses a string literal starting at the opening quote. `\uXXXX` escapes are decoded with
    /// surrogate pairs; a lone surrogate cannot be held by a Swift `String` and is an error.
    mutating func parseString() throws(JSONError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let string = String(validatingUTF8: slice, knownASCII: high < 0x80) else {
                    throw JSONError(offset: start, message: "string is not valid UTF-8")
                }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            high |= byte
            index += 1
        }
        var buffer = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        try parseEscapedRest(of: start, into: &buffer, from: 0)
        return String(decoding: buffer, as: UTF8.self)  // validated
    }

    /// Parses a string literal as ``parseString()`` does (the same escapes, checks and errors) and
    /// appends its UTF-8 bytes to `output` instead of making a `String`.
    mutating func parseString(appendingTo output: inout [UInt8]) throws(JSONError) {
        index += 1
        let start = index
        let first = output.count
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                let typed = slice.assumingMemoryBound(to: UInt8.self)
                if high >= 0x80, (try? UTF8Span(validating: typed.span)) == nil {
                    throw JSONError(offset: start, message: "string is not valid UTF-8")
                }
                output.append(contentsOf: typed)
                return
            }
            if byte == UInt8(ascii: "\\") { break }
            high |= byte
            index += 1
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]).assumingMemoryBound(to: UInt8.self))
        try parseEscapedRest(of: start, into: &output, from: first)
    }

    /// The rest of a string literal starting at `start` from its first backslash on: its bytes, escapes
    /// decoded, appended to `buffer`, and then `buffer[first...]` (the whole string) checked as UTF-8.
    private mutating func parseEscapedRest(of start: Int, into buffer: inout [UInt8], from first: Int) throws(JSONError) {
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                let valid = buffer.withUnsafeBufferPointer { all in
                    (try? UTF8Span(validating: UnsafeBufferPointer(rebasing: all[first...]).span)) != nil
                }
                guard valid else { throw JSONError(offset: start, message: "string is not valid UTF-8") }
                return
            }
            if byte == UInt8(ascii: "\\") {
                try parseEscape(into: &buffer)
            } else {
                buffer.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONError) {
        index += 1
        guard index < bytes.count else { throw error("unterminated escape") }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try parseHex4())
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error("lone high surrogate \\u\(String(scalar, radix: 16)) cannot be stored")
                }
                index += 2
                let low = UInt32(try parseHex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw error("high surrogate not followed by a low one") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("lone low surrogate \\u\(String(scalar, radix: 16)) cannot be stored")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid code point") }
            buffer.append(contentsOf: UTF8.encode(unicode) ?? [])
        default:
            throw error("invalid escape")
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}

extension UTF8 {
    /// The UTF-8 bytes of one scalar.
    static func encode(_ scalar: Unicode.Scalar) -> [UInt8]? {
        var bytes: [UInt8] = []
        UTF8.encode(scalar) { bytes.append($0) }
        return bytes
    }
}

extension String {
    /// The string of these UTF-8 bytes, or `nil` when they are not valid UTF-8 (`knownASCII`: the
    /// caller saw no byte over 0x7F). Not `String(validating:as:)`: it is generic over the encoding
    /// and cost 5× as much per string (a fifth of reading a session); `UTF8Span` validates
    /// without it.
    public init?(validatingUTF8 bytes: UnsafeRawBufferPointer, knownASCII: Bool = false) {
        let buffer = bytes.assumingMemoryBound(to: UInt8.self)
        if knownASCII {
            self = String(decoding: buffer, as: UTF8.self)
            return
        }
        guard let span = try? UTF8Span(validating: buffer.span) else { return nil }
        self = String(copying: span)
    }
}
