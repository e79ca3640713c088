import DriverCore
import SessionModel
import RedisDriver

// Resume tokens (from a journal or the command line): keyset (`k1:`) and Redis SCAN (`s1:`)
// tokens never crash or hang, and every keyset token made from a key reads back as that key.

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked {
        FuzzSamples.sessions.map { Array(ResumeToken.keyset(after: $0.key).utf8) }
            + ["s1:0:0", "s1:1:18446744073709551615:3:0123456789abcdef", "s1:2:0"].map { Array($0.utf8) }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let token = String(decoding: bytes, as: UTF8.self)
    _ = try? ResumeToken.keysetKey(from: token, store: "fuzz")
    for nodes in [1, 3] {
        if let point = try? RedisResumePoint(token: token, nodeCount: nodes) {
            guard (try? RedisResumePoint(token: point.token, nodeCount: nodes)) == point else {
                fuzzFailure("a Redis resume point does not survive its token")
            }
        }
    }
    // The input as a key: three parts split at the first two 0xFF bytes.
    let parts = bytes.split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    if parts.count == 3 {
        let key = SessionKey(appName: parts[0], userId: parts[1], sessionId: parts[2])
        guard (try? ResumeToken.keysetKey(from: ResumeToken.keyset(after: key), store: "fuzz")) == key else {
            fuzzFailure("a keyset token does not read back as its key")
        }
    }
    return 0
}
