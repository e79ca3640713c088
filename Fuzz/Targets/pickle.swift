import ADKPickle
import SessionModel

// Pickle decoder: `PickleDecoder.decode` and `EventActionsPickle.decode` (what the v0 `actions`
// column goes through) never crash or hang, and never escape with anything but a PickleError.
// What decodes is valid JSON, and a pickle written from it decodes again.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked { [] }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    _ = try? PickleDecoder.decode(bytes)
    guard let actions = try? EventActionsPickle.decode(bytes) else { return 0 }
    let text = actions.serialized(.compact)
    guard let reparsed = try? JSONValue.parse(text), reparsed == .object(actions) else {
        fuzzFailure("decoded actions do not survive compact JSON")
    }
    _ = EventActionsPickle.fieldsUnknownToV0Era(actions)
    for version in [4, 5] {
        guard let written = try? EventActionsPickle.encode(actions, protocol: version) else { continue }
        guard (try? EventActionsPickle.decode(written)) != nil else {
            fuzzFailure("a pickle encoded from decoded actions does not decode (protocol \(version))")
        }
    }
    return 0
}
