import DriverCore
import SessionModel
@testable import RedisDriver

// Redis session blobs (both layouts) and state hashes: `SessionBlobCodec` never crashes or hangs;
// a session read from a blob can be digested, written back as either layout's blob, and that
// blob reads again. Input: one byte of flags (layout; blob or state hash), then the bytes.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked {
        FuzzSamples.sessions.flatMap { session in
            [[0] + SessionBlobCodec.encode(session, layout: .community), [1] + SessionBlobCodec.encode(session, layout: .adkRedis)]
        } + [[2, 1, UInt8(ascii: "k"), 3] + Array("1.5".utf8), [3, 2, UInt8(ascii: "a"), UInt8(ascii: "b"), 6] + Array(#"{"x":1}"#.utf8)]
    }
    return 0
}

/// A `HGETALL` reply made of length-prefixed chunks (field, value, field, value, …).
private func hashReply(_ input: inout FuzzInput) -> RedisReply {
    var elements: [RedisReply] = []
    while !input.isAtEnd, elements.count < 64 { elements.append(.string(input.chunk())) }
    return .array(elements)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let flags = input.byte()
    let layout: RedisLayout = flags & 1 == 0 ? .community : .adkRedis
    if flags & 2 != 0 {
        _ = try? SessionBlobCodec.decodeStateHash(hashReply(&input), hashKey: "app:fuzz", layout: layout)
        return 0
    }
    let bytes = input.rest()
    _ = try? SessionBlobCodec.decodeKey(bytes, storageKey: "session:fuzz")
    guard let blob = try? SessionBlobCodec.decode(bytes, storageKey: "session:fuzz", layout: layout) else { return 0 }
    let session = Session(key: blob.key, state: blob.state, events: blob.events, lastUpdateTime: blob.lastUpdateTime)
    fuzzDownstream(session)
    // orjson (the community writer, and ADK's) writes NaN and infinities as null, which no reader
    // takes as a time: such sessions cannot be written readably, by ADK either.
    let finiteTimes = session.lastUpdateTime.isFinite && session.events.allSatisfy { $0.timestamp.isFinite }
    for target in RedisLayout.allCases where finiteTimes || target == .adkRedis {
        let written = SessionBlobCodec.encode(session, layout: target)
        guard (try? SessionBlobCodec.decode(written, storageKey: "session:fuzz", layout: target)) != nil else {
            fuzzFailure("a blob written from a decoded session does not decode (\(target))")
        }
    }
    return 0
}
