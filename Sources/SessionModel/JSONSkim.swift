/// Finds the members of a JSON object and the elements of an array without parsing their values:
/// only the punctuation between them is checked. The caller parses or transcodes each value it
/// keeps (which checks it), so a session blob's events are cut out as text instead of becoming one
/// tree (docs/DESIGN.md, "Events as text"). `nil` wherever the skim is unsure; the caller then
/// parses the whole text, which also names what is wrong.
public enum JSONSkim {
    /// The members of the object `bytes` holds, as (key content, value) byte ranges, in order. Keys
    /// with escapes or bytes above ASCII are `nil` (the caller compares keys as bytes).
    public static func members(_ bytes: UnsafeRawBufferPointer) -> [(key: Range<Int>, value: Range<Int>)]? {
        members(bytes, splitting: nil)?.members
    }

    /// ``members(_:)``, and the elements of the member named `name` (an array, or `nil` elements), found
    /// while skipping it: its bytes are walked once, not once to skip and once to split.
    public static func members(
        _ bytes: UnsafeRawBufferPointer, splitting name: StaticString?
    ) -> (members: [(key: Range<Int>, value: Range<Int>)], elements: [Range<Int>]?)? {
        var split: [Range<Int>]?
        var index = skipWhitespace(bytes, 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index = skipWhitespace(bytes, index + 1)
        var members: [(key: Range<Int>, value: Range<Int>)] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            return skipWhitespace(bytes, index + 1) == bytes.count ? (members, nil) : nil
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index + 1
            index = keyStart
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20, bytes[index] < 0x80 else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            let key = keyStart..<index
            index = skipWhitespace(bytes, index + 1)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index = skipWhitespace(bytes, index + 1)
            let end: Int
            if let name, split == nil, key.count == name.utf8CodeUnitCount,
                UnsafeRawBufferPointer(rebasing: bytes[key]).elementsEqual(UnsafeRawBufferPointer(start: name.utf8Start, count: key.count)),
                index < bytes.count, bytes[index] == UInt8(ascii: "[")
            {
                guard let (elements, arrayEnd) = elements(bytes, from: index) else { return nil }
                split = elements
                end = arrayEnd
            } else {
                guard let valueEnd = skipValue(bytes, index) else { return nil }
                end = valueEnd
            }
            members.append((key, index..<end))
            index = skipWhitespace(bytes, end)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index = skipWhitespace(bytes, index + 1)
                continue
            }
            guard bytes[index] == UInt8(ascii: "}"), skipWhitespace(bytes, index + 1) == bytes.count else { return nil }
            return (members, split)
        }
    }

    /// The element ranges of the array at `range` of `bytes`.
    public static func elements(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> [Range<Int>]? {
        guard let (elements, end) = elements(UnsafeRawBufferPointer(rebasing: bytes[..<range.upperBound]), from: range.lowerBound),
            end == range.upperBound
        else { return nil }
        return elements
    }

    /// The element ranges of the array opening at `start`, and the end of the array.
    static func elements(_ bytes: UnsafeRawBufferPointer, from start: Int) -> ([Range<Int>], Int)? {
        var index = start
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        index = skipWhitespace(bytes, index + 1)
        var elements: [Range<Int>] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { return (elements, index + 1) }
        while true {
            guard let end = skipValue(bytes, index) else { return nil }
            elements.append(index..<end)
            index = skipWhitespace(bytes, end)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index = skipWhitespace(bytes, index + 1)
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { return nil }
            return (elements, index + 1)
        }
    }

    static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// The end of the value starting at `start`: brackets matched (strings skipped), or a scalar's
    /// run of characters up to the next delimiter.
    static func skipValue(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        var index = start
        switch bytes[index] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case UInt8(ascii: "\""):
                    guard let end = skipString(bytes, index) else { return nil }
                    index = end - 1
                default: break
                }
                index += 1
            }
            return nil
        case UInt8(ascii: "\""):
            return skipString(bytes, index)
        default:
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return index > start ? index : nil
                default: index += 1
                }
            }
            return index > start ? index : nil
        }
    }

    /// The end (after the closing quote) of the string opening at `start`.
    static func skipString(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> Int? {
        var index = start + 1
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return index + 1 }
            index += byte == UInt8(ascii: "\\") ? 2 : 1
        }
        return nil
    }
}
