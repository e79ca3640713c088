import Testing

@testable import SessionModel

@Suite struct JSONCodecTests {
    @Test(arguments: pythonJSONCases)
    func pythonStyleMatchesJSONDumps(input: String, python: String) throws {
        let value = try JSONValue.parse(input)
        #expect(value.serialized(.python) == python)
    }

    @Test(arguments: pythonJSONCases)
    func roundTripsKeepMeaning(input: String, python: String) throws {
        let value = try JSONValue.parse(input)
        for style in [JSONStyle.python, .compact] {
            let again = try JSONValue.parse(value.serialized(style))
            #expect(again.isEquivalent(to: value))
            // A second round trip is byte-stable.
            #expect(again.serialized(style) == value.serialized(style))
        }
    }

    @Test func numbersKeepTheirForm() throws {
        let value = try JSONValue.parse(#"[1.0, 9007199254740993, 1e-07, 2, -0, 1E5]"#)
        #expect(value.serialized(.compact) == "[1.0,9007199254740993,1e-07,2,-0,1E5]")
        #expect(value.serialized(.python) == "[1.0, 9007199254740993, 1e-07, 2, -0, 100000.0]")
        guard case .array(let numbers) = value else { Issue.record("not an array"); return }
        #expect(numbers[0].isEquivalent(to: .number(JSONNumber(1.0))))
        #expect(!numbers[0].isEquivalent(to: .number(JSONNumber(1))))
        #expect(!numbers[1].isEquivalent(to: try JSONValue.parse("9007199254740992")))
    }

    @Test func stringsKeepEveryCodePoint() throws {
        let text = "e\u{301} 🦆 \u{1} \u{7f} \"/\\ 日本"
        let value = JSONValue.string(text)
        #expect(value.serialized(.python) == #""e\u0301 \ud83e\udd86 \u0001 \u007f \"/\\ \u65e5\u672c""#)
        #expect(value.serialized(.compact) == "\"e\u{301} 🦆 \\u0001 \u{7f} \\\"/\\\\ 日本\"")
        for style in [JSONStyle.python, .compact] {
            #expect(try JSONValue.parse(value.serialized(style)) == value)
        }
    }

    /// `ensure_ascii` escapes every UTF-16 unit outside space…`~` (a surrogate pair for scalars
    /// above the BMP), whatever the scalar's UTF-8 length and wherever it stands in the string.
    @Test func pythonStyleEscapesEveryUTF16Unit() throws {
        func reference(_ text: String) -> String {
            var out = "\""
            for unit in text.utf16 {
                switch unit {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x08: out += "\\b"
                case 0x0C: out += "\\f"
                case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
                default:
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
            return out + "\""
        }
        var scalars = (0..<0x2000).compactMap(Unicode.Scalar.init)
        scalars += stride(from: 0x2000, to: 0x11_0000, by: 97).compactMap { Unicode.Scalar(UInt32($0)) }
        var generator = SystemRandomNumberGenerator()
        for start in stride(from: 0, to: scalars.count, by: 7) {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<min(start + 7, scalars.count)])
            text.append(contentsOf: "ab".unicodeScalars.prefix(Int(generator.next() % 3)))
            let string = String(text)
            #expect(JSONValue.string(string).serialized(.python) == reference(string), "\(Array(string.unicodeScalars.map(\.value)))")
        }
    }

    @Test func objectKeyOrderIsKept() throws {
        let object = try JSONValue.parseObject(#"{"z": 1, "a": {"y": 2, "b": 3}, "m": []}"#)
        #expect(object.keys == ["z", "a", "m"])
        #expect(object.serialized(.compact) == #"{"z":1,"a":{"y":2,"b":3},"m":[]}"#)
        let reordered = try JSONValue.parseObject(#"{"a": {"b": 3, "y": 2}, "m": [], "z": 1}"#)
        #expect(object != reordered)
        #expect(object.isEquivalent(to: reordered))
    }

    @Test func duplicateKeysKeepTheLastValueLikePython() throws {
        let object = try JSONValue.parseObject(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(object.serialized(.python) == #"{"a": 3, "b": 2}"#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"abc", "tru", "[1] 2",
        "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1,}", "nul", "1e", "\"\\u12\"",
    ])
    func malformedInputIsAnError(input: String) {
        #expect(throws: JSONError.self) { try JSONValue.parse(input) }
    }

    @Test func invalidUTF8IsAnError() {
        let bytes: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        #expect(throws: JSONError.self) {
            try bytes.withUnsafeBytes { buffer in _ = try JSONValue.parse(utf8: buffer) }
        }
    }

    /// Strings are validated as UTF-8 on both paths (without escapes, and rebuilt around escapes).
    @Test(
        arguments: [
            ([0xC3, 0xA9], true),  // é
            ([0xF0, 0x9F, 0x98, 0x80], true),  // an emoji, four bytes
            ([0xFF], false), ([0xC3], false),  // not UTF-8; a sequence cut short
            ([0xC0, 0xAF], false),  // an overlong "/"
            ([0xED, 0xA0, 0x80], false),  // a surrogate encoded in UTF-8
            ([0xF4, 0x90, 0x80, 0x80], false),  // above U+10FFFF
        ] as [([UInt8], Bool)])
    func stringsAreValidatedAsUTF8(bytes: [UInt8], valid: Bool) throws {
        for escaped in [false, true] {
            let quote = UInt8(ascii: "\"")
            let body = Array("a".utf8) + bytes + (escaped ? Array(#"\n"#.utf8) : []) + Array("z".utf8)
            let input = [quote] + body + [quote]
            let parsed = input.withUnsafeBytes { buffer in Result { try JSONValue.parse(utf8: buffer) } }
            if valid {
                let expected = String(decoding: Array("a".utf8) + bytes + (escaped ? [0x0A] : []) + Array("z".utf8), as: UTF8.self)
                #expect(try parsed.get() == .string(expected))
            } else {
                #expect(throws: JSONError.self) { try parsed.get() }
            }
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
    }

    @Test(arguments: pythonFloatCases)
    func floatsPrintAsPythonRepr(bits: UInt64, repr: String) {
        #expect(PythonFloat.repr(Double(bitPattern: bits)) == repr)
    }

    @Test func specialFloats() {
        #expect(PythonFloat.repr(.nan) == "NaN")
        #expect(PythonFloat.repr(.infinity) == "Infinity")
        #expect(PythonFloat.repr(-.infinity) == "-Infinity")
    }
}
