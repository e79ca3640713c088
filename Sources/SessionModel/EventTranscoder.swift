#if canImport(Glibc)
    import Glibc
#endif

/// The layout rules a transcoding applies on the way (``CommunityForm``).
public enum EventTransform: Sendable, Hashable {
    /// The text keeps its form (canonical `event_data` in, canonical out).
    case none
    /// A google-adk-community blob event in, canonical out (``CommunityForm/canonicalEvent(_:)``).
    case toCanonical
    /// Canonical in, the community service's form out (``CommunityForm/communityEvent(_:)``).
    case toCommunity
}

/// What a transcoding found at the top of an event: its `id`, `invocation_id` and `timestamp`.
public struct EventTextFields: Sendable, Hashable {
    public var id: String
    /// Empty when the event has no string `invocation_id` (as ``Event/invocationId``).
    public var invocationId: String
    public var timestamp: Double
    /// Compact canonical text only: the community form's text is this same text (no `bytes` field
    /// with `-` or `_`, no float orjson writes otherwise), so a community blob takes it as it is.
    public var communityTextIsSame = false
}

/// Rewrites one event's JSON text into another style and form in a single pass, without building
/// the tree: the same bytes as parsing, transforming (``CommunityForm``) and serializing
/// (``JSONValue/serialized(_:)``), at a third of the cost (docs/DESIGN.md, "Events as text").
///
/// It declines (returns `nil`) wherever it would have to reproduce the tree path's rarer rules:
/// a repeated key, an escaped key or id, a lone surrogate, invalid UTF-8 or JSON, a number that
/// is not finite, nesting deeper than 200, no string `id` or numeric `timestamp` at the top. The
/// caller then takes the tree path, which handles all of them (and names the error).
public enum EventTranscoder {
    /// Appends `input` (one JSON object) to `output` in `style` with `transform` applied and returns
    /// its top-level fields; `nil` (and `output` unchanged) where the tree path must decide.
    /// `keepingLiterals`: also decline where Python's style would re-print a float literal
    /// (`2.50`, `1e-7`), so that the output parses back to exactly the input's value.
    public static func transcode(
        _ input: UnsafeRawBufferPointer, transform: EventTransform, style: JSONStyle, keepingLiterals: Bool = false,
        into output: inout [UInt8]
    ) -> EventTextFields? {
        var transcoder = TranscodingPass(
            input: input, transform: transform, python: style == .python, output: TranscodedBytes(capacity: input.count + input.count / 4 + 64))
        defer { transcoder.output.free() }
        transcoder.keepingLiterals = keepingLiterals && transform == .none
        transcoder.tracksCommunity = transform == .none && style == .compact
        guard let fields = transcoder.run() else { return nil }
        output.append(contentsOf: UnsafeBufferPointer(start: transcoder.output.base, count: transcoder.output.count))
        return fields
    }

    /// The text of `input` in `style` with `transform` applied, with its top-level fields; `nil`
    /// where the tree path must decide (see the type).
    public static func transcode(_ input: String, transform: EventTransform, style: JSONStyle) -> (text: String, fields: EventTextFields)? {
        var input = input
        return input.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
            guard let fields = transcode(UnsafeRawBufferPointer(bytes), transform: transform, style: style, into: &output) else { return nil }
            return (String(decoding: output, as: UTF8.self), fields)
        }
    }
}

/// One pass over one event (see ``EventTranscoder``). Every method returns `false` to decline.
struct TranscodingPass {
    let input: UnsafeRawBufferPointer
    let transform: EventTransform
    let python: Bool
    /// Decline a float literal the output would change (see ``EventTranscoder/transcode(_:transform:style:keepingLiterals:into:)``).
    var keepingLiterals = false
    /// Watch for what ``CommunityForm/communityEvent(_:)`` would change (``EventTextFields/communityTextIsSame``).
    var tracksCommunity = false
    var communityTextIsSame = true
    var output: TranscodedBytes
    var index = 0
    /// Input ranges of the keys of the objects being written, innermost last (repeats decline).
    var keys: [Range<Int>] = []
    var id: String?
    var invocationId: String?
    var timestamp: Double?
    /// The input range of the number ``number()`` wrote last.
    var lastNumber = 0..<0
    static let maxDepth = 200

    init(input: UnsafeRawBufferPointer, transform: EventTransform, python: Bool, output: TranscodedBytes) {
        self.input = input
        self.transform = transform
        self.python = python
        self.output = output
    }

