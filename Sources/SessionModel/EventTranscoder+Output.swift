#if canImport(Glibc)
    import Glibc
#endif

/// The bytes a ``TranscodingPass`` writes: a buffer of its own, grown by doubling, that appends with
/// a bounds test and a store (an `[UInt8]` append also tests that the array is uniquely referenced,
/// and its `append(contentsOf:)` costs about 100 instructions a call, which most strings of an event,
/// 15 bytes on average, paid). ``EventTranscoder`` moves the result into the caller's array and
/// frees the buffer.
struct TranscodedBytes: ByteAppending {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    /// Frees the buffer; the value must not be used afterwards.
    func free() { base.deallocate() }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        count &+= bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Whether a byte from `start` on is `-` or `_` (base64 the community form writes otherwise).
    func hasURLSafeBase64(from start: Int) -> Bool {
        var offset = start
        while offset < count {
            if base[offset] == UInt8(ascii: "-") || base[offset] == UInt8(ascii: "_") { return true }
            offset += 1
        }
        return false
    }

    private mutating func grow(to needed: Int) {
        var larger = capacity * 2
        while larger < needed { larger *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = larger
    }
}
