#if canImport(Glibc)
import Glibc
#endif

/// Reads a fuzz input as a small program: bytes, length-prefixed chunks, the rest. Past the end
/// every read gives zeros or empty chunks, so any byte string is a valid program.
struct FuzzInput {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        position += 1
        return bytes[position - 1]
    }

    mutating func uint16() -> Int { Int(byte()) << 8 | Int(byte()) }

    mutating func uint64() -> UInt64 { (0..<8).reduce(UInt64(0)) { value, _ in value << 8 | UInt64(byte()) } }

    /// A chunk of up to 255 bytes, its length in the first byte.
    mutating func chunk() -> [UInt8] {
        let count = min(Int(byte()), bytes.count - min(position, bytes.count))
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// Everything not read yet.
    mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }
}

/// Stops the fuzzer with `message`: libFuzzer saves the input as a crash artifact.
func fuzzFailure(_ message: String) -> Never {
    fatalError("fuzz property violated: \(message)")
}

/// The input of one libFuzzer call as bytes.
func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// `FUZZ_EMIT_SEEDS=DIR`: the target writes its generated seed inputs into DIR and exits
/// (`scripts/fuzz seeds TARGET`); called from each target's `LLVMFuzzerInitialize`.
func emitSeedsIfAsked(_ seeds: () -> [[UInt8]]) {
    guard let directory = getenv("FUZZ_EMIT_SEEDS").map({ String(cString: $0) }) else { return }
    for (index, seed) in seeds().enumerated() {
        let path = directory + "/seed-\(index)"
        guard let file = fopen(path, "wb") else { fuzzFailure("cannot write \(path)") }
        _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}

/// Writes `bytes` to `path` (replacing it).
func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let file = fopen(path, "wb") else { fuzzFailure("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

/// The bytes of the file at `path`.
func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fuzzFailure("cannot read \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    return bytes
}

/// A private scratch directory for this process (`FUZZ_TMPDIR`, else /dev/shm, else /tmp).
let fuzzScratchDirectory: String = {
    let base = getenv("FUZZ_TMPDIR").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
    let path = base + "/sessmigrate-fuzz-\(getpid())"
    mkdir(path, 0o700)
    return path
}()