    mutating func run() -> EventTextFields? {
        skipWhitespace()
        guard index < input.count, input[index] == UInt8(ascii: "{") else { return nil }
        guard object(depth: 0, freeForm: false, topLevel: true, inlineData: false) else { return nil }
        skipWhitespace()
        guard index == input.count, let id, let timestamp else { return nil }
        return EventTextFields(
            id: id, invocationId: invocationId ?? "", timestamp: timestamp, communityTextIsSame: tracksCommunity && communityTextIsSame)
    }

    /// Past any whitespace at `index`; the common case (none) without a call.
    @inline(__always)
    mutating func skipWhitespace() {
        if index < input.count, input[index] > 0x20 { return }
        skipWhitespaceRun()
    }

    mutating func skipWhitespaceRun() {
        while index < input.count {
            switch input[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Writes the separator between members or elements in the output style.
    mutating func separator(_ byte: UInt8) {
        output.append(byte)
        if python { output.append(0x20) }
    }

    mutating func value(depth: Int, freeForm: Bool, inlineData: Bool, bytesField: Bool) -> Bool {
        guard depth < Self.maxDepth, index < input.count else { return false }
        switch input[index] {
        case UInt8(ascii: "{"): return object(depth: depth, freeForm: freeForm, topLevel: false, inlineData: inlineData)
        case UInt8(ascii: "["): return array(depth: depth, freeForm: freeForm, inlineData: inlineData)
        case UInt8(ascii: "\""):
            guard bytesField else { return string(alphabet: .keep) }
            if transform != .none { return string(alphabet: transform == .toCommunity ? .standard : .urlSafe) }
            let start = output.count
            guard string(alphabet: .keep) else { return false }
            // Base64 the community form would write in the standard alphabet.
            if output.hasURLSafeBase64(from: start) { communityTextIsSame = false }
            return true
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    mutating func literal(_ text: StaticString) -> Bool {
        guard matchesLiteral(text) else { return false }
        output.append(text)
        index += text.utf8CodeUnitCount
        return true
    }

    func matchesLiteral(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= input.count else { return false }
        for offset in 0..<count where input[index + offset] != text.utf8Start[offset] { return false }
        return true
    }

    mutating func array(depth: Int, freeForm: Bool, inlineData: Bool) -> Bool {
        index += 1
        output.append(UInt8(ascii: "["))
        skipWhitespace()
        if index < input.count, input[index] == UInt8(ascii: "]") {
            index += 1
            output.append(UInt8(ascii: "]"))
            return true
        }
        while true {
            skipWhitespace()
            guard value(depth: depth + 1, freeForm: freeForm, inlineData: inlineData, bytesField: false) else { return false }
            skipWhitespace()
            guard index < input.count else { return false }
            if input[index] == UInt8(ascii: ",") {
                index += 1
                separator(UInt8(ascii: ","))
                continue
            }
            guard input[index] == UInt8(ascii: "]") else { return false }
            index += 1
            output.append(UInt8(ascii: "]"))
            return true
        }
    }

    /// The number at `index` written in the output style (its literal: ``lastNumber``).
    mutating func number() -> Bool {
        let start = index
        if index < input.count, input[index] == UInt8(ascii: "-") { index += 1 }
        guard index < input.count, isDigit(input[index]) else { return false }  // also NaN, Infinity: the tree's
        if input[index] == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
        var integer = true
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            integer = false
            guard index < input.count, isDigit(input[index]) else { return false }
            skipDigits()
        }
        if index < input.count, input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E") {
            index += 1
            integer = false
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") { index += 1 }
            guard index < input.count, isDigit(input[index]) else { return false }
            skipDigits()
        }
        lastNumber = start..<index
        let literal = UnsafeRawBufferPointer(rebasing: input[start..<index])
        if integer || (transform == .none && !python) {
            output.append(literal)
            if tracksCommunity, !integer, communityTextIsSame {
                let community = CommunityForm.orjsonFloat(Self.double(literal))
                if community.map({ !$0.utf8.elementsEqual(literal) }) ?? true { communityTextIsSame = false }
            }
            return true
        }
        let value = Self.double(literal)
        guard value.isFinite else { return false }
        let text = transform == .toCommunity && !python ? CommunityForm.orjsonFloat(value) ?? "" : PythonFloat.repr(value)
        if keepingLiterals, !text.utf8.elementsEqual(literal) { return false }
        output.append(text)
        return true
    }

    /// `strtod` of a validated literal (correctly rounded, as `Double(String)`), without a `String`.
    static func double(_ literal: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: literal.count + 1) { buffer in
            for (offset, byte) in literal.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            buffer[literal.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    mutating func skipDigits() {
        while index < input.count, isDigit(input[index]) { index += 1 }
    }
}
