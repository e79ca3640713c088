import SessionModel

// JSON codec: `JSONValue.parse` never crashes or hangs on any bytes, and what it accepts survives
// both writers: compact text reads back to the identical value (literals, key order, strings),
// Python text to an equivalent one, and Python text is a fixed point.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked { [] }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let parsed = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try JSONValue.parse(utf8: raw) } }
    if let text = String(validating: bytes, as: UTF8.self) {
        let fromString = Result { () throws(JSONError) in try JSONValue.parse(text) }
        switch (parsed, fromString) {
        case (.success(let a), .success(let b)) where a == b: break
        case (.failure, .failure): break
        default: fuzzFailure("parse(String) and parse(utf8:) disagree")
        }
        _ = try? JSONValue.parseObject(text)
    }
    guard case .success(let value) = parsed else { return 0 }
    let compact = value.serialized(.compact)
    guard let again = try? JSONValue.parse(compact) else { fuzzFailure("compact output does not parse") }
    guard again == value else { fuzzFailure("compact output parses to a different value") }
    guard value.serializedBytes(.compact) == Array(compact.utf8) else { fuzzFailure("serializedBytes differs from serialized") }
    let python = value.serialized(.python)
    guard let fromPython = try? JSONValue.parse(python) else { fuzzFailure("python output does not parse") }
    guard fromPython.isEquivalent(to: value) else { fuzzFailure("python output parses to a non-equivalent value") }
    guard fromPython.serialized(.python) == python else { fuzzFailure("python output is not a fixed point") }
    var digest = CanonicalDigest()
    digest.feed(value)
    var other = CanonicalDigest()
    other.feed(fromPython)
    guard digest.finalize() == other.finalize() else { fuzzFailure("equivalent values digest differently") }
    return 0
}
