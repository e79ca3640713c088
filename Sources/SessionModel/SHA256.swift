import COpenSSL

/// SHA-256 (FIPS 180-4), for session digests in verify, diff and snapshot manifests: Debian's OpenSSL
/// (libcrypto, already linked for the Redis TLS transport), whose SHA-NI/AVX2 code is several times
/// faster than portable Swift; verify and diff hash every event of both stores.
public struct SHA256: @unchecked Sendable {
    // @unchecked: SHA256_CTX is a plain C struct of integers, copied with the value.
    private var context = SHA256_CTX()

    public init() {
        copenssl_sha256_init(&context)
    }

    /// Adds bytes to the hash.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil { update(Array(bytes)) }
    }

    /// Adds raw bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        copenssl_sha256_update(&context, base, bytes.count)
    }

    /// Adds a string's UTF-8 bytes.
    public mutating func update(_ string: String) {
        var string = string
        string.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The 32-byte digest. The hasher is consumed.
    public consuming func finalize() -> [UInt8] {
        var context = self.context
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            copenssl_sha256_final(buffer.baseAddress, &context)
            count = 32
        }
    }

    /// The digest of `bytes` as lowercase hex.
    public static func hex<Bytes: Sequence>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hexString(hasher.finalize())
    }

    /// Lowercase hex of bytes.
    public static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
