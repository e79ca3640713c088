/// Redis Cluster key → hash slot mapping: the cluster router's, and the `slots` shard function's
/// (``ShardFunction/slots(_:)``), which every store evaluates.
///
/// `HASH_SLOT = CRC16(key) mod 16384`, where only the part between the first `{` and the next
/// `}` is hashed when that part is non-empty (the hash-tag rule).
///
/// Related Redis documentation: <https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags>
public enum RedisHashSlot {
    /// Number of slots in a Redis Cluster.
    public static let count = 16384

    /// The slot `key` lives in.
    public static func slot(of key: some Collection<UInt8>) -> Int {
        Int(crc16(hashedPart(of: Array(key))) & 0x3FFF)
    }

    /// The slot of a UTF-8 key.
    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    /// The bytes that are hashed: the content of the first `{…}` if non-empty, else the whole key.
    public static func hashedPart(of key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection, no final XOR.
    /// `crc16("123456789") == 0x31C3`.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(((crc >> 8) ^ UInt16(byte)) & 0xFF)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
