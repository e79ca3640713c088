#if canImport(Glibc)
import Glibc
#endif
import Snapshot

// Snapshot files, byte level: any file handed to restore/copy/diff as a snapshot (a corrupted
// template, truncated, random pages) gives an error, never a crash or hang, and
// `SnapshotReader.check` refuses it with a SnapshotError (see `checkErrorKind`).

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    emitSeedsIfAsked { [FuzzSnapshots.template] }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let path = fuzzScratchDirectory + "/input.db"
    writeFile(path, fuzzBytes(data, size))
    defer { unlink(path) }
    let error = FuzzSnapshots.exercise(path: path, batchSize: 2)
    checkErrorKind(error)
    return 0
}
